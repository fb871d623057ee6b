"""The network table for the login generator and for `sds-score eval --networks`.

Real data: the IPv4 ASN table of the npm package @ip-location-db/asn (RouteViews and DB-IP,
CC BY 4.0: attribution to routeviews.org and DB-IP.com) joined with the IPv4 country table of
@ip-location-db/geo-whois-asn-country (CC0-1.0; built from NRO statistics, CC BY 4.0), both at
the pinned version below. They are fetched with `npm pack` into a cache under the build folder
the first time (about 30 MB of download; only the two IPv4 "-num" CSVs are kept, about 30 MB
unpacked), then reused.

When npm or the registry is not reachable, a synthetic table is used instead and the callers
say so: 4,000 networks (/24 to /16 sized, in 1.0.0.0-223.255.255.255 outside private ranges),
each with its own ASN, in 60 countries with a skewed size distribution; seeded, so it is the same
everywhere.
"""
import bisect
import csv
import io
import os
import random
import shutil
import subprocess
import tarfile

VERSION = "2.3.2026061719"
PACKAGES = {
    "asn": (f"@ip-location-db/asn@{VERSION}", "package/asn-ipv4-num.csv"),
    "country": (f"@ip-location-db/geo-whois-asn-country@{VERSION}", "package/geo-whois-asn-country-ipv4-num.csv"),
}
LICENCE = ("ASN: @ip-location-db/asn {v} (RouteViews, DB-IP; CC BY 4.0); country: "
           "@ip-location-db/geo-whois-asn-country {v} (CC0-1.0, NRO data CC BY 4.0)").format(v=VERSION)


def _fetch(cache):
    """Returns {kind: csv path} or None when npm cannot get the packages."""
    os.makedirs(cache, exist_ok=True)
    out = {}
    for kind, (spec, member) in PACKAGES.items():
        dest = os.path.join(cache, f"{kind}-ipv4-{VERSION}.csv")
        if not os.path.exists(dest):
            if not shutil.which("npm"):
                return None
            try:
                r = subprocess.run(["npm", "pack", spec, "--silent"], cwd=cache, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, timeout=300)
            except (OSError, subprocess.TimeoutExpired):
                return None
            if r.returncode != 0:
                return None
            tgz = os.path.join(cache, r.stdout.decode().strip().splitlines()[-1])
            try:
                with tarfile.open(tgz) as tf:
                    data = tf.extractfile(member).read()
            except (OSError, KeyError, tarfile.TarError):
                return None
            finally:
                if os.path.exists(tgz):
                    os.remove(tgz)
            with open(dest + ".tmp", "wb") as f:
                f.write(data)
            os.replace(dest + ".tmp", dest)
        out[kind] = dest
    return out


def _real_table(paths):
    cstarts, cends, ccs = [], [], []
    with open(paths["country"], newline="") as f:
        for row in csv.reader(f):
            cstarts.append(int(row[0]))
            cends.append(int(row[1]))
            ccs.append(row[2])
    rows = []
    with open(paths["asn"], newline="", encoding="utf-8", errors="replace") as f:
        for row in csv.reader(f):
            start, end, asn = int(row[0]), int(row[1]), int(row[2])
            i = bisect.bisect_right(cstarts, start) - 1
            if i < 0 or start > cends[i] or len(ccs[i]) != 2:
                continue
            rows.append((start, end, asn, ccs[i]))
    return rows


def _synthetic_table():
    rnd = random.Random(20240601)
    countries = [f"{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(0, 26 * 26, 11)][:60]
    weights = [1.0 / (i + 1) for i in range(len(countries))]
    rows, used = [], set()
    asn = 64512
    while len(rows) < 4000:
        size = rnd.choice([8, 8, 8, 10, 12, 16])  # host bits
        start = rnd.randrange(1 << 24, 224 << 24) >> size << size
        first = start >> 24
        if first in (10, 127) or (start >> 20) == (172 << 4 | 1) or (start >> 16) == (192 << 8 | 168):
            continue
        if (start >> 16) in used:
            continue
        used.add(start >> 16)
        asn += 1
        rows.append((start, start + (1 << size) - 1, asn, rnd.choices(countries, weights)[0]))
    rows.sort()
    return rows


def table(cache):
    """(rows, source) with rows = sorted [(start, end, asn, country)], source 'ip-location-db' or 'synthetic'."""
    joined = os.path.join(cache, f"networks-ipv4-{VERSION}.csv")
    if os.path.exists(joined):
        with open(joined) as f:
            return [(int(a), int(b), int(c), d) for a, b, c, d in csv.reader(f)], "ip-location-db"
    paths = _fetch(cache)
    if paths is None:
        return _synthetic_table(), "synthetic"
    rows = _real_table(paths)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerows(rows)
    with open(joined + ".tmp", "w") as f:
        f.write(buf.getvalue())
    os.replace(joined + ".tmp", joined)
    return rows, "ip-location-db"


def write_csv(rows, path):
    with open(path, "w") as f:
        for a, b, c, d in rows:
            f.write(f"{a},{b},{c},{d}\n")
