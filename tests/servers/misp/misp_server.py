#!/usr/bin/env python3
"""A small MISP REST stand-in for sds-enrich's tests (Python standard library only).

Answers POST /attributes/restSearch from real MISP events (event JSON exports or MISP feed
folders given on the command line), as MISP documents it:
  * Authorization: <automation key> is required (403 otherwise, as MISP answers);
  * returnFormat "json" (other formats: 400, this server knows no other);
  * filters: type (string or list), to_ids (bool/0/1), last (event published within
    "7d"/"12h"/"30m"/"45s" or seconds), timestamp (attribute changed since: epoch or
    duration), publish_timestamp (event published since), deleted, includeEventTags;
  * answer {"response": {"Attribute": [... each with its "Event" {id, info, uuid, orgc_id,
    org_id, distribution}, and "Tag" ...]}}.
Usage: misp_server.py --key KEY [--port 0] [--fail-with 503] EVENTS... ; prints the port on
stdout once listening. Requests are logged to --log FILE as JSON lines (tests read them).
"""
import argparse
import json
import os
import re
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def load_events(paths):
    events = []
    for p in paths:
        if os.path.isdir(p):
            for name in sorted(os.listdir(p)):
                if name.endswith(".json") and name != "manifest.json":
                    events.extend(load_events([os.path.join(p, name)]))
            continue
        with open(p, encoding="utf-8") as f:
            doc = json.load(f)
        if isinstance(doc, dict) and "Event" in doc:
            events.append(doc["Event"])
        elif isinstance(doc, list):
            events.extend(d["Event"] for d in doc if isinstance(d, dict) and "Event" in d)
    return events


def since(value, now):
    """A MISP time filter value → epoch seconds lower bound."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return int(value)
    s = str(value).strip()
    if s.isdigit():
        return int(s)
    m = re.fullmatch(r"(\d+)([dhms])", s)
    if not m:
        raise ValueError(f"invalid time filter {value!r}")
    n = int(m.group(1)) * {"d": 86400, "h": 3600, "m": 60, "s": 1}[m.group(2)]
    return int(now - n)


def boolish(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v != 0
    return str(v).lower() in ("1", "true", "yes")


def search(events, q, now):
    types = q.get("type")
    if isinstance(types, str):
        types = [types]
    to_ids = q.get("to_ids")
    last = since(q.get("last"), now)
    ts = since(q.get("timestamp"), now)
    pts = since(q.get("publish_timestamp"), now)
    tags = boolish(q.get("includeEventTags", False))
    out = []
    for i, ev in enumerate(events):
        published = int(ev.get("publish_timestamp") or ev.get("timestamp") or 0)
        if last is not None and published < last:
            continue
        if pts is not None and published < pts:
            continue
        attrs = list(ev.get("Attribute", []))
        for obj in ev.get("Object", []) or []:
            attrs.extend(obj.get("Attribute", []))
        for a in attrs:
            if types and a.get("type") not in types:
                continue
            if to_ids is not None and boolish(a.get("to_ids", False)) != boolish(to_ids):
                continue
            if ts is not None and int(a.get("timestamp") or 0) < ts:
                continue
            if boolish(a.get("deleted", False)) and not boolish(q.get("deleted", False)):
                continue
            r = {k: v for k, v in a.items() if k not in ("ShadowAttribute", "RelatedAttribute", "SharingGroup")}
            r["Event"] = {"org_id": str(ev.get("org_id", "1")), "distribution": str(ev.get("distribution", "0")),
                          "id": str(ev.get("id", i + 1)), "info": ev.get("info", ""),
                          "orgc_id": str(ev.get("orgc_id", "1")), "uuid": ev.get("uuid", "")}
            if tags:
                r["Tag"] = list(ev.get("Tag", [])) + list(a.get("Tag", []))
            out.append(r)
    return {"response": {"Attribute": out}}


def make_handler(args, events, log):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def reply(self, code, doc):
            body = json.dumps(doc).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n)
            if log:
                with open(log, "a") as f:
                    f.write(json.dumps({"path": self.path, "body": raw.decode(errors="replace"),
                                        "authorization_ok": self.headers.get("Authorization") == args.key}) + "\n")
            if args.fail_with:
                return self.reply(args.fail_with, {"message": "failing on purpose"})
            if self.headers.get("Authorization") != args.key:
                return self.reply(403, {"name": "Authentication failed. Please make sure you pass the API key of an "
                                                "API enabled user along in the Authorization header.",
                                        "message": "Authentication failed.", "url": self.path})
            if self.path.rstrip("/") != "/attributes/restSearch":
                return self.reply(404, {"message": "Not Found", "url": self.path})
            try:
                q = json.loads(raw or b"{}")
            except ValueError:
                return self.reply(400, {"message": "invalid JSON"})
            if q.get("returnFormat", "json") != "json":
                return self.reply(400, {"message": "returnFormat not supported by this test server"})
            try:
                return self.reply(200, search(events, q, time.time()))
            except ValueError as e:
                return self.reply(400, {"message": str(e)})

    return Handler


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--key", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--fail-with", type=int, default=0)
    p.add_argument("--log")
    p.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate (chain) ...")
    p.add_argument("--tls-key", help="... and this PEM key")
    p.add_argument("events", nargs="+")
    args = p.parse_args()
    events = load_events(args.events)
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(args, events, args.log))
    if args.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
