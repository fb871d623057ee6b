#!/usr/bin/env python3
"""The committed man pages and completions equal what the tools generate from their option
tables (run scripts/gen-docs.sh BUILD_DIR after changing options or man/*.1.in); every tool has
them; the man pages render without warnings; the completion scripts parse in their shells."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sds_test  # noqa: E402

SRC = sds_test.SOURCE_DIR


def tools():
    return sorted(t for t in os.listdir(sds_test.BIN_DIR)
                  if t.startswith("sds-") and os.access(os.path.join(sds_test.BIN_DIR, t), os.X_OK)
                  and os.path.isfile(os.path.join(sds_test.BIN_DIR, t)))


class Docs(sds_test.ToolTest):
    def test_there_are_tools(self):
        self.assertIn("sds-fetch", tools())

    def test_generated_files_are_fresh(self):
        for t in tools():
            for kind, path in (("man", f"man/{t}.1"), ("bash", f"completions/bash/{t}"),
                               ("zsh", f"completions/zsh/_{t}"), ("fish", f"completions/fish/{t}.fish")):
                r = sds_test.run([sds_test.tool(t), "--generate", kind])
                self.assertEqual(r.returncode, 0)
                full = os.path.join(SRC, path)
                self.assertTrue(os.path.exists(full), f"{path} missing: run scripts/gen-docs.sh")
                with open(full, "rb") as f:
                    committed = f.read()
                self.assertEqual(committed, r.stdout,
                                 f"{path} is stale: run scripts/gen-docs.sh <build dir>")

    def test_every_tool_has_prose_in_its_man_page(self):
        for t in tools():
            self.assertTrue(os.path.exists(os.path.join(SRC, "man", f"{t}.1.in")), t)
            with open(os.path.join(SRC, "man", f"{t}.1")) as f:
                page = f.read()
            for section in (".SH DESCRIPTION", ".SH OPTIONS", ".SH EXIT STATUS", ".SH EXAMPLES"):
                self.assertIn(section, page, f"{t}: {section}")

    def test_man_pages_render_cleanly(self):
        if not shutil.which("groff"):
            self.skipTest("groff not installed")
        for t in tools() + ["sds"]:
            page = os.path.join(SRC, "man", f"{t}.1" if t != "sds" else "sds.7")
            r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", page], capture_output=True)
            # Typographic notes about long unbreakable words are not errors in the page.
            problems = [l for l in r.stderr.decode().splitlines()
                        if "cannot adjust line" not in l and "can't break line" not in l]
            self.assertEqual(problems, [], page)

    def test_completion_scripts_parse(self):
        for t in tools():
            r = subprocess.run(["bash", "-n", os.path.join(SRC, "completions", "bash", t)], capture_output=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            if shutil.which("zsh"):
                r = subprocess.run(["zsh", "-n", os.path.join(SRC, "completions", "zsh", "_" + t)], capture_output=True)
                self.assertEqual(r.returncode, 0, r.stderr)
            if shutil.which("fish"):
                r = subprocess.run(["fish", "-n", os.path.join(SRC, "completions", "fish", t + ".fish")],
                                   capture_output=True)
                self.assertEqual(r.returncode, 0, r.stderr)

    def test_bash_completion_offers_options(self):
        script = os.path.join(SRC, "completions", "bash", "sds-fetch")
        cmd = f'source "{script}"; COMP_WORDS=(sds-fetch --ann); COMP_CWORD=1; _sds_fetch; echo "${{COMPREPLY[@]}}"'
        r = subprocess.run(["bash", "-c", cmd], capture_output=True)
        self.assertEqual(r.stdout.decode().split(), ["--annotate"])


if __name__ == "__main__":
    sds_test.main()
