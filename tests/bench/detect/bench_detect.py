#!/usr/bin/env python3
"""sds-score detections: N CloudTrail records (default 1M, seeded) through all 57 SigmaHQ
CloudTrail rules + the built-in pack, against the same stream through sds-score with a single rule
that can never be dispatched (the floor: read, parse, write). Prints events/s of both, the ratio
(goal >= 0.5), CPU ratio, peak RSS and the share of records that raised an alert.

The mix of records (--mix):
  fetch   the fetch bench's generator as it is: half the records come from an AssumedRole session
          issued by a Role, which SigmaHQ's "AWS STS AssumeRole Misuse" (level low) flags, so about
          half of the stream alerts. The original figure of this bench; the default.
  shared  the same records with the identity types in the proportions of the shared CloudTrail
          test data (testdata/cloudtrail: 413 events, 79% IAMUser, 19% AssumedRole by a Role, 1%
          AWSService, 0.2% FederatedUser), so about a fifth alerts. Those logs are attack
          detonations run as an IAM user; production accounts where most calls come from assumed
          roles sit nearer the fetch mix, which is why both are reported."""
import argparse
import json
import os
import random
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fetch"))
import bench_fetch  # noqa: E402
import lib_bench  # noqa: E402

FLOOR_RULE = """title: floor
id: 00000000-0000-0000-0000-000000000000
logsource: {product: aws, service: cloudtrail}
detection:
  s: {eventName: NeverCalledByAnyone}
  condition: s
level: low
"""


# Identity types of the shared test data (tests/bench/detect docstring): cumulative shares.
SHARED_IDENTITIES = [(0.794, "IAMUser"), (0.985, "AssumedRole"), (0.997, "AWSService"), (1.0, "FederatedUser")]


def shared_identity(rng, r):
    """Re-draws the record's identity type with the shared test data's proportions."""
    x = rng.random()
    kind = next(k for p, k in SHARED_IDENTITIES if x < p)
    ui = r["userIdentity"]
    acct = ui["accountId"]
    user = ui["arn"].rsplit("/", 1)[-1]
    if kind == "AssumedRole" and ui["type"] == "AssumedRole":
        return
    if kind == "AssumedRole":
        r["userIdentity"] = {
            "type": "AssumedRole", "principalId": f"AROA{rng.randrange(10**12):012d}:{user}",
            "arn": f"arn:aws:sts::{acct}:assumed-role/Admin/{user}", "accountId": acct,
            "accessKeyId": f"ASIA{rng.randrange(10**12):016d}",
            "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLE",
                                                 "arn": f"arn:aws:iam::{acct}:role/Admin", "accountId": acct,
                                                 "userName": "Admin"},
                               "attributes": {"creationDate": r["eventTime"], "mfaAuthenticated": "false"}}}
    elif kind == "IAMUser":
        r["userIdentity"] = {"type": "IAMUser", "principalId": f"AIDA{rng.randrange(10**12):012d}",
                             "arn": f"arn:aws:iam::{acct}:user/{user}", "accountId": acct,
                             "accessKeyId": f"AKIA{rng.randrange(10**12):016d}", "userName": user}
    elif kind == "AWSService":
        r["userIdentity"] = {"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}
    else:
        r["userIdentity"] = {"type": "FederatedUser", "principalId": f"{acct}:{user}",
                             "arn": f"arn:aws:sts::{acct}:federated-user/{user}", "accountId": acct,
                             "accessKeyId": f"ASIA{rng.randrange(10**12):016d}"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--mix", choices=["fetch", "shared"], default="fetch", help="record mix (see above)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each side; the best wall and CPU times count")
    a = ap.parse_args()
    src = os.path.join(os.path.dirname(__file__), "..", "..", "..")
    sigma = os.path.join(src, "tests", "data", "sigma", "rules-cloud-aws-cloudtrail")
    score = os.path.join(lib_bench.bin_dir(), "sds-score")
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "ct.ndjson")
        with open(data, "w") as f:
            for i in range(a.records):
                t = f"2024-03-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z"
                r = bench_fetch.record(rng, "123456789012", t)
                if a.mix == "shared":
                    shared_identity(rng, r)
                f.write(json.dumps(r, separators=(",", ":")) + "\n")
        floor = os.path.join(tmp, "floor.yml")
        open(floor, "w").write(FLOOR_RULE)
        cpu = []
        t_floor, rss_floor = lib_bench.measure(f'"{score}" --sigma "{floor}" < "{data}" > /dev/null', a.repeat, cpu)
        stats = os.path.join(tmp, "stats")
        t_rules, rss_rules = lib_bench.measure(
            f'"{score}" --sigma "{sigma}" --builtin-rules --stats < "{data}" > /dev/null 2> "{stats}"', a.repeat, cpu)
        alerts = next(json.loads(l) for l in open(stats) if l.startswith('{"tool"'))["alerts"]
        print(json.dumps({"bench": "sds-score detections", "records": a.records, "rules": 64, "mix": a.mix, "repeat": a.repeat,
                          "alerting_share": round(alerts / a.records, 3),
                          "floor_events_per_s": round(a.records / t_floor), "rules_events_per_s": round(a.records / t_rules),
                          "ratio": round(t_floor / t_rules, 2), "cpu_ratio": round(cpu[0] / cpu[1], 2),
                          "peak_rss_mb": {"floor": round(rss_floor / 1024, 1), "rules": round(rss_rules / 1024, 1)}}))


if __name__ == "__main__":
    main()
