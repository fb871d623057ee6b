#!/usr/bin/env python3
"""Builds the libFuzzer targets (the `fuzz` preset: clang++, ASan+UBSan) into
$SDS_BIN_DIR/fuzz-build and runs each for a bounded number of runs from seed corpora made of
the small files in tests/data and tests/golden plus hand-made shapes (CloudWatch Logs
payloads, gzip, Records, "}{", pretty-printed JSON). Fails on any crash, broken invariant or
sanitizer report. Skips (exit 0, with a message) when clang++ is not installed.

Environment: SDS_RUNS_SCALE (default 1.0) multiplies the run counts."""
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

SRC = os.environ.get("SDS_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("SDS_BIN_DIR", os.path.join(SRC, "build"))
BUILD = os.path.join(BIN, "fuzz-build")
SCALE = float(os.environ.get("SDS_RUNS_SCALE", "1"))

# fuzzer -> (runs, time cap in seconds). Every tests/fuzz/*.cpp is a fuzzer; those not listed
# here (e.g. the text format parsers, formats_*.cpp) get DEFAULT_RUNS and lines from
# tests/data/formats as seeds. Each run of fuzz_fetch / fuzz_ndjson_reader processes its
# input twice (whole and chunked).
FUZZERS = {
    "fuzz_ndjson_reader": (6000, 30),
    "fuzz_fetch": (3000, 30),
    "fuzz_patch": (20000, 20),
    "fuzz_time_ip": (30000, 20),
}
DEFAULT_RUNS = (4000, 10)


def small_files(*dirs, limit=6000):
    out = []
    for d in dirs:
        root = os.path.join(SRC, d)
        for base, _, files in os.walk(root):
            for f in sorted(files):
                p = os.path.join(base, f)
                if f.endswith((".json", ".log", ".ndjson", ".txt", "stdin")) and os.path.getsize(p) <= limit:
                    with open(p, "rb") as fh:
                        out.append(fh.read())
    return out


def cloudwatch(kind="DATA_MESSAGE"):
    return json.dumps({"messageType": kind, "owner": "123456789012", "logGroup": "/aws/lambda/f",
                       "logStream": "s", "subscriptionFilters": ["f"],
                       "logEvents": [{"id": "1", "timestamp": 1700000000000, "message": "hello"},
                                     {"id": "2", "timestamp": 1700000000001, "message": "{\"x\":1}"}]}).encode()


def stream_seeds():
    data = small_files("tests/data/cloudtrail", "tests/data/formats", "tests/golden")
    shapes = [
        b'{"a":1}\n{"b":[1,2]}\r\n\n[1]\n{"c":tru}\nnot json\n{"d":"\xc3\xa9"}',
        b'{"Records":[{"eventID":"1"},{"eventID":"2","x":{"y":"]}"}},3]}',
        b'[{"a":1},\n{"b":\n2}, "s", [1]]\n{"c":3}',
        b'{\n  "a": 1,\n  "b": {"c": "x"}\n}\n{\n"d": 2\n}\n',
        b'{"a":1}{"b":2}{"c":"}{"}\n',
        b'{"awsAccountId":"1","digestStartTime":"x","digestEndTime":"y","logFiles":[]}',
        cloudwatch(), cloudwatch("CONTROL_MESSAGE"),
        b'10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326\nline two\n',
        b'{"Records":[{"a":1},{"b":',
    ]
    seeds = data + shapes
    seeds += [gzip.compress(s) for s in shapes[:3]] + [gzip.compress(cloudwatch()) * 2]
    return seeds


def patch_seeds():
    seeds = []
    for blob in small_files("tests/data/cloudtrail", "tests/golden"):
        for line in blob.splitlines()[:3]:
            line = line.strip()
            if line.startswith(b"{") and len(line) < 3000:
                seeds.append(bytes([4, 4, 2, 1, 5, 7, 0x83, 2, 8]) + line)
    seeds += [bytes([3, 0, 0, 2, 1, 3, 0x83]) + b'{"a":{"b":1},"tags":["x"]}',
              bytes([2, 4, 10, 9, 11]) + b'{"source":{"ip":"1.2.3.4"},"\xc3\xa9":{}}',
              bytes([1, 8, 0x80]) + b'{}']
    return seeds


def time_ip_seeds():
    return [s.encode() for s in [
        "2024-01-02T03:04:05.678Z", "2024-01-02 03:04:05+02:00", "2024-02-29", "0000-01-01T00:30:00+01:00",
        "1700000000", "1700000000.123", "1700000000123", "-1.5", "10/Oct/2000:13:55:36 -0700", "36h", "2w",
        "192.168.1.1", "::ffff:10.0.0.1", "2001:db8::1", "fe80::1%eth0", "10.0.0.0/8", "2001:db8::/32"]]


def prefixed(seeds, control):
    return [control + s for s in seeds]


def main():
    if shutil.which("clang++") is None:
        print("SKIPPED: clang++ is not installed; the libFuzzer targets need it (apt-get install clang)")
        return 0
    t0 = time.time()
    cfg = subprocess.run(["cmake", "-S", SRC, "--preset", "fuzz", "-B", BUILD],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if cfg.returncode != 0:
        print(cfg.stdout)
        print("FAIL: cannot configure the fuzz preset")
        return 1
    build = subprocess.run(["nice", "cmake", "--build", BUILD, "--target", "fuzzers", "-j2"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if build.returncode != 0:
        print(build.stdout[-20000:])
        print("FAIL: cannot build the fuzzers")
        return 1
    print(f"built fuzzers in {time.time() - t0:.0f}s")

    stream = stream_seeds()
    fuzzers = sorted(f[:-4] for f in os.listdir(os.path.join(SRC, "tests", "fuzz")) if f.endswith(".cpp"))
    # Other engineers' targets read lines: text log lines for formats_*, NDJSON for normalize_*.
    text_lines = [l for blob in small_files("tests/data/formats") for l in blob.splitlines() if l.strip()]
    json_lines = [l for blob in small_files("tests/golden/sds-normalize", "tests/data/cloudtrail", limit=20000)
                  for l in blob.splitlines() if l.strip().startswith(b"{") and len(l) < 8000]
    # GuardDuty, Security Hub and Health samples (their golden input) lead the seeds of their
    # targets and of the auto-detecting one, which the first 200 JSON lines would not reach.
    findings = [l for blob in small_files("tests/golden/sds-normalize/findings", limit=200000)
                for l in blob.splitlines() if l.strip().startswith(b"{") and len(l) < 8000]
    corpora = {
        "normalize_auto": findings + json_lines[:200],
        "normalize_guardduty": findings + json_lines[:50],
        "normalize_securityhub": findings + json_lines[:50],
        "normalize_health": findings + json_lines[:50],
        "fuzz_ndjson_reader": prefixed(stream, b"\x05\x20") + prefixed(stream[:5], b"\x00\x02"),
        "fuzz_fetch": prefixed(stream, b"\x47\x40") + prefixed(stream[:5], b"\x02\x01"),
        "fuzz_patch": patch_seeds(),
        "fuzz_time_ip": time_ip_seeds(),
    }
    failed = []
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1",
               UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
    with tempfile.TemporaryDirectory(prefix="sds-fuzz-") as tmp:
        for name in fuzzers:
            runs, cap = FUZZERS.get(name, DEFAULT_RUNS)
            exe = os.path.join(BUILD, "tests", "fuzz", name)
            corpus = os.path.join(tmp, name)
            os.makedirs(corpus)
            default = json_lines[:200] if name.startswith("normalize") else text_lines[:200]
            seeds = corpora.get(name, default or [b"x"])
            for i, seed in enumerate(seeds):
                with open(os.path.join(corpus, f"seed-{i:04d}"), "wb") as f:
                    f.write(seed)
            n = max(100, int(runs * SCALE))
            t1 = time.time()
            r = subprocess.run([exe, f"-runs={n}", f"-max_total_time={cap}", "-max_len=8192",
                                "-timeout=20", "-rss_limit_mb=2560", "-print_final_stats=1",
                                f"-artifact_prefix={tmp}/{name}-", corpus],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                               errors="replace")
            out = r.stdout
            bad = r.returncode != 0 or "ERROR: AddressSanitizer" in out or "runtime error:" in out \
                or "invariant failed" in out or "ERROR: libFuzzer" in out
            execs = [l for l in out.splitlines() if "stat::number_of_executed_units" in l]
            print(f"{name}: {'FAIL' if bad else 'ok'} ({len(seeds)} seeds, "
                  f"{execs[0].split(':')[-1].strip() if execs else '?'} runs, {time.time() - t1:.0f}s)")
            if bad:
                failed.append(name)
                print(out[-15000:])
                for f in os.listdir(tmp):
                    if f.startswith(name + "-"):
                        dest = os.path.join(BUILD, f)
                        shutil.copy(os.path.join(tmp, f), dest)
                        print(f"reproducer kept: {dest}")
    if failed:
        print("FAIL: " + ", ".join(failed))
        return 1
    print(f"all fuzzers clean in {time.time() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
