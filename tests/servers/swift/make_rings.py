#!/usr/bin/python3
"""Builds the account, container and object rings of the test cluster.

Usage: /usr/bin/python3 make_rings.py ETC_DIR ACCOUNT_PORT CONTAINER_PORT OBJECT_PORT

One device (127.0.0.1:PORT/d1), one replica, 2^6 partitions per ring; writes
KIND.builder and KIND.ring.gz into ETC_DIR. This is exactly what
    swift-ring-builder KIND.builder create 6 1 0
    swift-ring-builder KIND.builder add r1z1-127.0.0.1:PORT/d1 100
    swift-ring-builder KIND.builder rebalance
does (same library, swift.common.ring.RingBuilder), in one process instead
of nine: each swift-ring-builder run costs ~0.4 s of CPU to start Python.
`swift-ring-builder ETC_DIR/KIND.builder` shows the result.
"""
import os
import sys


def main():
    if len(sys.argv) != 5:
        sys.stderr.write(__doc__)
        return 2
    etc = sys.argv[1]
    from swift.common.ring import RingBuilder
    for kind, port in zip(('account', 'container', 'object'), map(int, sys.argv[2:])):
        builder = RingBuilder(6, 1, 0)
        builder.add_dev({'region': 1, 'zone': 1, 'ip': '127.0.0.1', 'port': port,
                         'replication_ip': '127.0.0.1', 'replication_port': port,
                         'device': 'd1', 'weight': 100, 'meta': ''})
        builder.rebalance()
        builder.get_ring().save(os.path.join(etc, kind + '.ring.gz'))
        builder.save(os.path.join(etc, kind + '.builder'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
