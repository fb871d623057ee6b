#!/usr/bin/env python3
"""Seeded login generator after the design of SageMaker's IP Insights tutorial
(`ipinsights_login`): users who log in from a home network and a work network and travel about
3% of the time, Pareto-distributed login counts, spread over 10 days; days 1-7 are for training
and days 8-10 for testing. The tutorial publishes its design, not its code; the specifics here
are ours:

- networks are rows of a real ASN/country table (netdata.py), those of at least a /24;
- home: a row chosen at random; every home login is a random address in that row
  (a dynamic address anywhere in the ISP's announced range);
- work: a row of the same country (another ASN, most of the time); 4 fixed egress addresses,
  one per login at random;
- travel (3% of logins): 70% to one of 2 regular destinations chosen per user (other rows,
  anywhere), 30% to a row chosen at random for that trip;
- login counts: Pareto(alpha=1.5) with the mean given, capped at 30x the mean; times uniform over
  the 10 days.

Records are ECS-like documents as sds-enrich would leave them:
{"@timestamp","event":{"action":"login"},"user":{"name"},"source":{"ip","as":{"number"},
"geo":{"country_iso_code"}}}.

Usage: gen_logins.py OUTDIR [--users N] [--mean-logins M] [--seed S] [--cache DIR]
Writes OUTDIR/train.ndjson, OUTDIR/test.ndjson, OUTDIR/networks.csv and prints a JSON summary.
"""
import argparse
import bisect
import json
import os
import random
import sys
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netdata  # noqa: E402

DAY0 = datetime(2024, 3, 4, tzinfo=timezone.utc)
DAYS, TRAIN_DAYS = 10, 7


def ip_text(x):
    return f"{x >> 24}.{(x >> 16) & 255}.{(x >> 8) & 255}.{x & 255}"


def generate(outdir, users=1000, mean_logins=60, seed=7, cache=None, max_networks=30000):
    rnd = random.Random(seed)
    rows, source = netdata.table(cache or os.path.join(outdir, "cache"))
    rows = [r for r in rows if r[1] - r[0] >= 255]
    if len(rows) > max_networks:
        rows = sorted(rnd.sample(rows, max_networks))
    by_country = {}
    for i, r in enumerate(rows):
        by_country.setdefault(r[3], []).append(i)
    os.makedirs(outdir, exist_ok=True)
    netdata.write_csv(rows, os.path.join(outdir, "networks.csv"))

    def addr_in(row):
        return rnd.randint(row[0], row[1])

    alpha = 1.5
    xm = mean_logins * (alpha - 1) / alpha
    counts = {"train": 0, "test": 0, "travel": 0}
    with open(os.path.join(outdir, "train.ndjson"), "w") as ftrain, open(os.path.join(outdir, "test.ndjson"), "w") as ftest:
        for u in range(users):
            name = f"user_{u:06d}"
            home = rows[rnd.randrange(len(rows))]
            same = by_country[home[3]]
            work = rows[same[rnd.randrange(len(same))]] if len(same) > 1 else rows[rnd.randrange(len(rows))]
            work_ips = [addr_in(work) for _ in range(4)]
            trips = [rows[rnd.randrange(len(rows))] for _ in range(2)]
            n = int(min(xm / (1.0 - rnd.random()) ** (1 / alpha), 30 * mean_logins))
            n = max(n, 1)
            events = []
            for _ in range(n):
                t = DAY0 + timedelta(seconds=rnd.random() * DAYS * 86400)
                p = rnd.random()
                if p < 0.03:
                    row = rnd.choice(trips) if rnd.random() < 0.7 else rows[rnd.randrange(len(rows))]
                    ip = addr_in(row)
                    counts["travel"] += 1
                elif p < 0.03 + 0.55:
                    row, ip = home, addr_in(home)
                else:
                    row, ip = work, rnd.choice(work_ips)
                events.append((t, ip, row))
            events.sort(key=lambda e: e[0])
            for t, ip, row in events:
                rec = {"@timestamp": t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z",
                       "event": {"action": "login"}, "user": {"name": name},
                       "source": {"ip": ip_text(ip), "as": {"number": row[2]}, "geo": {"country_iso_code": row[3]}}}
                split = "train" if (t - DAY0).days < TRAIN_DAYS else "test"
                (ftrain if split == "train" else ftest).write(json.dumps(rec, separators=(",", ":")) + "\n")
                counts[split] += 1
    return {"users": users, "train": counts["train"], "test": counts["test"], "travel": counts["travel"],
            "networks": len(rows), "network_source": source, "seed": seed}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--mean-logins", type=float, default=60)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--cache")
    a = ap.parse_args()
    print(json.dumps(generate(a.outdir, a.users, a.mean_logins, a.seed, a.cache)))


if __name__ == "__main__":
    main()
