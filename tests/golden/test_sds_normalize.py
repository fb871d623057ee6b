"""Golden tests for sds-normalize: every tests/golden/sds-normalize/<case>/ holds
  input.ndjson            the raw records
  args                    extra command-line arguments, one per line (optional)
  expected.ndjson         the documents sds-normalize must write
  expected-dead-letter.ndjson  the dead letters (their wall-clock "@timestamp" left out)
  exit-code               the exit status
The tool runs inside the case folder with --ingested-time fixed, so output is reproducible.
SDS_GOLDEN_UPDATE=1 rewrites the expected files from the current output (review the diff!)."""
import json
import os
import subprocess
import sys
import tempfile

BIN = os.environ.get("SDS_BIN_DIR", "build")
SRC = os.environ.get("SDS_SOURCE_DIR", ".")
TOOL = os.path.join(BIN, "sds-normalize")
ROOT = os.path.join(SRC, "tests", "golden", "sds-normalize")
UPDATE = os.environ.get("SDS_GOLDEN_UPDATE") == "1"
INGESTED = "2025-01-01T00:00:00.000Z"


def dead_letters(text):
    out = []
    for line in text.splitlines():
        d = json.loads(line)
        d.pop("@timestamp", None)
        out.append(json.dumps(d, sort_keys=True, ensure_ascii=False))
    return "".join(l + "\n" for l in out)


def run_case(case):
    folder = os.path.join(ROOT, case)
    args = []
    if os.path.exists(os.path.join(folder, "args")):
        with open(os.path.join(folder, "args")) as f:
            args = [l.rstrip("\n") for l in f if l.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        dl = os.path.join(tmp, "dead.ndjson")
        p = subprocess.run([os.path.abspath(TOOL), "--ingested-time", INGESTED, "--dead-letter", dl, "--stats",
                            *args, "input.ndjson"], cwd=folder, capture_output=True, text=True)
        with open(dl) as f:
            dead = dead_letters(f.read())
    stats = json.loads(p.stderr.strip().splitlines()[-1])
    failures = []
    if stats["in"] != stats["out"] + stats["rejected"] + stats["filtered"]:
        failures.append(f"conservation broken: {stats}")
    got = {"expected.ndjson": p.stdout, "expected-dead-letter.ndjson": dead, "exit-code": f"{p.returncode}\n"}
    for name, text in got.items():
        path = os.path.join(folder, name)
        if UPDATE:
            with open(path, "w") as f:
                f.write(text)
            continue
        if not os.path.exists(path):
            failures.append(f"{name} missing (run with SDS_GOLDEN_UPDATE=1)")
            continue
        with open(path) as f:
            want = f.read()
        if want != text:
            wl, gl = want.splitlines(), text.splitlines()
            first = next((i for i in range(max(len(wl), len(gl)))
                          if i >= len(wl) or i >= len(gl) or wl[i] != gl[i]), 0)
            failures.append(f"{name} differs at line {first + 1}:\n  want {wl[first] if first < len(wl) else '<none>'}"
                            f"\n  got  {gl[first] if first < len(gl) else '<none>'}")
    return failures


def main():
    if not os.path.exists(TOOL):
        print(f"sds-normalize not built at {TOOL}")
        return 1
    cases = sorted(d for d in os.listdir(ROOT) if os.path.isdir(os.path.join(ROOT, d)))
    bad = 0
    for case in cases:
        failures = run_case(case)
        print(f"{'FAIL' if failures else 'ok  '} {case}")
        for f in failures:
            print("     " + f)
        bad += bool(failures)
    if not cases:
        print("no golden cases")
        return 1
    print(f"{len(cases) - bad}/{len(cases)} golden cases pass" + (" (expected files rewritten)" if UPDATE else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
