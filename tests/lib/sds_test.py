"""Helpers shared by the script tests: where the tools are, running them, reading --stats."""
import json
import os
import subprocess
import unittest

BIN_DIR = os.environ.get("SDS_BIN_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build", "release"))
SOURCE_DIR = os.environ.get("SDS_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
DATA_DIR = os.path.join(SOURCE_DIR, "tests", "data")
SHARED_TESTDATA = os.path.abspath(os.path.join(SOURCE_DIR, "..", "shared", "testdata"))


def tool(name):
    """Absolute path of a built tool, e.g. tool('sds-fetch')."""
    return os.path.join(BIN_DIR, name)


def run(args, stdin=None, env=None, timeout=300, **kw):
    """Runs a command; returns CompletedProcess with bytes stdout/stderr."""
    e = dict(os.environ)
    if env:
        e.update(env)
    if isinstance(stdin, str):
        stdin = stdin.encode()
    return subprocess.run(args, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e,
                          timeout=timeout, **kw)


def stats_of(stderr):
    """The --stats JSON line from a tool's stderr (the last line starting with {"tool")."""
    for line in reversed(stderr.decode(errors="replace").splitlines()):
        if line.startswith('{"tool"'):
            return json.loads(line)
    raise AssertionError("no --stats line in stderr:\n" + stderr.decode(errors="replace"))


def ndjson(data):
    return [json.loads(l) for l in data.decode().splitlines() if l.strip()]


class ToolTest(unittest.TestCase):
    def assertConserved(self, stats):
        self.assertEqual(stats["in"], stats["out"] + stats["rejected"] + stats["filtered"], stats)


def nested_record(**fields):
    """nested_record(source__ip="1.2.3.4") -> '{"source":{"ip":"1.2.3.4"}}': "__" nests, as
    sds-normalize's ECS records are nested."""
    doc = {}
    for k, v in fields.items():
        parts = k.split("__")
        d = doc
        for p in parts[:-1]:
            d = d.setdefault(p, {})
        d[parts[-1]] = v
    return json.dumps(doc, ensure_ascii=False)


def main():
    unittest.main(verbosity=2)
