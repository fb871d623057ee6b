#!/usr/bin/env python3
"""Golden CLI cases: tests/golden/<tool>/<case>/ holds
     args              the command line after the tool name (shell words; run in the case folder;
                       {data} = tests/data, {shared} = ../shared/testdata)
     stdin             (optional) fed to standard input
     expected.stdout   records written
     expected.dead     dead-letter lines, with their @timestamp removed
     expected.exit     exit code
     requires          (optional) paths that must exist (e.g. {shared}/ecs-pipeline), else skipped
   SDS_GOLDEN_UPDATE=1 rewrites the expected files from what the tools do now (on purpose)."""
import json
import os
import shlex
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sds_test  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
UPDATE = os.environ.get("SDS_GOLDEN_UPDATE") == "1"


def expand(s):
    return s.replace("{data}", sds_test.DATA_DIR).replace("{shared}", sds_test.SHARED_TESTDATA)


def strip_timestamps(dead):
    out = []
    for line in dead.decode(errors="replace").splitlines():
        d = json.loads(line)
        d.pop("@timestamp", None)
        out.append(json.dumps(d, sort_keys=True))
    return ("\n".join(out) + "\n") if out else ""


class Golden(unittest.TestCase):
    pass


def make_case(tool_name, case_dir):
    def test(self):
        req = os.path.join(case_dir, "requires")
        if os.path.exists(req):
            for p in open(req).read().split():
                if not os.path.exists(expand(p)):
                    self.skipTest(f"needs {expand(p)} (absent)")
        args = shlex.split(expand(open(os.path.join(case_dir, "args")).read().strip()))
        stdin_path = os.path.join(case_dir, "stdin")
        stdin = open(stdin_path, "rb").read() if os.path.exists(stdin_path) else b""
        with tempfile.TemporaryDirectory() as tmp:
            dead_path = os.path.join(tmp, "dead.ndjson")
            r = sds_test.run([sds_test.tool(tool_name), "--dead-letter", dead_path] + args, stdin=stdin,
                             cwd=case_dir, env={"SDS_NOW": "2024-01-01T00:00:00.000Z"})
            dead = strip_timestamps(open(dead_path, "rb").read()) if os.path.exists(dead_path) else ""
        got = {"expected.stdout": r.stdout.decode(errors="replace"), "expected.dead": dead,
               "expected.exit": f"{r.returncode}\n"}
        for name, value in got.items():
            path = os.path.join(case_dir, name)
            if UPDATE:
                with open(path, "w") as f:
                    f.write(value)
                continue
            want = open(path).read() if os.path.exists(path) else ""
            self.assertEqual(want, value, f"{tool_name}/{os.path.basename(case_dir)}: {name} differs "
                                          f"(stderr: {r.stderr.decode(errors='replace')[-2000:]})")
    return test


for tool_name in sorted(os.listdir(HERE)):
    tdir = os.path.join(HERE, tool_name)
    if not os.path.isdir(tdir) or not tool_name.startswith("sds-"):
        continue
    for case in sorted(os.listdir(tdir)):
        cdir = os.path.join(tdir, case)
        # Cases in this runner's layout have expected.exit (sds-normalize's own runner uses another).
        if os.path.exists(os.path.join(cdir, "args")) and os.path.exists(os.path.join(cdir, "expected.exit")):
            setattr(Golden, f"test_{tool_name}_{case}".replace("-", "_"), make_case(tool_name, cdir))

if __name__ == "__main__":
    sds_test.main()
