"""A tiny MaxMind DB writer (test tooling, written for sds from the MaxMind DB spec).

Writes IPv6 trees with 24-bit records; IPv4 networks live under ::/96 as the spec
describes. Good enough for small fixtures: networks must not overlap.
"""
import ipaddress
import struct
import time


def _ctrl(type_id, size):
    out = bytearray()
    if size < 29:
        first = size
        extra = b""
    elif size < 29 + 256:
        first, extra = 29, bytes([size - 29])
    elif size < 285 + 65536:
        first, extra = 30, struct.pack(">H", size - 285)
    else:
        first, extra = 31, struct.pack(">I", size - 65821)[1:]
    if type_id <= 7:
        out.append((type_id << 5) | first)
    else:
        out.append(first)
        out.append(type_id - 7)
    return bytes(out) + extra


class U16(int):
    pass


class U32(int):
    pass


class U64(int):
    pass


def encode(v):
    if isinstance(v, (U16, U32, U64)):
        b = int(v).to_bytes((int(v).bit_length() + 7) // 8, "big") if v else b""
        return _ctrl({U16: 5, U32: 6, U64: 9}[type(v)], len(b)) + b
    if isinstance(v, bool):
        return _ctrl(14, 1 if v else 0)
    if isinstance(v, str):
        b = v.encode("utf-8")
        return _ctrl(2, len(b)) + b
    if isinstance(v, float):
        return _ctrl(3, 8) + struct.pack(">d", v)
    if isinstance(v, int):
        if v < 0:
            return _ctrl(8, 4) + struct.pack(">i", v)
        b = v.to_bytes((v.bit_length() + 7) // 8, "big") if v else b""
        if v < 1 << 16:
            return _ctrl(5, len(b)) + b
        if v < 1 << 32:
            return _ctrl(6, len(b)) + b
        return _ctrl(9, len(b)) + b
    if isinstance(v, dict):
        out = _ctrl(7, len(v))
        for k, x in v.items():
            out += encode(k) + encode(x)
        return out
    if isinstance(v, list):
        out = _ctrl(11, len(v))
        for x in v:
            out += encode(x)
        return out
    raise TypeError(type(v))


def write(path, networks, database_type, description="sds test database"):
    """networks: list of (cidr text, dict)."""
    nodes = [[None, None]]
    data = bytearray()
    for cidr, record in networks:
        net = ipaddress.ip_network(cidr, strict=False)
        if net.version == 4:
            bits = 96 + net.prefixlen
            value = int(net.network_address)
        else:
            bits = net.prefixlen
            value = int(net.network_address)
        offset = len(data)
        data += encode(record)
        node = 0
        for i in range(bits):
            bit = (value >> (127 - i)) & 1 if net.version == 6 else (
                0 if i < 96 else (value >> (31 - (i - 96))) & 1)
            if i == bits - 1:
                nodes[node][bit] = ("data", offset)
                break
            nxt = nodes[node][bit]
            if nxt is None:
                nodes.append([None, None])
                nodes[node][bit] = ("node", len(nodes) - 1)
                nxt = nodes[node][bit]
            node = nxt[1]
    n = len(nodes)
    tree = bytearray()
    for left, right in nodes:
        for rec in (left, right):
            if rec is None:
                v = n
            elif rec[0] == "node":
                v = rec[1]
            else:
                v = n + 16 + rec[1]
            tree += v.to_bytes(3, "big")
    meta = {
        "binary_format_major_version": U16(2),
        "binary_format_minor_version": U16(0),
        "build_epoch": U64(int(time.time())),
        "database_type": database_type,
        "description": {"en": description},
        "ip_version": U16(6),
        "languages": ["en"],
        "node_count": U32(n),
        "record_size": U16(24),
    }
    with open(path, "wb") as f:
        f.write(bytes(tree) + b"\x00" * 16 + bytes(data) + b"\xab\xcd\xefMaxMind.com" + encode(meta))


FLAT_CITY = [
    ("89.160.20.0/24", {"country_code": "SE", "state1": "Östergötland County", "city": "Linköping",
                        "postcode": "58x", "latitude": 58.4167, "longitude": 15.6167,
                        "timezone": "Europe/Stockholm"}),
    ("2a02:cf40::/29", {"country_code": "NO", "city": "Oslo", "latitude": 59.91, "longitude": 10.75}),
    ("1.128.0.0/11", {"country_code": "AU", "state1": "Victoria", "city": "Melbourne",
                      "latitude": -37.8, "longitude": 144.96}),
]

if __name__ == "__main__":
    import sys
    write(sys.argv[1], FLAT_CITY, sys.argv[2] if len(sys.argv) > 2 else "ip-location-db-city")
