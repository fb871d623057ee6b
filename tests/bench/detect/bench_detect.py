#!/usr/bin/env python3
"""sds-score detections: N CloudTrail records (default 1M, seeded, realistic mix from the fetch
bench's generator) through all 57 SigmaHQ CloudTrail rules + the built-in pack, against the same
stream through sds-score with a single rule that can never be dispatched (the floor: read, parse,
write). Prints events/s of both, the ratio (goal >= 0.5) and peak RSS."""
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


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--records", type=int, default=1_000_000)
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
                f.write(json.dumps(bench_fetch.record(rng, "123456789012", t), separators=(",", ":")) + "\n")
        floor = os.path.join(tmp, "floor.yml")
        open(floor, "w").write(FLOOR_RULE)
        cpu = []
        t_floor, rss_floor = lib_bench.measure(f'"{score}" --sigma "{floor}" < "{data}" > /dev/null', 1, cpu)
        t_rules, rss_rules = lib_bench.measure(
            f'"{score}" --sigma "{sigma}" --builtin-rules < "{data}" > /dev/null', 1, cpu)
        print(json.dumps({"bench": "sds-score detections", "records": a.records, "rules": 64,
                          "floor_events_per_s": round(a.records / t_floor), "rules_events_per_s": round(a.records / t_rules),
                          "ratio": round(t_floor / t_rules, 2), "cpu_ratio": round(cpu[0] / cpu[1], 2),
                          "peak_rss_mb": {"floor": round(rss_floor / 1024, 1), "rules": round(rss_rules / 1024, 1)}}))


if __name__ == "__main__":
    main()
