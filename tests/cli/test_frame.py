#!/usr/bin/env python3
"""The shared CLI frame, seen through sds-fetch: --stats fields, progress only when asked or on a
terminal, config/env precedence, size options, and `cmake --install` laying out the tools, man
pages and completions."""
import json
import os
import pty
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sds_test  # noqa: E402
from sds_test import run, stats_of, tool  # noqa: E402

FETCH = tool("sds-fetch")
LINES = b"".join(b'{"n":%d}\n' % i for i in range(5000))


class Frame(sds_test.ToolTest):
    def test_stats_line_has_exactly_the_documented_fields(self):
        r = run([FETCH, "--stats"], stdin=LINES)
        s = stats_of(r.stderr)
        self.assertEqual(set(s), {"tool", "in", "out", "rejected", "filtered", "bytes_in", "bytes_out", "seconds"})
        self.assertEqual((s["tool"], s["in"], s["out"], s["bytes_in"], s["bytes_out"]),
                         ("sds-fetch", 5000, 5000, len(LINES), len(LINES)))

    def test_quiet_on_success_in_a_pipe(self):
        r = run([FETCH], stdin=LINES)
        self.assertEqual((r.returncode, r.stderr), (0, b""))

    def test_progress_only_when_asked_in_a_pipe(self):
        p = subprocess.Popen([FETCH, "--progress"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
        p.stdin.write(LINES)
        p.stdin.flush()
        time.sleep(0.6)
        p.stdin.write(LINES)
        p.stdin.close()
        err = p.stderr.read()
        self.assertEqual(p.wait(), 0)
        self.assertIn(b"\r", err)
        self.assertIn(b"sds-fetch: ", err)
        self.assertIn(b" in, ", err)

    def test_progress_drawn_when_stderr_is_a_terminal(self):
        master, slave = pty.openpty()
        try:
            # Input arrives over more than the 250 ms between two progress draws.
            p = subprocess.Popen([FETCH], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=slave)
            for _ in range(4):
                p.stdin.write(LINES)
                p.stdin.flush()
                time.sleep(0.2)
            p.stdin.close()
            self.assertEqual(p.wait(timeout=60), 0)
            os.close(slave)
            slave = None
            seen = b""
            while True:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
            self.assertIn(b"in,", seen)
        finally:
            os.close(master)
            if slave is not None:
                os.close(slave)

    def test_a_full_stderr_never_crashes_a_tool(self):
        """Diagnostics are best-effort; dead letters are data: on a full stderr a run whose dead
        letters go there ends with exit 3 (records lost), one whose dead letters go to a file
        ends as usual, and no tool dies of a signal."""
        garbage = b'not json\n{"user":{"name":"a"},"source":{"ip":"1.2.3.4"},"@timestamp":"2024-01-01T00:00:00Z"}\n'
        # (tool, arguments, dead letters): sds-normalize knows no format in the second line either;
        # sds-fetch frames any line.
        tools = [(tool("sds-normalize"), [], 2), (tool("sds-enrich"), [], 1),
                 (tool("sds-score"), ["--learn", "--entity", "user.name", "--ip", "source.ip"], 1), (FETCH, [], 0)]
        with open("/dev/full", "wb") as full, tempfile.TemporaryDirectory() as d:
            for exe, args, rejects in tools:
                name = os.path.basename(exe)
                p = subprocess.run([exe, "-v"] + args, input=garbage, stdout=subprocess.DEVNULL, stderr=full)
                self.assertEqual(p.returncode, 3 if rejects else 0, name)
                dl = os.path.join(d, name + ".dl")
                p = subprocess.run([exe, "-v", "--dead-letter", dl] + args, input=garbage, stdout=subprocess.DEVNULL,
                                   stderr=full)
                self.assertEqual(p.returncode, 1 if rejects else 0, name)
                with open(dl, "rb") as f:
                    self.assertEqual(len(f.read().splitlines()), rejects, name)

    def test_command_line_beats_environment_and_sizes_parse(self):
        big = b'{"x":"' + b"a" * 100 + b'"}\n'
        r = run([FETCH, "--stats"], stdin=big, env={"SDS_MAX_RECORD_BYTES": "64"})
        self.assertEqual(stats_of(r.stderr)["rejected"], 1)
        r = run([FETCH, "--stats", "--max-record-bytes", "1k"], stdin=big, env={"SDS_MAX_RECORD_BYTES": "64"})
        self.assertEqual(stats_of(r.stderr)["rejected"], 0)
        r = run([FETCH, "--max-record-bytes", "lots"], stdin=big)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"invalid size", r.stderr)

    def test_unknown_config_key_is_a_usage_error(self):
        with tempfile.NamedTemporaryFile("w", suffix=".toml") as f:
            f.write("no_such_option = 1\n")
            f.flush()
            r = run([FETCH, "--config", f.name], stdin=b"")
            self.assertEqual(r.returncode, 2)

    def test_install_lays_out_binaries_man_pages_and_completions(self):
        with tempfile.TemporaryDirectory() as prefix:
            r = run(["cmake", "--install", sds_test.BIN_DIR, "--prefix", prefix])
            self.assertEqual(r.returncode, 0, r.stderr)
            for p in ("bin/sds-fetch", "share/man/man1/sds-fetch.1", "share/man/man7/sds.7",
                      "share/bash-completion/completions/sds-fetch", "share/zsh/vendor-completions/_sds-fetch",
                      "share/fish/vendor_completions.d/sds-fetch.fish"):
                self.assertTrue(os.path.exists(os.path.join(prefix, p)), p)
            r = run([os.path.join(prefix, "bin", "sds-fetch")], stdin=b'{"a":1}\n')
            self.assertEqual(r.stdout, b'{"a":1}\n')


if __name__ == "__main__":
    sds_test.main()
