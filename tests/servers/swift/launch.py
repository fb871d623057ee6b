#!/usr/bin/python3
"""Runs one Swift WSGI server (proxy/account/container/object) for the tests.

Usage: /usr/bin/python3 launch.py SWIFT_CONF LOG_FILE SERVER_CONF APP_SECTION

Why not the stock /usr/bin/swift-*-server scripts:
  * they read the cluster config from the hard-coded /etc/swift/swift.conf; this
    launcher points Swift at the private copy in the state directory instead, so
    the test cluster never depends on (or touches) the machine's /etc/swift;
  * Swift logs only to syslog (/dev/log, else UDP to localhost:514), and CI has
    no syslog daemon; here every log record goes to LOG_FILE instead.
Everything else is the stock code path: swift.common.wsgi.run_wsgi with the
config file, `workers = 0` so each server is exactly one process.
"""
import logging
import sys


def main():
    if len(sys.argv) != 5:
        sys.stderr.write(__doc__)
        return 2
    swift_conf, log_file, server_conf, app_section = sys.argv[1:]

    import swift.common.utils as utils
    # utils read /etc/swift/swift.conf (if any) on import: start over from ours.
    utils.SWIFT_CONF_FILE = swift_conf
    utils.HASH_PATH_PREFIX = utils.HASH_PATH_SUFFIX = b''
    utils.validate_hash_conf()

    class FileLogHandler(logging.FileHandler):
        """Stands in for Swift's syslog handler: same role, writes LOG_FILE."""

        def __init__(self, *args, **kwargs):
            super().__init__(log_file, encoding='utf-8')

    utils.ThreadSafeSysLogHandler = FileLogHandler

    from swift.common import constraints, storage_policy
    constraints.reload_constraints()
    storage_policy.reload_storage_policies()

    from swift.common.wsgi import run_wsgi
    return run_wsgi(server_conf, app_section)


if __name__ == '__main__':
    sys.exit(main())
