"""Shared bench helpers: timing a shell pipeline and reading its peak RSS via /usr/bin/time."""
import os
import re
import subprocess
import tempfile
import time


def measure(cmd, repeat=1, cpu=None):
    """Runs a bash command under /usr/bin/time -v; returns (best wall seconds, max RSS KiB).
    When `cpu` is a list, the best user+system CPU seconds of the whole pipeline is appended to
    it (a fairer figure than wall time on a machine shared with other work)."""
    best, rss, best_cpu = None, 0, None
    for _ in range(repeat):
        with tempfile.NamedTemporaryFile(mode="r") as tf:
            t0 = time.perf_counter()
            subprocess.run(["/usr/bin/time", "-v", "-o", tf.name, "bash", "-c", cmd], check=True,
                           stdout=subprocess.DEVNULL)
            dt = time.perf_counter() - t0
            text = tf.read()
            m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
            rss = max(rss, int(m.group(1)) if m else 0)
            u = float(re.search(r"User time \(seconds\): ([\d.]+)", text).group(1))
            s_ = float(re.search(r"System time \(seconds\): ([\d.]+)", text).group(1))
            best_cpu = u + s_ if best_cpu is None else min(best_cpu, u + s_)
        best = dt if best is None else min(best, dt)
    if cpu is not None:
        cpu.append(best_cpu)
    return best, rss


def peak_rss_of(argv, stdin_path=None):
    """Peak RSS (KiB) of one process."""
    with tempfile.NamedTemporaryFile(mode="r") as tf:
        stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
        subprocess.run(["/usr/bin/time", "-v", "-o", tf.name] + argv, check=True, stdin=stdin,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", tf.read())
        return int(m.group(1))


def bin_dir():
    return os.environ.get("SDS_BIN_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build", "release"))
