#!/usr/bin/env python3
"""sds-score at the IP Insights tutorial's full scale (reports only, never a test).

Generates the tutorial-design data with tests/score/gen_logins.py (default 10,000 users x 300
logins on average = ~3M logins, 7 days to train, 3 to test), then measures:
  - training: wall and CPU time, pairs x epochs per second, peak RSS; the time 4M pairs x 5 epochs
    would take at that rate; against the tutorial's published ~1.5 min per epoch for ~3M records
    on a p3.2xlarge GPU instance;
  - quality: `sds-score eval` (AUC, TPR at 1%/0.1% FPR) with the /16 novelty baseline;
  - scoring: records per second and per CPU-second (one thread), peak RSS.
Usage: python3 tests/bench/score/bench_score.py [--users N] [--mean-logins M] [--bin BUILD_DIR]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "score"))
import gen_logins  # noqa: E402

TUTORIAL_SECONDS_PER_EPOCH = 90.0  # ~1.5 min per epoch, ~3M records, p3.2xlarge (published)


def measure(cmd, stdout=subprocess.DEVNULL):
    """Wall and CPU time of `cmd` (from wait4) and its peak RSS. The RSS comes from /usr/bin/time,
    a small parent: a child forked from this Python process would report Python's own peak, which
    Linux carries across exec into the child's ru_maxrss."""
    with tempfile.NamedTemporaryFile(mode="r") as tf:
        t0 = time.monotonic()
        p = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", tf.name] + cmd, stdout=stdout, stderr=subprocess.PIPE)
        err = p.stderr.read()
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - t0
        rss_kb = int(tf.read().split()[-1]) if p.returncode in (0, 1) else 0
    if p.returncode not in (0, 1):
        sys.exit(f"{cmd[0]} failed ({p.returncode}): {err.decode()}")
    stats = {}
    for line in err.decode().splitlines():
        if line.startswith('{"tool"'):
            stats = json.loads(line)
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss_mb": rss_kb / 1024, "stats": stats}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=10000)
    ap.add_argument("--mean-logins", type=float, default=300)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "release"))
    ap.add_argument("--workdir")
    a = ap.parse_args()
    score = os.path.join(a.bin, "sds-score")
    work = a.workdir or tempfile.mkdtemp(prefix="bench-score-")
    t0 = time.monotonic()
    summary = gen_logins.generate(work, a.users, a.mean_logins, a.seed, cache=os.path.join(a.bin, "score-cache"))
    print(f"generated in {time.monotonic() - t0:.0f} s: {json.dumps(summary)}", flush=True)
    model = os.path.join(work, "m.model")
    tr = measure([score, "train", "--entity", "user.name", "--ip", "source.ip", "-o", model, "--stats",
                  os.path.join(work, "train.ndjson")])
    pairs, epochs = tr["stats"]["pairs"], 5
    fit = tr["stats"]["train_seconds"]
    rate = pairs * epochs / fit
    print(f"train: {pairs} pairs ({tr['stats']['distinct_pairs']} distinct) x {epochs} epochs: fit {fit:.1f} s, "
          f"whole run {tr['wall']:.1f} s wall / {tr['cpu']:.1f} s CPU, peak RSS {tr['rss_mb']:.0f} MB; "
          f"{rate / 1e6:.2f} M pair-epochs/s", flush=True)
    four_m = 4e6 * 5 / rate
    per_epoch_3m = 3e6 / rate
    print(f"  4M pairs x 5 epochs at this rate: {four_m:.1f} s (target <= 60 s); "
          f"per epoch of 3M pairs: {per_epoch_3m:.1f} s vs the tutorial's ~{TUTORIAL_SECONDS_PER_EPOCH:.0f} s on a "
          f"p3.2xlarge GPU: {TUTORIAL_SECONDS_PER_EPOCH / per_epoch_3m:.1f}x", flush=True)
    ev = subprocess.run([score, "eval", "--model", model, "--networks", os.path.join(work, "networks.csv"),
                         os.path.join(work, "test.ndjson")], stdout=subprocess.PIPE, check=True)
    report = json.loads(ev.stdout)
    for kind, m in report["negatives"].items():
        b = m["baseline_prefix16"]
        print(f"eval {kind}: AUC {m['auc']:.4f} (baseline /16 {b['auc']:.4f}), TPR@1%FPR {m['tpr_at_1pct_fpr']:.3f} "
              f"(baseline {b['tpr_at_1pct_fpr']:.3f}), TPR@0.1%FPR {m['tpr_at_0.1pct_fpr']:.3f} "
              f"(baseline {b['tpr_at_0.1pct_fpr']:.3f})", flush=True)
    sc = measure([score, "--model", model, "--stats", "-o", "/dev/null", os.path.join(work, "test.ndjson")])
    n = sc["stats"]["in"]
    print(f"score: {n} records in {sc['wall']:.2f} s wall / {sc['cpu']:.2f} s CPU: {n / sc['wall'] / 1e6:.2f} M records/s, "
          f"{n / sc['cpu'] / 1e6:.2f} M records per CPU-second (target >= 1 M/s per core); peak RSS {sc['rss_mb']:.0f} MB")
    print(json.dumps({"data": summary, "train": tr, "eval": report, "score": sc}, default=str))


if __name__ == "__main__":
    main()
