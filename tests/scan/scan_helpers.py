"""Loopback fixtures for the sds-scan tests: TCP listeners on random free ports of 127.0.0.1 and
::1 (never any other address), optionally sending a banner."""
import socket
import threading

V4, V6 = "127.0.0.1", "::1"


class Listener:
    """A listening socket on a random free port; with `banner`, every accepted connection gets it."""

    def __init__(self, host=V4, banner=None):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.banner = banner
        self._stop = False
        if banner is not None:
            self.thread = threading.Thread(target=self._serve, daemon=True)
            self.thread.start()

    def _serve(self):
        while not self._stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            try:
                c.sendall(self.banner)
            except OSError:
                pass
            c.close()

    def close(self):
        self._stop = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def closed_ports(host, n, avoid=()):
    """n ports of `host` nobody listens on (bound, then released)."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    out = []
    while len(out) < n:
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.bind((host, 0))
        p = s.getsockname()[1]
        s.close()
        if p not in avoid and p not in out:
            out.append(p)
    return out
