#!/usr/bin/env python3
"""Elasticsearch-compatible test server for sds-ship (Python 3.11 standard library only).

It implements the subset of the Elasticsearch REST API a bulk loader talks to --
_bulk, index/component templates, data streams, mappings, refresh, count, search,
get, _cat/indices -- with Elastic's documented status codes and error objects,
plus a fault-injection API (POST /_sds_fault) and counters (GET /_sds_stats).
See README.md next to this file for what is and is not implemented.

    python3 es_server.py --port 0 --port-file /tmp/es.port [-v]
"""
from __future__ import annotations

import argparse
import base64
import fnmatch
import gzip
import hmac
import ipaddress
import itertools
import json
import os
import random
import re
import signal
import socket
import sys
import threading
import time
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

MiB = 1024 * 1024
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_loads = json.loads
LONG_MIN, LONG_MAX = -(1 << 63), (1 << 63) - 1
INT_RANGES = {"long": (LONG_MIN, LONG_MAX), "integer": (-(1 << 31), (1 << 31) - 1),
              "short": (-32768, 32767), "byte": (-128, 127), "unsigned_long": (0, (1 << 64) - 1)}
FLOAT_TYPES = {"double", "float", "half_float", "scaled_float"}
STRING_TYPES = {"keyword", "text", "match_only_text", "wildcard", "constant_keyword",
                "search_as_you_type", "version"}
OBJECT_TYPES = {"object", "nested"}
BULK_META_KEYS = {"_index", "_id", "routing", "_routing", "version", "version_type", "if_seq_no",
                  "if_primary_term", "pipeline", "require_alias", "require_data_stream",
                  "retry_on_conflict", "dynamic_templates", "_source", "list_executed_pipelines"}
# strict_date_optional_time (the default date format, with epoch_millis as the alternative)
ISO_DATE_RE = re.compile(
    r"^[+-]?\d{4,9}(?:-(\d{2})(?:-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,]\d{1,9})?)?)?"
    r"(?:Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$")
# The second default dynamic_date_formats entry: "yyyy/MM/dd HH:mm:ss Z||yyyy/MM/dd Z"
SLASH_DATE_RE = re.compile(r"^\d{4}/\d{2}/\d{2}(?: \d{2}:\d{2}:\d{2})?(?: ?(?:Z|[+-]\d{2}:?\d{2}))?$")
# The same, with field ranges in the pattern, for the hot path (no Python-level checks).
ISO_STRICT_RE = re.compile(
    r"\d{4}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01])(?:T(?:[01]\d|2[0-3])(?::[0-5]\d(?::[0-5]\d"
    r"(?:[.,]\d{1,9})?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?\Z|\d{1,19}\Z")
IPV4_RE = re.compile(r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\Z")
DEFAULT_DATE_FORMATS = ("strict_date_optional_time||epoch_millis", "strict_date_optional_time",
                        "date_optional_time||epoch_millis")
NONE_T = type(None)
FAST_ANY = (NONE_T, str, int, float, bool, dict, list)
NULL_ONLY = ((NONE_T,), None, None, None, None)
INVALID_INDEX_CHARS = set('\\/*?"<>| ,#:')
TOKEN_RE = re.compile(r"\w+", re.UNICODE)
SHARD_OK = '{"total":2,"successful":1,"failed":0}'


def es_error(status, etype, reason, caused_by=None, **extra):
    """The error object Elasticsearch returns for a failed request: root_cause, type, reason, status."""
    root = {"type": etype, "reason": reason, **extra}
    err = {"root_cause": [dict(root)], **root}
    if caused_by:
        err["caused_by"] = caused_by
    return status, {"error": err, "status": status}


def index_not_found(name):
    return es_error(404, "index_not_found_exception", f"no such index [{name}]",
                    **{"resource.type": "index_or_alias", "resource.id": name, "index_uuid": "_na_",
                       "index": name})


class ApiError(Exception):
    def __init__(self, status, etype, reason, **extra):
        super().__init__(reason)
        self.status, self.etype, self.reason, self.extra = status, etype, reason, extra

    def response(self):
        return es_error(self.status, self.etype, self.reason, **self.extra)


class DocError(Exception):
    """A per-document failure (bulk item error)."""

    def __init__(self, status, err):
        super().__init__(err.get("reason"))
        self.status, self.err = status, err


def java_preview(v):
    """How Elasticsearch prints a value in "Preview of field's value: '...'"."""
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}={java_preview(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(java_preview(x) for x in v) + "]"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    return str(v)


def valid_index_name(name):
    """Elastic's index naming rules (Create index API, 'Path parameters'): reason or None."""
    if not name:
        return "must not be empty"
    if name != name.lower():
        return "must be lowercase"
    if name[0] in "_-+":
        return "must not start with '_', '-', or '+'"
    if name in (".", ".."):
        return "must not be '.' or '..'"
    bad = INVALID_INDEX_CHARS.intersection(name)
    if bad:
        return 'must not contain the following characters [ , ", *, \\, <, |, ,, >, /, ?, #, :]'
    if len(name.encode()) > 255:
        return "index name is too long, (" + str(len(name.encode())) + " > 255)"
    return None


def wildcard_match(pattern, name):
    return fnmatch.fnmatchcase(name, pattern)


def deep_merge(dst, src):
    """Merge src into dst the way the update API merges partial documents; returns changed?"""
    changed = False
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            changed |= deep_merge(dst[k], v)
        elif k not in dst or dst[k] != v or type(dst[k]) is not type(v):
            dst[k] = v
            changed = True
    return changed


def merge_mappings(dst, src):
    """Merge mapping definitions: properties recursively, other keys replaced."""
    for k, v in src.items():
        if k == "properties" and isinstance(v, dict):
            props = dst.setdefault("properties", {})
            for f, fm in v.items():
                if isinstance(fm, dict) and isinstance(props.get(f), dict) and (
                        "properties" in fm or "properties" in props[f]):
                    merge_mappings(props[f], fm)
                else:
                    props[f] = json.loads(json.dumps(fm))
        elif k == "dynamic_templates" and isinstance(v, list):
            dst.setdefault("dynamic_templates", [])
            names = {next(iter(t)) for t in dst["dynamic_templates"] if isinstance(t, dict) and t}
            for t in v:
                if isinstance(t, dict) and t and next(iter(t)) in names:
                    dst["dynamic_templates"] = [x for x in dst["dynamic_templates"] if next(iter(x)) != next(iter(t))]
                dst["dynamic_templates"].append(t)
        else:
            dst[k] = json.loads(json.dumps(v))
    return dst


def flatten_settings(s, prefix=""):
    out = {}
    for k, v in (s or {}).items():
        key = prefix + k
        if isinstance(v, dict):
            out.update(flatten_settings(v, key + "."))
        else:
            out[key if key.startswith("index.") else "index." + key] = v
    return out


# --------------------------------------------------------------------------------------------
# Mappings
# --------------------------------------------------------------------------------------------

class Field:
    """A leaf field mapping; `ok` holds the Python value types accepted without further checks."""
    __slots__ = ("name", "type", "spec", "ok", "coerce", "ignore_malformed", "is_object", "n_fields",
                 "date_formats", "str_ok")

    def __init__(self, name, spec, index_ignore_malformed=False):
        self.name = name
        self.spec = spec
        self.type = t = spec.get("type", "object")
        self.is_object = False
        self.coerce = spec.get("coerce", True) is not False
        self.ignore_malformed = bool(spec.get("ignore_malformed", index_ignore_malformed))
        self.n_fields = 1 + len(spec.get("fields") or {})
        self.date_formats = str(spec.get("format", "strict_date_optional_time||epoch_millis"))
        self.str_ok = None        # C-speed acceptance test for string values (None: full check)
        if t == "ip":
            self.str_ok = IPV4_RE.match
        elif t in ("date", "date_nanos") and self.date_formats in DEFAULT_DATE_FORMATS:
            self.str_ok = ISO_STRICT_RE.match
        if t in STRING_TYPES:
            self.ok = (str, int, float, bool)
        elif t in INT_RANGES:
            self.ok = ()          # ints need a range check: done in the slow path
        elif t in FLOAT_TYPES:
            self.ok = (int, float)
        elif t == "boolean":
            self.ok = (bool,)
        elif t in ("ip", "date", "date_nanos"):
            self.ok = ()
        else:                     # flattened, geo_point, binary, dense_vector, ...: accepted as is
            self.ok = None

    def mapping(self):
        return self.spec


class ObjectMapping:
    __slots__ = ("name", "props", "fast", "dynamic", "spec", "is_object", "enabled")

    def put(self, k, m):
        # fast[k] = (types accepted as they are, C-level test for strings or None, child object or None)
        self.props[k] = m
        if m.is_object:
            self.fast[k] = ((NONE_T,), None, m, None, None) if m.enabled else (FAST_ANY, None, None, None, None)
        else:
            lo, hi = INT_RANGES.get(m.type, (None, None))
            self.fast[k] = ((NONE_T,) + tuple(m.ok) if m.ok is not None else FAST_ANY, m.str_ok, None, lo, hi)

    def remove(self, k):
        self.props.pop(k, None)
        self.fast.pop(k, None)

    def __init__(self, name, spec=None, dynamic=None):
        spec = spec or {}
        self.name = name
        self.props = {}
        self.fast = {}            # leaf name -> value types accepted without any further check
        self.is_object = True
        self.dynamic = spec.get("dynamic", dynamic)
        if isinstance(self.dynamic, bool):
            self.dynamic = "true" if self.dynamic else "false"
        self.enabled = spec.get("enabled", True) is not False
        self.spec = {k: v for k, v in spec.items() if k not in ("properties",)}

    def mapping(self):
        out = dict(self.spec)
        if self.props:
            out["properties"] = {k: v.mapping() for k, v in self.props.items()}
        return out


class Mapper:
    """An index's mappings: explicit ones from templates/PUT, plus dynamic mapping (Elastic's
    'Dynamic field mapping' table: long, float, boolean, date detection, text+keyword, object)."""

    def __init__(self, mappings=None, settings=None, parse_error_type="mapper_parsing_exception",
                 data_stream=False):
        mappings = mappings or {}
        settings = settings or {}
        self.error_type = parse_error_type
        self.root = ObjectMapping("", {"dynamic": mappings.get("dynamic", "true")})
        self.date_detection = mappings.get("date_detection", True) is not False
        self.numeric_detection = mappings.get("numeric_detection", False) is True
        self.dynamic_date_formats = mappings.get("dynamic_date_formats")
        self.dynamic_templates = [t for t in mappings.get("dynamic_templates", []) if isinstance(t, dict)]
        self.meta = {k: v for k, v in mappings.items()
                     if k in ("_source", "_routing", "_meta", "runtime", "_data_stream_timestamp")}
        self.ignore_malformed = str(settings.get("index.mapping.ignore_malformed", "false")).lower() == "true"
        self.field_limit = int(settings.get("index.mapping.total_fields.limit", 1000))
        self.total_fields = 0
        self.data_stream = data_stream
        self.undo = None
        if data_stream:
            self.meta["_data_stream_timestamp"] = {"enabled": True}
            props = mappings.setdefault("properties", {})
            props.setdefault("@timestamp", {"type": "date"})
        self._add_properties(self.root, mappings.get("properties") or {}, "")

    # --- building ---------------------------------------------------------------------------
    def _make(self, name, spec, parent):
        if not isinstance(spec, dict):
            raise ApiError(400, "mapper_parsing_exception",
                           f"Expected map for property [fields] on field [{name}] but got a class java.lang.String")
        t = spec.get("type")
        if t is None and "properties" in spec or t in OBJECT_TYPES or (t is None and not spec):
            node = ObjectMapping(name, spec, None)
            self.total_fields += 1
            self._add_properties(node, spec.get("properties") or {}, name + ".")
            return node
        if t is None:
            raise ApiError(400, "mapper_parsing_exception", f"No type specified for field [{name}]")
        f = Field(name, spec, self.ignore_malformed)
        self.total_fields += f.n_fields
        return f

    def _add_properties(self, node, props, prefix):
        for k, spec in props.items():
            if "." in k:   # dotted names in mappings expand to objects
                head, rest = k.split(".", 1)
                spec = {"properties": {rest: spec}}
                k = head
            existing = node.props.get(k)
            if isinstance(existing, ObjectMapping) and isinstance(spec, dict) and "properties" in spec:
                self._add_properties(existing, spec["properties"], prefix + k + ".")
            else:
                node.put(k, self._make(prefix + k, spec, node))

    def mapping(self):
        out = dict(self.meta)
        if self.dynamic_templates:
            out["dynamic_templates"] = self.dynamic_templates
        if self.root.dynamic not in (None, "true"):
            out["dynamic"] = self.root.dynamic
        if self.root.props:
            out["properties"] = {k: v.mapping() for k, v in self.root.props.items()}
        return out

    def lookup(self, path):
        """Field or ObjectMapping for a dotted path; multi-fields ("f.keyword") resolve to the leaf."""
        node = self.root
        parts = path.split(".")
        for i, p in enumerate(parts):
            if not isinstance(node, ObjectMapping):
                sub = (node.spec.get("fields") or {}).get(".".join(parts[i:]))
                if sub:
                    return Field(path, sub)
                return None
            node = node.props.get(p)
            if node is None:
                return None
        return node

    # --- validation ---------------------------------------------------------------------------
    def check(self, doc, doc_id, raw=None):
        """Validate doc against the mapping, adding dynamic fields; raises DocError (mapping
        changes made by a failing document are rolled back, as Elasticsearch never applies them)."""
        self.undo = []
        self._doc_id, self._raw = doc_id, raw
        try:
            self._check(doc, self.root, self.root.dynamic or "true")
            if self.data_stream and "@timestamp" not in doc:
                raise self._fail("data stream timestamp field [@timestamp] is missing", None)
        except DocError:
            for node, key, nfields in reversed(self.undo):
                node.remove(key)
                self.total_fields -= nfields
            raise
        finally:
            self.undo = None

    def _position(self, field_name):
        if self.error_type != "document_parsing_exception":
            return ""
        col = 1
        if self._raw is not None:
            key = field_name.rsplit(".", 1)[-1]
            raw = self._raw if isinstance(self._raw, str) else self._raw.decode("utf-8", "replace")
            pos = raw.find('"' + key + '"')
            if pos >= 0:
                colon = raw.find(":", pos)
                col = colon + 2 if colon >= 0 else pos + 1
        return f"[1:{col}] "

    def _fail(self, reason, field_name, caused_by=None, etype=None):
        err = {"type": etype or self.error_type, "reason": self._position(field_name or "") + reason}
        if caused_by:
            err["caused_by"] = caused_by
        return DocError(400, err)

    def _field_fail(self, f, v, cause_type, cause_reason):
        return self._fail(
            f"failed to parse field [{f.name}] of type [{f.type}] in document with id '{self._doc_id}'. "
            f"Preview of field's value: '{java_preview(v)}'", f.name,
            {"type": cause_type, "reason": cause_reason})

    def _check(self, obj, node, dynamic):
        fast = node.fast
        for k, v in obj.items():
            e = fast.get(k)
            if e is not None:
                ok, str_ok, child, lo, hi = e
                tv = type(v)
                if tv in ok:
                    continue
                if tv is int and lo is not None and lo <= v <= hi:
                    continue
                if str_ok is not None and tv is str and str_ok(v):
                    continue
                if tv is dict and child is not None:
                    self._check(v, child, child.dynamic or dynamic)
                    continue
            self._check_one(node, k, v, dynamic)

    def _check_one(self, node, k, v, dynamic):
        prefix = node.name + "." if node.name else ""
        m = node.props.get(k)
        if m is None:
            if v is None:
                node.fast.setdefault(k, NULL_ONLY)   # unmapped nulls: no mapping, nothing to check
                return
            if "." in k and k.strip("."):
                head, rest = k.split(".", 1)
                self._check({head: {rest: v}}, node, dynamic)
                return
            if not k.strip():
                raise self._fail("field name cannot be an empty string", prefix + k)
            m = self._dynamic(node, prefix, k, v, dynamic)
            if m is None:
                return
        if m.is_object:
            if not m.enabled:
                return
            tv = type(v)
            if tv is dict:
                self._check(v, m, m.dynamic or dynamic)
            elif tv is list:
                for x in v:
                    if type(x) is dict:
                        self._check(x, m, m.dynamic or dynamic)
                    elif x is not None:
                        raise self._fail(f"object mapping for [{m.name}] tried to parse field [{k}] as "
                                         f"object, but found a concrete value", m.name)
            elif v is not None:
                raise self._fail(f"object mapping for [{m.name}] tried to parse field [{k}] as object, "
                                 f"but found a concrete value", m.name)
        else:
            self._check_value(m, v)

    def _check_value(self, f, v):
        tv = type(v)
        if tv is list:
            for x in v:
                if x is not None:
                    self._check_value(f, x)
            return
        if v is None or f.ok is None or tv in f.ok:
            return
        if tv is str and f.str_ok is not None and f.str_ok(v):
            return
        try:
            self._convert(f, v)
        except DocError:
            if f.ignore_malformed and tv is not dict:
                return
            raise

    def _convert(self, f, v):
        t, tv = f.type, type(v)
        if tv is dict:
            if t in INT_RANGES or t in FLOAT_TYPES:
                raise self._field_fail(f, v, "illegal_state_exception",
                                       "Can't get text on a START_OBJECT")
            raise self._field_fail(f, v, "illegal_state_exception", "Can't get text on a START_OBJECT")
        if t in INT_RANGES:
            lo, hi = INT_RANGES[t]
            if tv is bool:
                raise self._field_fail(f, v, "illegal_argument_exception",
                                       f"Current token (VALUE_{str(v).upper()}) not numeric, can not use "
                                       f"numeric value accessors")
            if tv is str:
                if not f.coerce:
                    raise self._field_fail(f, v, "illegal_argument_exception",
                                           "[coerce] is false, strings are not accepted")
                s = v.strip()
                try:
                    n = int(s)
                except ValueError:
                    try:
                        x = float(s)
                        if x != x or x in (float("inf"), float("-inf")):
                            raise ValueError
                        n = int(x)
                    except ValueError:
                        raise self._field_fail(f, v, "illegal_argument_exception",
                                               f'For input string: "{v}"') from None
            elif tv is float:
                if not f.coerce and v != int(v):
                    raise self._field_fail(f, v, "illegal_argument_exception",
                                           f"Value [{v}] has a decimal part")
                n = int(v)
            else:
                n = v
            if not lo <= n <= hi:
                raise self._field_fail(f, v, "illegal_argument_exception",
                                       f"Value [{v}] is out of range for {'a' if t != 'integer' else 'an'} {t}")
        elif t in FLOAT_TYPES:
            if tv is str:
                try:
                    float(v)
                except ValueError:
                    raise self._field_fail(f, v, "number_format_exception",
                                           f'For input string: "{v}"') from None
            elif tv is bool:
                raise self._field_fail(f, v, "illegal_argument_exception",
                                       f"Current token (VALUE_{str(v).upper()}) not numeric, can not use "
                                       f"numeric value accessors")
        elif t == "boolean":
            if tv is str and v in ("true", "false", ""):
                return
            raise self._field_fail(f, v, "illegal_argument_exception",
                                   f"Failed to parse value [{java_preview(v)}] as only [true] or [false] are allowed.")
        elif t == "ip":
            try:
                if tv is not str:
                    raise ValueError
                ipaddress.ip_address(v)
            except ValueError:
                raise self._field_fail(f, v, "illegal_argument_exception",
                                       f"'{java_preview(v)}' is not an IP string literal.") from None
        elif t in ("date", "date_nanos"):
            if not self._valid_date(v, f.date_formats):
                raise self._field_fail(f, v, "illegal_argument_exception",
                                       f"failed to parse date field [{java_preview(v)}] with format "
                                       f"[{f.date_formats}]")

    @staticmethod
    def _valid_date(v, formats):
        if type(v) in (int, float):
            return "epoch" in formats
        if type(v) is not str:
            return False
        known = False
        for fmt in formats.split("||"):
            if fmt in ("epoch_millis", "epoch_second"):
                known = True
                try:
                    float(v)
                    return True
                except ValueError:
                    pass
            elif fmt in ("strict_date_optional_time", "date_optional_time", "strict_date_time",
                         "date_time", "strict_date_optional_time_nanos", "strict_date", "date",
                         "iso8601", "strict_date_time_no_millis", "date_time_no_millis"):
                known = True
                if Mapper._iso_ok(v):
                    return True
            else:
                return True   # custom Java patterns: accepted, not interpreted
        return not known

    @staticmethod
    def _iso_ok(v):
        m = ISO_DATE_RE.match(v)
        if not m:
            return False
        mo, d, h, mi, s = m.groups()
        return ((mo is None or 1 <= int(mo) <= 12) and (d is None or 1 <= int(d) <= 31)
                and (h is None or int(h) <= 23) and (mi is None or int(mi) <= 59)
                and (s is None or int(s) <= 60))

    def _detect_date(self, s):
        if not self.date_detection:
            return False
        if self.dynamic_date_formats is not None:
            return any(self._valid_date(s, f) and f not in ("epoch_millis", "epoch_second")
                       for f in self.dynamic_date_formats)
        # Default dynamic_date_formats; a full calendar date is required (see README).
        return (len(s) >= 10 and s[4] == "-" and self._iso_ok(s)) or bool(SLASH_DATE_RE.match(s))

    def _dynamic(self, node, prefix, k, v, dynamic):
        dynamic = node.dynamic or dynamic
        if dynamic in ("false", "runtime"):
            return None
        path = prefix + k
        if dynamic == "strict":
            within = node.name or "_doc"
            raise self._fail(f"mapping set to strict, dynamic introduction of [{k}] within [{within}] "
                             f"is not allowed", path, etype="strict_dynamic_mapping_exception")
        first = v
        if type(v) is list:
            first = next((x for x in v if x is not None), None)
            if first is None:
                return None      # empty arrays / arrays of nulls add no mapping
        tf = type(first)
        if tf is dict:
            json_type, spec = "object", {}
        elif tf is bool:
            json_type, spec = "boolean", {"type": "boolean"}
        elif tf is int:
            json_type, spec = "long", {"type": "long"}
        elif tf is float:
            json_type, spec = "double", {"type": "float"}
        elif tf is list:
            json_type, spec = "string", {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}
        else:
            s = str(first)
            if self._detect_date(s):
                json_type, spec = "date", {"type": "date"}
            elif self.numeric_detection and re.fullmatch(r"-?\d+", s):
                json_type, spec = "long", {"type": "long"}
            elif self.numeric_detection and re.fullmatch(r"-?\d*\.\d+(?:[eE][-+]?\d+)?", s):
                json_type, spec = "double", {"type": "float"}
            else:
                json_type, spec = "string", {"type": "text",
                                             "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}}
        tmpl = self._match_template(k, path, json_type)
        if tmpl is not None:
            spec = self._template_mapping(tmpl, k, json_type, spec)
        m = self._make(path, spec, node)
        n_added = 1 if m.is_object else m.n_fields
        if self.total_fields > self.field_limit:
            self.total_fields -= n_added
            raise self._fail(f"Limit of total fields [{self.field_limit}] has been exceeded while adding "
                             f"new fields [{n_added}]", path, etype="illegal_argument_exception")
        node.put(k, m)
        if self.undo is not None:
            self.undo.append((node, k, n_added))
        return m

    def _match_template(self, name, path, json_type):
        for t in self.dynamic_templates:
            (tname, spec), = t.items() if len(t) == 1 else [(None, None)]
            if not isinstance(spec, dict):
                continue

            def listify(x):
                return x if isinstance(x, list) else ([x] if x is not None else [])

            regex = spec.get("match_pattern") == "regex"

            def m(pats, val):
                return any((re.fullmatch(p, val) if regex else wildcard_match(p, val)) for p in pats)
            mmt = listify(spec.get("match_mapping_type"))
            if mmt and "*" not in mmt and json_type not in mmt:
                continue
            if spec.get("unmatch_mapping_type") and json_type in listify(spec.get("unmatch_mapping_type")):
                continue
            if "match" in spec and not m(listify(spec["match"]), name):
                continue
            if "unmatch" in spec and m(listify(spec["unmatch"]), name):
                continue
            if "path_match" in spec and not m(listify(spec["path_match"]), path):
                continue
            if "path_unmatch" in spec and m(listify(spec["path_unmatch"]), path):
                continue
            if "mapping" not in spec and "runtime" not in spec:
                continue
            return spec
        return None

    @staticmethod
    def _template_mapping(tmpl, name, json_type, default):
        if "mapping" not in tmpl:
            return default          # runtime templates: stored as default dynamic mapping
        dyn = {"string": "text", "double": "float"}.get(json_type, json_type)
        text = json.dumps(tmpl["mapping"]).replace("{name}", name).replace("{dynamic_type}", dyn)
        spec = json.loads(text)
        if "type" not in spec and json_type != "object":
            spec["type"] = dyn
        return spec


# --------------------------------------------------------------------------------------------
# Indices, data streams, templates
# --------------------------------------------------------------------------------------------

class Index:
    def __init__(self, name, mapper, settings, data_stream=None):
        self.name = name
        self.uuid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")[:22]
        self.mapper = mapper
        self.settings = settings
        self.data_stream = data_stream
        self.docs = {}          # id -> [version, seq_no, raw source bytes or parsed dict or None]
        self.visible = {}       # snapshot of docs at the last refresh
        self.tombstones = {}    # id -> version of the last delete
        self.seq_no = -1
        self.dirty = False
        self.last_refresh = time.monotonic()
        self.created = int(time.time() * 1000)
        self.name_json = _dumps(name)
        ri = str(settings.get("index.refresh_interval", "1s"))
        self.refresh_interval = parse_time(ri)
        self.replicas = int(settings.get("index.number_of_replicas", 1))
        self.shards_json = '{"total":%d,"successful":1,"failed":0}' % (1 + self.replicas)

    def refresh(self):
        if self.dirty:
            self.visible = dict(self.docs)
            self.dirty = False
        self.last_refresh = time.monotonic()

    def searchable(self):
        if self.dirty and self.refresh_interval is not None and \
                time.monotonic() - self.last_refresh >= self.refresh_interval:
            self.refresh()
        return self.visible

    def info_settings(self):
        s = {"index": {"number_of_shards": "1", "number_of_replicas": str(self.replicas),
                       "uuid": self.uuid, "provided_name": self.name, "creation_date": str(self.created),
                       "version": {"created": "8503000"}}}
        for k, v in self.settings.items():
            if k.startswith("index.") and k.count(".") == 1:
                s["index"][k[6:]] = str(v)
        if self.data_stream:
            s["index"]["hidden"] = "true"
        return s


def parse_time(s):
    s = str(s).strip()
    if s in ("-1", ""):
        return None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)?", s)
    if not m:
        return 1.0
    n = float(m.group(1))
    return n * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 0.001}[m.group(2)]


BUILTIN_TEMPLATES = {
    # A small approximation of the built-in 'logs', 'metrics' and 'synthetics' templates of the
    # default distribution: names like logs-<dataset>-<namespace> are data streams.
    n: {"index_patterns": [f"{n}-*-*"], "priority": 100, "data_stream": {"hidden": False, "allow_custom_routing": False},
        "composed_of": [], "_meta": {"managed": True, "description": "sds test server built-in"},
        "allow_auto_create": True,
        "template": {"mappings": {
            "dynamic_templates": [{"strings_as_keyword": {"match_mapping_type": "string",
                                                          "mapping": {"type": "keyword", "ignore_above": 1024}}}],
            "properties": {"@timestamp": {"type": "date"},
                           "data_stream": {"properties": {"type": {"type": "constant_keyword"},
                                                          "dataset": {"type": "constant_keyword"},
                                                          "namespace": {"type": "constant_keyword"}}}}}}}
    for n in ("logs", "metrics", "synthetics")
}


class Faults:
    def __init__(self):
        self.reset()

    def reset(self):
        self.status = None           # (status, remaining or -1, path substring, body)
        self.item_fraction = 0.0
        self.item_status = 429
        self.rng = random.Random(0)
        self.drop = 0
        self.drop_mode = "close"
        self.latency = 0.0
        self.latency_count = -1
        self.conflict_field = None

    def describe(self):
        return {"status": None if not self.status else {"status": self.status[0], "remaining": self.status[1],
                                                        "path": self.status[2]},
                "item_429_fraction": self.item_fraction, "item_status": self.item_status,
                "drop_connections": self.drop, "drop_mode": self.drop_mode,
                "latency_ms": self.latency * 1000, "mapping_conflict_field": self.conflict_field}


class Stats:
    def __init__(self):
        self.reset()

    def reset(self):
        self.started = time.time()
        self.requests = 0
        self.by_endpoint = {}
        self.status = {}
        self.bulk_requests = 0
        self.bulk_items = 0
        self.bulk_item_status = {}
        self.bulk_ops = {}
        self.bytes_in = 0
        self.bytes_in_decoded = 0
        self.bytes_out = 0
        self.gzip_requests = 0
        self.connections = 0
        self.faults = {"status": 0, "dropped": 0, "item": 0, "latency": 0, "mapping_conflict": 0}
        self.bulk_seconds = 0.0
        self.max_bulk_bytes = 0

    def as_json(self, store):
        return {"uptime_s": round(time.time() - self.started, 3), "requests": self.requests,
                "requests_by_endpoint": self.by_endpoint, "status_counts": self.status,
                "bulk_requests": self.bulk_requests, "bulk_items": self.bulk_items,
                "bulk_item_status": self.bulk_item_status, "bulk_ops": self.bulk_ops,
                "bytes_in": self.bytes_in, "bytes_in_decoded": self.bytes_in_decoded,
                "bytes_out": self.bytes_out, "gzip_requests": self.gzip_requests,
                "max_bulk_bytes": self.max_bulk_bytes, "connections": self.connections,
                "faults": self.faults, "bulk_seconds": round(self.bulk_seconds, 6),
                "docs": sum(len(i.docs) for i in store.indices.values()),
                "indices": len(store.indices), "data_streams": len(store.data_streams)}


class Store:
    def __init__(self, args):
        self.args = args
        self.lock = threading.RLock()
        self.indices = {}              # name -> Index (data stream backing indices included)
        self.data_streams = {}         # name -> Index (its single backing index)
        self.index_templates = {}
        self.component_templates = {}
        self.legacy_templates = {}
        self.pipelines = {}
        self.builtin = not args.no_builtin_templates and args.distribution == "elasticsearch"
        if self.builtin:
            self.index_templates.update(json.loads(json.dumps(BUILTIN_TEMPLATES)))
        self.faults = Faults()
        self.stats = Stats()
        self.id_prefix = base64.urlsafe_b64encode(os.urandom(6)).decode()
        self.id_counter = itertools.count()
        self.cluster_uuid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")[:22]

    def reset_data(self):
        with self.lock:
            self.indices.clear()
            self.data_streams.clear()
            self.index_templates.clear()
            self.component_templates.clear()
            self.legacy_templates.clear()
            self.pipelines.clear()
            if self.builtin:
                self.index_templates.update(json.loads(json.dumps(BUILTIN_TEMPLATES)))

    def new_id(self):
        # 20 URL-safe characters, like Elasticsearch's time-based auto-generated ids.
        return "%s%012x" % (self.id_prefix, next(self.id_counter))

    # --- templates -----------------------------------------------------------------------------
    def find_template(self, name):
        best = None
        for tname, t in self.index_templates.items():
            pats = t.get("index_patterns") or []
            if isinstance(pats, str):
                pats = [pats]
            if any(wildcard_match(p, name) for p in pats):
                key = (t.get("priority") or 0, tname)
                if best is None or key[0] > best[0][0]:
                    best = (key, tname, t)
        return (best[1], best[2]) if best else (None, None)

    def compose(self, name):
        """Settings, mappings and data_stream flag an index called `name` would get."""
        tname, t = self.find_template(name)
        mappings, settings = {}, {}
        if t is None:
            legacy = []
            for ln, lt in self.legacy_templates.items():
                pats = lt.get("index_patterns") or []
                pats = [pats] if isinstance(pats, str) else pats
                if any(wildcard_match(p, name) for p in pats):
                    legacy.append(lt)
            for lt in sorted(legacy, key=lambda x: x.get("order", 0)):
                merge_mappings(mappings, lt.get("mappings") or {})
                settings.update(flatten_settings(lt.get("settings")))
            return None, settings, mappings, False
        for c in t.get("composed_of") or []:
            ct = self.component_templates.get(c, {}).get("template", {})
            merge_mappings(mappings, ct.get("mappings") or {})
            settings.update(flatten_settings(ct.get("settings")))
        own = t.get("template") or {}
        merge_mappings(mappings, own.get("mappings") or {})
        settings.update(flatten_settings(own.get("settings")))
        return tname, settings, mappings, t.get("data_stream") is not None

    def create_index(self, name, mappings=None, settings=None, data_stream=None):
        """Create an index from templates (and explicit body for PUT /{index})."""
        tname, tsettings, tmappings, ds = self.compose(name if data_stream is None else data_stream)
        if mappings:
            merge_mappings(tmappings, mappings)
        if settings:
            tsettings.update(flatten_settings(settings))
        mapper = Mapper(tmappings, tsettings, self.args.parse_error_type, data_stream=data_stream is not None)
        idx = Index(name, mapper, tsettings, data_stream)
        self.indices[name] = idx
        return idx

    def create_data_stream(self, name):
        day = time.strftime("%Y.%m.%d", time.gmtime())
        backing = f".ds-{name}-{day}-000001"
        idx = self.create_index(backing, data_stream=name)
        self.data_streams[name] = idx
        return idx

    def write_target(self, name):
        """Resolve (auto-creating) the index a write to `name` goes to; raises DocError."""
        idx = self.data_streams.get(name) or self.indices.get(name)
        if idx is not None:
            return idx
        bad = valid_index_name(name)
        if bad:
            raise DocError(400, {"type": "invalid_index_name_exception",
                                 "reason": f"Invalid index name [{name}], {bad}", "index_uuid": "_na_",
                                 "index": name})
        tname, t = self.find_template(name)
        if t is not None and t.get("data_stream") is not None:
            return self.create_data_stream(name)
        if self.args.no_auto_create:
            raise DocError(404, {"type": "index_not_found_exception", "reason": f"no such index [{name}]",
                                 "resource.type": "index_expression", "resource.id": name,
                                 "index_uuid": "_na_", "index": name})
        return self.create_index(name)

    def resolve(self, expr, allow_missing=False):
        """Indices targeted by a search/count expression (comma lists, wildcards, _all)."""
        out = []
        seen = set()
        for part in (expr or "_all").split(","):
            part = part.strip()
            if not part:
                continue
            if part in ("_all", "*"):
                cands = [i for n, i in self.indices.items() if not n.startswith(".")]
                cands += list(self.data_streams.values())
            elif "*" in part or "?" in part:
                cands = [i for n, i in self.indices.items()
                         if wildcard_match(part, n) and (not n.startswith(".") or part.startswith("."))]
                cands += [i for n, i in self.data_streams.items() if wildcard_match(part, n)]
            else:
                i = self.data_streams.get(part) or self.indices.get(part)
                if i is None:
                    if allow_missing:
                        continue
                    raise ApiError(404, "index_not_found_exception", f"no such index [{part}]",
                                   **{"resource.type": "index_or_alias", "resource.id": part,
                                      "index_uuid": "_na_", "index": part})
                cands = [i]
            for i in cands:
                if id(i) not in seen:
                    seen.add(id(i))
                    out.append(i)
        return out


# --------------------------------------------------------------------------------------------
# Bulk
# --------------------------------------------------------------------------------------------

def parse_error_message(e: json.JSONDecodeError, line_no):
    return f"[{line_no}:{e.colno}] Unexpected character: {e.msg}"


UNPARSED = object()
_scan_once = json.JSONDecoder().scan_once      # the C scanner: (value, end) for text at a position
BULK_OPS = frozenset(("index", "create", "update", "delete"))
UPDATE_KEYS = frozenset(("doc", "doc_as_upsert", "upsert", "script", "scripted_upsert", "detect_noop",
                         "_source", "lang", "params"))


class BulkItem:
    __slots__ = ("op", "index", "id", "meta", "src", "line", "update", "doc")

    def __init__(self, op, index, id_, meta, src, line, doc=UNPARSED):
        self.op, self.index, self.id, self.meta, self.src, self.line = op, index, id_, meta, src, line
        self.update = None
        self.doc = doc


def parse_bulk_fast(body, default_index, parse_docs=True):
    """One pass over the body with the C scanner, for well-formed requests (the common case).
    Returns None whenever anything is unusual; parse_bulk then redoes the work line by line and
    produces Elasticsearch's exact error for the problem."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    scan, find = _scan_once, text.find
    n = len(text)
    pos = 0
    line = 0
    items = []
    append = items.append
    ops, meta_keys = BULK_OPS, BULK_META_KEYS
    try:
        while pos < n:
            line += 1
            action, end = scan(text, pos)
            nl = find("\n", end)
            if nl != end and (nl < 0 or text[end:nl].strip()):
                return None
            pos = nl + 1
            if type(action) is not dict or len(action) != 1:
                return None
            (op, meta), = action.items()
            if op not in ops or type(meta) is not dict:
                return None
            for k in meta:
                if k not in meta_keys:
                    return None
            id_ = meta.get("_id")
            if id_ is not None and type(id_) is not str:
                id_ = str(id_)
            if op == "delete":
                append(BulkItem(op, meta.get("_index", default_index), id_, meta, None, line))
                continue
            if pos >= n:
                return None
            line += 1
            if parse_docs or op == "update":
                doc, end = scan(text, pos)
                nl = find("\n", end)
                if nl != end and (nl < 0 or text[end:nl].strip()):
                    return None
            else:
                doc = UNPARSED
                end = nl = find("\n", pos)
                if nl < 0:
                    return None
            src = text[pos:end]
            pos = nl + 1
            it = BulkItem(op, meta.get("_index", default_index), id_, meta, src, line - 1, doc)
            if op == "update":
                if type(doc) is not dict or not UPDATE_KEYS.issuperset(doc):
                    return None
                it.update = doc
            append(it)
    except (StopIteration, ValueError):
        return None
    return items


def parse_bulk(body: bytes, default_index, parse_docs=True):
    """Parse the NDJSON body up front, as Elasticsearch does: malformed action lines fail the
    whole request with 400. Document sources are kept raw and parsed per item."""
    if not body.endswith(b"\n"):
        raise ApiError(400, "illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]")
    items = parse_bulk_fast(body, default_index, parse_docs)
    if items is None:
        items = parse_bulk_lines(body, default_index)
    validate_bulk(items)
    return items


def parse_bulk_lines(body, default_index):
    lines = body.split(b"\n")
    lines.pop()
    items = []
    n = len(lines)
    i = 0
    loads = _loads
    while i < n:
        line = lines[i]
        i += 1
        if not line.strip():
            continue
        try:
            action = loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            msg = parse_error_message(e, i) if isinstance(e, json.JSONDecodeError) else f"[{i}:1] Invalid UTF-8"
            raise ApiError(400, "x_content_parse_exception", msg) from None
        if type(action) is not dict:
            tok = {str: "VALUE_STRING", int: "VALUE_NUMBER", float: "VALUE_NUMBER", bool: "VALUE_BOOLEAN",
                   list: "START_ARRAY"}.get(type(action), "VALUE_NULL")
            raise ApiError(400, "illegal_argument_exception",
                           f"Malformed action/metadata line [{i}], expected START_OBJECT but found [{tok}]")
        if len(action) != 1:
            if not action:
                raise ApiError(400, "illegal_argument_exception",
                               f"Malformed action/metadata line [{i}], expected FIELD_NAME but found [END_OBJECT]")
            keys = list(action)
            raise ApiError(400, "illegal_argument_exception",
                           f"Malformed action/metadata line [{i}], expected END_OBJECT but found [FIELD_NAME]"
                           if keys[0] in ("index", "create", "update", "delete") else
                           f"Malformed action/metadata line [{i}], expected field [create], [delete], [index] "
                           f"or [update] but found [{keys[0]}]")
        (op, meta), = action.items()
        if op not in ("index", "create", "update", "delete"):
            raise ApiError(400, "illegal_argument_exception",
                           f"Malformed action/metadata line [{i}], expected field [create], [delete], [index] "
                           f"or [update] but found [{op}]")
        if type(meta) is not dict:
            raise ApiError(400, "illegal_argument_exception",
                           f"Malformed action/metadata line [{i}], expected START_OBJECT or END_OBJECT but found "
                           f"[VALUE_STRING]")
        for k in meta:
            if k not in BULK_META_KEYS:
                raise ApiError(400, "illegal_argument_exception",
                               f"Action/metadata line [{i}] contains an unknown parameter [{k}]")
        index = meta.get("_index", default_index)
        id_ = meta.get("_id")
        if id_ is not None:
            id_ = str(id_) if not isinstance(id_, str) else id_
        src = None
        line_no = i
        if op != "delete":
            if i >= n:
                raise ApiError(400, "illegal_argument_exception",
                               "The bulk request must be terminated by a newline [\\n]")
            src = lines[i]
            i += 1
        item = BulkItem(op, index, id_, meta, src, line_no)
        if op == "update":
            try:
                upd = loads(src)
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                raise ApiError(400, "x_content_parse_exception",
                               parse_error_message(e, i) if isinstance(e, json.JSONDecodeError) else "invalid UTF-8") from None
            if type(upd) is not dict:
                raise ApiError(400, "x_content_parse_exception", f"[{i}:1] [UpdateRequest] Expected START_OBJECT")
            for k in upd:
                if k not in UPDATE_KEYS:
                    raise ApiError(400, "x_content_parse_exception",
                                   f"[{i}:{3 + len(k)}] [UpdateRequest] unknown field [{k}]")
            item.update = upd
        items.append(item)
    return items


def validate_bulk(items):
    """Request validation (ActionRequestValidationException lists every problem)."""
    problems = []
    for it in items:
        if it.index is None:
            problems.append("index is missing")
        if it.op in ("update", "delete") and it.id is None:
            problems.append("id is missing")
        if it.id is not None and len(it.id.encode()) > 512:
            problems.append(f"id [{it.id}] is too long, must be no longer than 512 bytes but was: "
                            f"{len(it.id.encode())}")
        if it.op == "update" and it.update is not None and "doc" not in it.update and "script" not in it.update \
                and "upsert" not in it.update:
            problems.append("script or doc is missing")
        if len(problems) > 20:
            break
    if problems:
        reason = "Validation Failed: " + "".join(f"{n}: {p};" for n, p in enumerate(problems, 1))
        raise ApiError(400, "action_request_validation_exception", reason)


def item_error_json(op, index_json, id_, status, err):
    return '{"%s":{"_index":%s,"_id":%s,"status":%d,"error":%s}}' % (
        op, index_json, "null" if id_ is None else _dumps(id_), status, _dumps(err))


def run_bulk(store: Store, items, params, forced_refresh):
    """Execute parsed bulk items; returns (errors?, [item json strings], statuses)."""
    out = []
    statuses = {}
    ops = {}
    errors = False
    faults = store.faults
    frac = faults.item_fraction
    rng = faults.rng
    conflict = faults.conflict_field
    fr = ',"forced_refresh":true' if forced_refresh else ""
    new_id = store.new_id
    skip_parse = store.args.skip_doc_parsing
    targets = {}
    with store.lock:
        for it in items:
            op = it.op
            ops[op] = ops.get(op, 0) + 1
            name = it.index
            idx = targets.get(name)
            try:
                if idx is None:
                    idx = store.write_target(name)
                    targets[name] = idx
                index_json = idx.name_json
                id_ = it.id
                if id_ is None and op in ("index", "create"):
                    id_ = new_id()
                    id_json = '"' + id_ + '"'
                else:
                    id_json = None
                if idx.data_stream and op != "create":
                    raise DocError(400, {"type": "illegal_argument_exception",
                                         "reason": "only write ops with an op_type of create are allowed in data streams"})
                if frac and rng.random() < frac:
                    store.stats.faults["item"] += 1
                    st = faults.item_status
                    raise DocError(st, {"type": "es_rejected_execution_exception",
                                        "reason": "rejected execution of primary operation [coordinating_and_primary_bytes=0, "
                                                  "replica_bytes=0, all_bytes=0, primary_operation_bytes=0, "
                                                  "max_coordinating_and_primary_bytes=0] (sds test server fault injection)"}
                                   if st == 429 else {"type": "sds_injected_exception", "reason": "injected"})
                if op in ("index", "create"):
                    src = it.src
                    if not skip_parse:
                        doc = it.doc
                        if doc is UNPARSED:
                            doc = parse_source(src, store.args.parse_error_type)
                        if type(doc) is not dict:
                            raise DocError(400, {"type": store.args.parse_error_type, "reason": "failed to parse",
                                                 "caused_by": {"type": "not_x_content_exception",
                                                               "reason": "Compressor detection can only be called "
                                                                         "on some xcontent bytes or compressed "
                                                                         "xcontent bytes"}})
                        if conflict is not None and conflict in doc:
                            store.stats.faults["mapping_conflict"] += 1
                            raise DocError(400, {"type": store.args.parse_error_type,
                                                 "reason": f"failed to parse field [{conflict}] of type [keyword] "
                                                           f"in document with id '{id_}'. Preview of field's "
                                                           f"value: '{java_preview(doc[conflict])}'",
                                                 "caused_by": {"type": "illegal_argument_exception",
                                                               "reason": "injected mapping conflict (sds test "
                                                                         "server)"}})
                        idx.mapper.check(doc, id_, src)
                    cur = idx.docs.get(id_)
                    if cur is not None:
                        if op == "create":
                            raise DocError(409, {"type": "version_conflict_engine_exception",
                                                 "reason": f"[{id_}]: version conflict, document already exists "
                                                           f"(current version [{cur[0]}])",
                                                 "index_uuid": idx.uuid, "shard": "0", "index": idx.name})
                        check_cas(it, idx, id_, cur)
                        version = cur[0] + 1
                        result, status = "updated", 200
                    else:
                        check_cas(it, idx, id_, None)
                        version = idx.tombstones.pop(id_, 0) + 1
                        result, status = "created", 201
                    idx.seq_no += 1
                    idx.docs[id_] = [version, idx.seq_no, None if store.args.no_source else src]
                elif op == "delete":
                    cur = idx.docs.get(id_)
                    idx.seq_no += 1
                    if cur is None:
                        version = idx.tombstones.get(id_, 0) + 1
                        result, status = "not_found", 404
                    else:
                        check_cas(it, idx, id_, cur)
                        del idx.docs[id_]
                        version = cur[0] + 1
                        idx.tombstones[id_] = version
                        result, status = "deleted", 200
                else:  # update
                    version, result, status = apply_update(store, idx, it, id_)
                idx.dirty = True
                if id_json is None:
                    id_json = _dumps(id_)
                if result == "noop":
                    out.append('{"update":{"_index":%s,"_id":%s,"_version":%d,"result":"noop","_shards":'
                               '{"total":0,"successful":0,"failed":0},"_seq_no":%d,"_primary_term":1,'
                               '"status":200}}' % (index_json, id_json, version, idx.docs[id_][1]))
                else:
                    out.append('{"%s":{"_index":%s,"_id":%s,"_version":%d,"result":"%s","_shards":%s,'
                               '"_seq_no":%d,"_primary_term":1%s,"status":%d}}'
                               % (op, index_json, id_json, version, result, idx.shards_json, idx.seq_no,
                                  fr, status))
            except DocError as e:
                status = e.status
                errors = True
                ij = idx.name_json if idx is not None else _dumps(name)
                if idx is None:
                    id_ = it.id
                out.append(item_error_json(op, ij, id_, status, e.err))
            statuses[status] = statuses.get(status, 0) + 1
        if forced_refresh:
            for idx in targets.values():
                idx.refresh()
    return errors, out, statuses, ops


def parse_source(src, etype):
    try:
        return _loads(src)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        if isinstance(e, json.JSONDecodeError):
            reason = f"[1:{e.colno}] Unexpected character: {e.msg}"
        else:
            reason = "[1:1] Invalid UTF-8 middle byte"
        raise DocError(400, {"type": etype, "reason": "failed to parse",
                             "caused_by": {"type": "x_content_parse_exception", "reason": reason}}) from None


def check_cas(it, idx, id_, cur):
    m = it.meta
    if "if_seq_no" in m or "if_primary_term" in m:
        want_seq, want_term = m.get("if_seq_no"), m.get("if_primary_term", 1)
        if cur is None or cur[1] != want_seq or want_term != 1:
            cur_desc = (f"current document has seqNo [{cur[1]}] and primary term [1]" if cur is not None
                        else "but no document was found")
            raise DocError(409, {"type": "version_conflict_engine_exception",
                                 "reason": f"[{id_}]: version conflict, required seqNo [{want_seq}], primary term "
                                           f"[{want_term}]. {cur_desc}",
                                 "index_uuid": idx.uuid, "shard": "0", "index": idx.name})
    if "version" in m and m.get("version_type") in ("external", "external_gte"):
        v = int(m["version"])
        if cur is not None and (v <= cur[0] if m["version_type"] == "external" else v < cur[0]):
            raise DocError(409, {"type": "version_conflict_engine_exception",
                                 "reason": f"[{id_}]: version conflict, current version [{cur[0]}] is higher or "
                                           f"equal to the one provided [{v}]",
                                 "index_uuid": idx.uuid, "shard": "0", "index": idx.name})


def doc_source(entry):
    src = entry[2]
    if src is None:
        return None
    if isinstance(src, (bytes, bytearray, str)):
        return _loads(src)
    return src


def apply_update(store, idx, it, id_):
    upd = it.update
    if "script" in upd:
        raise DocError(400, {"type": "illegal_argument_exception",
                             "reason": "scripted updates are not supported by the sds test server"})
    cur = idx.docs.get(id_)
    if cur is None:
        if upd.get("doc_as_upsert") and "doc" in upd:
            new = upd["doc"]
        elif "upsert" in upd:
            new = upd["upsert"]
        else:
            raise DocError(404, {"type": "document_missing_exception", "reason": f"[{id_}]: document missing",
                                 "index_uuid": idx.uuid, "shard": "0", "index": idx.name})
        if type(new) is not dict:
            raise DocError(400, {"type": "illegal_argument_exception", "reason": "upsert must be an object"})
        idx.mapper.check(new, id_)
        version = idx.tombstones.pop(id_, 0) + 1
        idx.seq_no += 1
        idx.docs[id_] = [version, idx.seq_no, None if store.args.no_source else _dumps(new).encode()]
        return version, "created", 201
    check_cas(it, idx, id_, cur)
    doc = upd.get("doc")
    if type(doc) is not dict:
        raise DocError(400, {"type": "illegal_argument_exception", "reason": "[doc] must be an object"})
    old = doc_source(cur) or {}
    changed = deep_merge(old, doc)
    if not changed and upd.get("detect_noop", True):
        return cur[0], "noop", 200
    idx.mapper.check(old, id_)
    idx.seq_no += 1
    cur[0] += 1
    cur[1] = idx.seq_no
    cur[2] = None if store.args.no_source else _dumps(old).encode()
    return cur[0], "updated", 200


# --------------------------------------------------------------------------------------------
# Search
# --------------------------------------------------------------------------------------------

def field_values(doc, path):
    """All values at a dotted path (arrays flattened; dotted keys in the source honoured)."""
    out = []

    def walk(node, parts):
        if not parts:
            if isinstance(node, list):
                for x in node:
                    walk(x, parts)
            elif node is not None:
                out.append(node)
            return
        if isinstance(node, list):
            for x in node:
                walk(x, parts)
            return
        if not isinstance(node, dict):
            return
        for j in range(len(parts), 0, -1):
            key = ".".join(parts[:j])
            if key in node:
                walk(node[key], parts[j:])
    walk(doc, path.split("."))
    return out


def norm(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v == int(v):
        return str(int(v))
    return str(v)


class Matcher:
    def __init__(self, query, indices):
        self.q = query if query is not None else {"match_all": {}}
        self.indices = indices

    def field_type(self, idx, field):
        m = idx.mapper.lookup(field)
        base = field
        if m is None and "." in field:
            parent, _, sub = field.rpartition(".")
            pm = idx.mapper.lookup(parent)
            if isinstance(pm, Field) and sub in (pm.spec.get("fields") or {}):
                return pm.spec["fields"][sub].get("type", "keyword"), parent
        if isinstance(m, Field):
            # multi-field path ("f.keyword") resolves to the parent's values
            parts = field.split(".")
            for i in range(len(parts) - 1, 0, -1):
                pm = idx.mapper.lookup(".".join(parts[:i]))
                if isinstance(pm, Field):
                    return m.type, ".".join(parts[:i])
            return m.type, base
        return None, base

    def match(self, idx, doc_id, doc, q=None):
        q = self.q if q is None else q
        if not isinstance(q, dict) or len(q) != 1:
            raise ApiError(400, "parsing_exception", "query malformed, must start with start_object"
                           if not isinstance(q, dict) else "[_na] query malformed, no start_object after query name")
        (kind, body), = q.items()
        if kind == "match_all":
            return True
        if kind == "match_none":
            return False
        if kind == "ids":
            return doc_id in [str(x) for x in (body.get("values") or [])]
        if kind == "bool":
            def lst(x):
                return x if isinstance(x, list) else ([x] if x else [])
            must = lst(body.get("must")) + lst(body.get("filter"))
            should = lst(body.get("should"))
            must_not = lst(body.get("must_not"))
            if not all(self.match(idx, doc_id, doc, c) for c in must):
                return False
            if any(self.match(idx, doc_id, doc, c) for c in must_not):
                return False
            if should:
                msm = body.get("minimum_should_match", 0 if must else 1)
                n = sum(1 for c in should if self.match(idx, doc_id, doc, c))
                return n >= int(msm)
            return True
        if kind == "exists":
            t, path = self.field_type(idx, body.get("field", ""))
            return bool(field_values(doc, path))
        if not isinstance(body, dict) or len(body) != 1:
            raise ApiError(400, "parsing_exception", f"[{kind}] query doesn't support multiple fields, found "
                           f"[{', '.join(body) if isinstance(body, dict) else body}]")
        (field, spec), = body.items()
        if kind in ("term", "match", "match_phrase", "prefix", "wildcard"):
            if isinstance(spec, dict):
                value = spec.get("value", spec.get("query"))
                operator = str(spec.get("operator", "or")).lower()
                ci = spec.get("case_insensitive", False)
            else:
                value, operator, ci = spec, "or", False
        elif kind == "terms":
            value, operator, ci = spec, "or", False
        elif kind == "range":
            value, operator, ci = spec, None, False
        else:
            raise ApiError(400, "parsing_exception", f"unknown query [{kind}]", line=1, col=14)
        t, path = self.field_type(idx, field)
        vals = field_values(doc, path)
        if doc_id is not None and field == "_id":
            vals = [doc_id]
        if not vals:
            return False
        if kind == "range":
            return any(in_range(v, value) for v in vals)
        analysed = t in ("text", "match_only_text")
        if kind == "terms":
            want = {norm(x) for x in (value or [])}
            if analysed:
                return any(tok in want for v in vals for tok in tokens(v))
            return any(norm(v) in want for v in vals)
        if kind in ("prefix", "wildcard"):
            pat = str(value) + ("*" if kind == "prefix" else "")
            return any(fnmatch.fnmatchcase(norm(v).lower() if ci else norm(v), pat.lower() if ci else pat)
                       for v in vals)
        if kind == "term":
            want = norm(value)
            if t in INT_RANGES or t in FLOAT_TYPES:
                return any(num_eq(v, value) for v in vals)
            if analysed:
                return any(want == tok for v in vals for tok in tokens(v))
            if ci:
                return any(norm(v).lower() == want.lower() for v in vals)
            return any(norm(v) == want for v in vals)
        # match / match_phrase
        if t in INT_RANGES or t in FLOAT_TYPES:
            return any(num_eq(v, value) for v in vals)
        if analysed or (t is None and isinstance(value, str)):
            qt = tokens(value)
            if not qt:
                return False
            if kind == "match_phrase":
                phrase = " ".join(qt)
                return any(phrase in " ".join(tokens(v)) for v in vals)
            dt = {tok for v in vals for tok in tokens(v)}
            return all(x in dt for x in qt) if operator == "and" else any(x in dt for x in qt)
        return any(norm(v) == norm(value) for v in vals)


def tokens(v):
    return TOKEN_RE.findall(norm(v).lower())


def num_eq(a, b):
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False


def in_range(v, spec):
    def cmp(a, b):
        try:
            fa, fb = float(a), float(b)
            return (fa > fb) - (fa < fb)
        except (TypeError, ValueError):
            sa, sb = norm(a), norm(b)
            return (sa > sb) - (sa < sb)
    for op, bound in spec.items():
        if op in ("format", "time_zone", "relation", "boost"):
            continue
        c = cmp(v, bound)
        if op == "gte" and c < 0 or op == "gt" and c <= 0 or op == "lte" and c > 0 or op == "lt" and c >= 0:
            return False
    return True


def query_from_q(q):
    if ":" in q:
        f, v = q.split(":", 1)
        return {"match": {f: v.strip('"')}}
    if q in ("*", "*:*"):
        return {"match_all": {}}
    return {"query_string_any": q}


def run_search(store, expr, body, params):
    size = int(params.get("size", body.get("size", 10)))
    from_ = int(params.get("from", body.get("from", 0)))
    query = body.get("query")
    if "q" in params:
        query = query_from_q(params["q"])
    if size < 0 or from_ < 0:
        raise ApiError(400, "illegal_argument_exception", f"[size] parameter cannot be negative, found [{size}]")
    if from_ + size > 10000:
        raise ApiError(400, "illegal_argument_exception",
                       f"Result window is too large, from + size must be less than or equal to: [10000] but was "
                       f"[{from_ + size}]. See the scroll api for a more efficient way to request large data sets. "
                       f"This limit can be set by changing the [index.max_result_window] index level setting.")
    t0 = time.monotonic()
    with store.lock:
        indices = store.resolve(expr, allow_missing=params.get("ignore_unavailable") == "true")
        snaps = [(idx, list(idx.searchable().items())) for idx in indices]
    hits = []
    matcher = Matcher(query if not (isinstance(query, dict) and "query_string_any" in query) else None, indices)
    any_text = query.get("query_string_any") if isinstance(query, dict) else None
    for idx, entries in snaps:
        if query is None or "match_all" in query:
            hits.extend((idx, i, e) for i, e in entries)
            continue
        if isinstance(query, dict) and "ids" in query and len(query) == 1:
            want = {str(x) for x in (query["ids"].get("values") or [])}
            hits.extend((idx, i, e) for i, e in entries if i in want)
            continue
        for i, e in entries:
            doc = doc_source(e) or {}
            if any_text is not None:
                if any_text.lower() in json.dumps(doc).lower():
                    hits.append((idx, i, e))
            elif matcher.match(idx, i, doc):
                hits.append((idx, i, e))
    sort = body.get("sort")
    if sort:
        sort = sort if isinstance(sort, list) else [sort]
        for s in reversed(sort):
            if isinstance(s, str):
                fld, order = s, "asc"
            else:
                (fld, o), = s.items()
                order = o.get("order", "asc") if isinstance(o, dict) else o
            if fld == "_doc":
                continue

            def key(h, fld=fld):
                vs = field_values(doc_source(h[2]) or {}, fld.removesuffix(".keyword"))
                v = vs[0] if vs else None
                return (v is None, (0, float(v), "") if isinstance(v, (int, float)) else (1, 0.0, norm(v)))
            hits.sort(key=key, reverse=(order == "desc"))
    total = len(hits)
    tth = body.get("track_total_hits", params.get("track_total_hits", 10000))
    if tth in (True, "true"):
        tot = {"value": total, "relation": "eq"}
    elif tth in (False, "false"):
        tot = None
    else:
        lim = int(tth)
        tot = {"value": min(total, lim), "relation": "eq" if total <= lim else "gte"}
    src_filter = body.get("_source", True)
    out_hits = []
    for idx, i, e in hits[from_:from_ + size]:
        h = {"_index": idx.name, "_id": i, "_score": 1.0}
        if src_filter is not False:
            src = doc_source(e)
            if src is not None:
                if isinstance(src_filter, list):
                    src = {k: v for k, v in src.items() if any(wildcard_match(p, k) for p in src_filter)}
                h["_source"] = src
        if sort:
            h["_score"] = None
        out_hits.append(h)
    took = int((time.monotonic() - t0) * 1000)
    n = len(indices)
    res = {"took": took, "timed_out": False,
           "_shards": {"total": n, "successful": n, "skipped": 0, "failed": 0},
           "hits": {"max_score": None if sort or not out_hits else 1.0, "hits": out_hits}}
    if tot is not None:
        res["hits"] = {"total": tot, **res["hits"]}
    return res


def run_count(store, expr, body, params):
    query = (body or {}).get("query")
    if "q" in params:
        query = query_from_q(params["q"])
    with store.lock:
        indices = store.resolve(expr, allow_missing=params.get("ignore_unavailable") == "true")
        snaps = [(idx, idx.searchable()) for idx in indices]
    if query is None or (isinstance(query, dict) and "match_all" in query):
        count = sum(len(s) for _, s in snaps)
    else:
        res = run_search(store, expr, {"query": query, "size": 0, "track_total_hits": True}, {})
        count = res["hits"]["total"]["value"]
    n = len(indices)
    return {"count": count, "_shards": {"total": n, "successful": n, "skipped": 0, "failed": 0}}


# --------------------------------------------------------------------------------------------
# filter_path
# --------------------------------------------------------------------------------------------

def filter_path(obj, spec):
    pats = [p.split(".") for p in spec.split(",") if p]
    incl = [p for p in pats if not p[0].startswith("-")]
    if not incl:
        return obj

    def f(node, paths):
        if any(not p for p in paths):
            return node
        if isinstance(node, list):
            out = [f(x, paths) for x in node]
            return [x for x in out if x is not None and x != {}] or None
        if not isinstance(node, dict):
            return None
        out = {}
        for k, v in node.items():
            sub = []
            for p in paths:
                if p[0] == "**":
                    sub.append(p)
                    sub.append(p[1:])
                elif wildcard_match(p[0], k):
                    sub.append(p[1:])
            if sub:
                r = f(v, sub)
                if r is not None and r != {} and r != []:
                    out[k] = r
        return out or None
    return f(obj, incl) or {}


# --------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------

REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
           404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable", 409: "Conflict",
           413: "Request Entity Too Large", 429: "Too Many Requests", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


class DropConnection(Exception):
    pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sds-es-test"
    sys_version = ""

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.store = self.server.store
        with self.store.lock:
            self.store.stats.connections += 1

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("es_server: %s - %s\n" % (self.address_string(), fmt % args))

    def handle_expect_100(self):
        # Answer 413 before the client sends an oversized body (Expect: 100-continue).
        cl = self.headers.get("Content-Length")
        if cl and cl.isdigit() and int(cl) > self.server.max_body and not self._is_control():
            self._count_request("other")
            self._send(413, b"", content_type=None)
            self.close_connection = True
            return False
        return super().handle_expect_100()

    def _is_control(self):
        return self.path.startswith("/_sds_")

    # All methods share one dispatcher.
    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_GET

    def _count_request(self, endpoint):
        st = self.store.stats
        with self.store.lock:
            st.requests += 1
            st.by_endpoint[endpoint] = st.by_endpoint.get(endpoint, 0) + 1

    def _send(self, status, body, content_type="application/json", headers=None):
        if isinstance(body, (dict, list)):
            body = self._json(body)
        elif isinstance(body, str):
            body = body.encode()
        hdrs = [f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}"]
        if self.server.distribution == "elasticsearch" and status != 401:
            hdrs.append("X-elastic-product: Elasticsearch")
        if content_type:
            hdrs.append(f"content-type: {content_type}; charset=UTF-8" if content_type == "application/json"
                        else f"content-type: {content_type}")
        if body and len(body) > 1024 and self.server.compress and \
                "gzip" in (self.headers.get("Accept-Encoding") or "") and self.command != "HEAD":
            body = gzip.compress(body, compresslevel=1, mtime=0)
            hdrs.append("content-encoding: gzip")
            hdrs.append("vary: Accept-Encoding")
        for k, v in (headers or []):
            hdrs.append(f"{k}: {v}")
        hdrs.append(f"content-length: {len(body)}")
        if self.close_connection:
            hdrs.append("connection: close")
        data = ("\r\n".join(hdrs) + "\r\n\r\n").encode("latin-1")
        if self.command != "HEAD":
            data += body
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        if not self._is_control():   # the control API stays out of the counters
            st = self.store.stats
            with self.store.lock:
                st.status[str(status)] = st.status.get(str(status), 0) + 1
                st.bytes_out += len(data)
        if self.server.verbose:
            self.log_request(status, len(body))

    def _json(self, obj):
        if "pretty" in self.params and self.params.get("pretty") != "false":
            return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode()
        if "filter_path" in self.params:
            obj = filter_path(obj, self.params["filter_path"])
        return _dumps(obj).encode()

    def _read_body(self):
        """Read the request body (Content-Length or chunked), enforcing --max-body-bytes."""
        limit = self.server.max_body
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            parts, total = [], 0
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise DropConnection()
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += n
                if total > limit:
                    self._drain(n + 2)
                    self._drain_chunked()
                    return None, total
                parts.append(self.rfile.read(n))
                self.rfile.read(2)
            body = b"".join(parts)
        else:
            cl = self.headers.get("Content-Length")
            n = int(cl) if cl and cl.strip().isdigit() else 0
            if n > limit:
                self._drain(n)
                return None, n
            body = self.rfile.read(n) if n else b""
            if len(body) < n:
                raise DropConnection()
        return body, len(body)

    def _drain(self, n):
        while n > 0:
            chunk = self.rfile.read(min(n, MiB))
            if not chunk:
                break
            n -= len(chunk)

    def _drain_chunked(self):
        while True:
            line = self.rfile.readline(65537)
            if not line:
                return
            n = int(line.split(b";")[0].strip() or b"0", 16)
            if n == 0:
                self.rfile.readline(65537)
                return
            self._drain(n + 2)

    def _decode(self, body):
        enc = (self.headers.get("Content-Encoding") or "").lower().strip()
        if not enc or enc == "identity" or not body:
            return body
        limit = self.server.max_body
        if enc in ("gzip", "x-gzip", "deflate"):
            d = zlib.decompressobj(wbits=47 if enc != "deflate" else 15)
            try:
                out = d.decompress(body, limit + 1)
                if len(out) > limit:
                    raise ApiError(413, "", "")
                if not d.eof:
                    raise zlib.error("truncated compressed body")
                while d.unused_data:   # concatenated gzip members
                    rest = d.unused_data
                    d = zlib.decompressobj(wbits=47)
                    out += d.decompress(rest, limit + 1 - len(out))
                    if len(out) > limit:
                        raise ApiError(413, "", "")
            except zlib.error as e:
                raise ApiError(400, "illegal_argument_exception", f"failed to decompress request body: {e}") from None
            self.store.stats.gzip_requests += 1
            return out
        raise ApiError(400, "illegal_argument_exception", f"unsupported Content-Encoding [{enc}]")

    def _authenticate(self):
        srv = self.server
        if not srv.users and not srv.api_keys:
            return None
        auth = self.headers.get("Authorization") or ""
        scheme, _, cred = auth.partition(" ")
        scheme = scheme.lower()
        path = urlsplit(self.path).path
        hdr = [("WWW-Authenticate", 'Basic realm="security" charset="UTF-8"'),
               ("WWW-Authenticate", 'Bearer realm="security"'), ("WWW-Authenticate", "ApiKey")]
        if scheme == "basic" and srv.users:
            try:
                user, _, pw = base64.b64decode(cred.strip(), validate=True).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                user, pw = "", None
            want = srv.users.get(user)
            if want is not None and pw is not None and hmac.compare_digest(want, pw):
                return {"username": user, "type": "basic"}
            reason = f"unable to authenticate user [{user}] for REST request [{path}]"
        elif scheme == "apikey" and srv.api_keys:
            try:
                kid, _, key = base64.b64decode(cred.strip(), validate=True).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                kid, key = "", None
            want = srv.api_keys.get(kid)
            if want is not None and key is not None and hmac.compare_digest(want, key):
                return {"username": f"api_key:{kid}", "type": "api_key", "api_key": {"id": kid}}
            reason = "unable to authenticate with provided credentials and anonymous access is not allowed " \
                     "for this request"
        else:
            reason = f"missing authentication credentials for REST request [{path}]"
        st, body = es_error(401, "security_exception", reason,
                            header={"WWW-Authenticate": [v for _, v in hdr]})
        raise _AuthFail(st, body, hdr)

    def _dispatch(self):
        self.params = {}
        try:
            parts = urlsplit(self.path)
            self.params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            segs = [unquote(s) for s in parts.path.split("/") if s]
            self.segs = segs
            if segs and segs[0].startswith("_sds_"):
                body, _ = self._read_body()
                return self._control(segs, body)
            endpoint = "bulk" if segs[-1:] == ["_bulk"] else next(
                (x for x in segs if x.startswith("_")), "index" if segs else "root")
            self._count_request(endpoint)
            faults = self.store.faults
            if faults.latency > 0 and faults.latency_count != 0:
                with self.store.lock:
                    if faults.latency_count > 0:
                        faults.latency_count -= 1
                    self.store.stats.faults["latency"] += 1
                time.sleep(faults.latency)
            body, wire_len = self._read_body()
            st = self.store.stats
            with self.store.lock:
                st.bytes_in += wire_len
            if body is None:
                self.close_connection = True
                return self._send(413, b"", content_type=None)
            body = self._decode(body)
            with self.store.lock:
                st.bytes_in_decoded += len(body)
            user = self._authenticate()
            # Fault injection: dropped connections (bulk only) then status faults.
            if endpoint == "bulk" and faults.drop > 0:
                with self.store.lock:
                    go = faults.drop > 0
                    if go:
                        faults.drop -= 1
                        st.faults["dropped"] += 1
                if go:
                    if faults.drop_mode == "half":
                        resp = b'{"took":1,"errors":false,"items":[{"index":{"_index":"x","_id":"1","status":201}}]}'
                        head = (f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                                f"content-length: {len(resp) * 4}\r\n\r\n").encode()
                        self.wfile.write(head + resp[:len(resp) // 2])
                        self.wfile.flush()
                    raise DropConnection()
            if faults.status is not None:
                with self.store.lock:
                    fs = faults.status
                    hit = fs is not None and (not fs[2] or fs[2] in self.path)
                    if hit:
                        status, remaining, _, custom = fs
                        if remaining > 0:
                            remaining -= 1
                            faults.status = (status, remaining, fs[2], custom) if remaining else None
                        st.faults["status"] += 1
                if hit:
                    return self._fault_response(status, custom)
            return self._route(segs, body, user)
        except _AuthFail as e:
            return self._send(e.status, e.body, headers=e.headers)
        except ApiError as e:
            if e.status == 413:
                self.close_connection = True
                return self._send(413, b"", content_type=None)
            st, body = e.response()
            return self._send(st, body)
        except DropConnection:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:  # pragma: no cover - reported to the client like ES does
            if self.server.verbose:
                import traceback
                traceback.print_exc()
            st, body = es_error(500, "exception", f"sds test server internal error: {e!r}")
            return self._send(st, body)

    def _fault_response(self, status, custom):
        if custom is not None:
            return self._send(status, custom if isinstance(custom, (dict, list)) else str(custom))
        if status == 429:
            st, body = es_error(429, "es_rejected_execution_exception",
                                "rejected execution of coordinating operation [coordinating_and_primary_bytes=0, "
                                "replica_bytes=0, all_bytes=0, coordinating_operation_bytes=0, "
                                "max_coordinating_and_primary_bytes=0] (sds test server fault injection)")
            return self._send(st, body)
        if status == 503:
            st, body = es_error(503, "cluster_block_exception",
                                "blocked by: [SERVICE_UNAVAILABLE/2/no master];")
            return self._send(st, body)
        if status in (502, 504):
            text = f"<html><head><title>{status} {REASONS[status]}</title></head><body><center><h1>{status} " \
                   f"{REASONS[status]}</h1></center></body></html>\n"
            return self._send(status, text, content_type="text/html")
        st, body = es_error(status, "sds_injected_exception", f"injected status {status}")
        return self._send(status, body)

    def _json_body(self, body, required=False):
        if not body:
            if required:
                raise ApiError(400, "parse_exception", "request body is required")
            return {}
        ct = (self.headers.get("Content-Type") or "").lower()
        if ct and not ("json" in ct or "ndjson" in ct):
            raise _NotAcceptable(ct)
        try:
            obj = _loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ApiError(400, "x_content_parse_exception",
                           f"[{getattr(e, 'lineno', 1)}:{getattr(e, 'colno', 1)}] Unexpected character: "
                           f"{getattr(e, 'msg', 'invalid UTF-8')}") from None
        if not isinstance(obj, dict):
            raise ApiError(400, "parse_exception", "request body must be a JSON object")
        return obj

    # --- routing ------------------------------------------------------------------------------
    def _route(self, segs, body, user):
        m = self.command
        store = self.store
        try:
            n = len(segs)
            if n == 0:
                if m in ("GET", "HEAD"):
                    return self._send(200, self._root_info())
                return self._method_not_allowed(["GET", "HEAD"])
            s0 = segs[0]
            if segs[-1] == "_bulk" and n <= 2:
                if m not in ("POST", "PUT"):
                    return self._method_not_allowed(["POST", "PUT"])
                return self._bulk(segs[0] if n == 2 else None, body)
            if s0 == "_index_template":
                return self._index_template(segs[1] if n > 1 else None, body)
            if s0 == "_component_template":
                return self._component_template(segs[1] if n > 1 else None, body)
            if s0 == "_template":
                return self._legacy_template(segs[1] if n > 1 else None, body)
            if s0 == "_data_stream":
                return self._data_stream(segs[1] if n > 1 else None)
            if s0 == "_cat" and n >= 2 and segs[1] == "indices":
                return self._cat_indices(segs[2] if n > 2 else None)
            if s0 == "_cluster" and n >= 2 and segs[1] == "health":
                return self._send(200, {"cluster_name": "sds-test", "status": "green" if not store.indices
                                        else "yellow", "timed_out": False, "number_of_nodes": 1,
                                        "number_of_data_nodes": 1, "active_primary_shards": len(store.indices),
                                        "active_shards": len(store.indices), "relocating_shards": 0,
                                        "initializing_shards": 0, "unassigned_shards": len(store.indices),
                                        "delayed_unassigned_shards": 0, "number_of_pending_tasks": 0,
                                        "number_of_in_flight_fetch": 0, "task_max_waiting_in_queue_millis": 0,
                                        "active_shards_percent_as_number": 50.0 if store.indices else 100.0})
            if s0 == "_security" and segs[1:] == ["_authenticate"]:
                u = user or {"username": "_anonymous", "type": "anonymous"}
                return self._send(200, {"username": u["username"], "roles": ["superuser"], "full_name": None,
                                        "email": None, "metadata": {}, "enabled": True,
                                        "authentication_type": u["type"],
                                        **({"api_key": u["api_key"]} if "api_key" in u else {})})
            if s0 == "_ingest" and n >= 2 and segs[1] == "pipeline":
                return self._pipeline(segs[2] if n > 2 else None, body)
            if s0 == "_refresh" or (n == 2 and segs[1] == "_refresh"):
                if m not in ("POST", "GET"):
                    return self._method_not_allowed(["POST", "GET"])
                with store.lock:
                    idxs = store.resolve(None if s0 == "_refresh" else s0)
                    for i in idxs:
                        i.refresh()
                k = len(idxs)
                return self._send(200, {"_shards": {"total": 2 * k, "successful": k, "failed": 0}})
            if s0 == "_count" or (n == 2 and segs[1] == "_count"):
                if m not in ("POST", "GET"):
                    return self._method_not_allowed(["POST", "GET"])
                return self._send(200, run_count(store, None if s0 == "_count" else s0,
                                                 self._json_body(body), self.params))
            if s0 == "_search" or (n == 2 and segs[1] == "_search"):
                if m not in ("POST", "GET"):
                    return self._method_not_allowed(["POST", "GET"])
                return self._send(200, run_search(store, None if s0 == "_search" else s0,
                                                  self._json_body(body), self.params))
            if s0 == "_mapping" or (n == 2 and segs[1] == "_mapping"):
                return self._mapping(None if s0 == "_mapping" else s0, body)
            if n >= 2 and segs[1] in ("_doc", "_create", "_update"):
                return self._doc(s0, segs[1], segs[2] if n > 2 else None, body)
            if n == 1 and not s0.startswith("_"):
                return self._index(s0, body)
            if n == 2 and segs[1] == "_settings" and m == "GET":
                with store.lock:
                    idxs = store.resolve(s0)
                    return self._send(200, {i.name: {"settings": i.info_settings()} for i in idxs})
            return self._send(400, {"error": f"no handler found for uri [{self.path}] and method [{m}]",
                                    "status": 400})
        except _NotAcceptable as e:
            return self._send(406, {"error": f"Content-Type header [{e.args[0]}] is not supported",
                                    "status": 406})

    def _method_not_allowed(self, allowed):
        return self._send(405, {"error": f"Incorrect HTTP method for uri [{self.path}] and method "
                                         f"[{self.command}], allowed: [{', '.join(allowed)}]", "status": 405},
                          headers=[("Allow", ",".join(allowed))])

    def _root_info(self):
        srv = self.server
        if srv.distribution == "opensearch":
            return {"name": "sds-es-test", "cluster_name": "sds-test", "cluster_uuid": self.store.cluster_uuid,
                    "version": {"distribution": "opensearch", "number": srv.version_number,
                                "build_type": "tar", "build_hash": "0" * 40,
                                "build_date": "2024-03-26T00:00:00.000000Z", "build_snapshot": False,
                                "lucene_version": "9.10.0", "minimum_wire_compatibility_version": "7.10.0",
                                "minimum_index_compatibility_version": "7.0.0"},
                    "tagline": "The OpenSearch Project: https://opensearch.org/"}
        return {"name": "sds-es-test", "cluster_name": "sds-test", "cluster_uuid": self.store.cluster_uuid,
                "version": {"number": srv.version_number, "build_flavor": "default", "build_type": "docker",
                            "build_hash": "0" * 40, "build_date": "2024-03-22T03:35:46.757803203Z",
                            "build_snapshot": False, "lucene_version": "9.10.0",
                            "minimum_wire_compatibility_version": "7.17.0",
                            "minimum_index_compatibility_version": "7.0.0"},
                "tagline": "You Know, for Search"}

    def _check_ndjson_type(self):
        ct = (self.headers.get("Content-Type") or "").lower()
        if not ct:
            return
        base = ct.split(";")[0].strip()
        if base not in ("application/x-ndjson", "application/json", "application/vnd.elasticsearch+x-ndjson",
                        "application/vnd.elasticsearch+json", "application/smile", "application/cbor",
                        "application/yaml"):
            raise _NotAcceptable(ct)

    def _bulk(self, default_index, body):
        store = self.store
        try:
            self._check_ndjson_type()
        except _NotAcceptable as e:
            return self._send(406, {"error": f"Content-Type header [{e.args[0]}] is not supported", "status": 406})
        if not body:
            raise ApiError(400, "parse_exception", "request body is required")
        t0 = time.perf_counter()
        items = parse_bulk(body, default_index, not store.args.skip_doc_parsing)
        refresh = self.params.get("refresh")
        forced = refresh in ("", "true", "wait_for")
        errors, out, statuses, ops = run_bulk(store, items, self.params, forced and refresh != "wait_for")
        if refresh == "wait_for":
            with store.lock:
                for it in items:
                    i = store.data_streams.get(it.index) or store.indices.get(it.index)
                    if i is not None:
                        i.refresh()
        took = int((time.perf_counter() - t0) * 1000)
        text = '{"errors":%s,"took":%d,"items":[%s]}' % ("true" if errors else "false", took, ",".join(out))
        st = store.stats
        with store.lock:
            st.bulk_requests += 1
            st.bulk_items += len(items)
            st.max_bulk_bytes = max(st.max_bulk_bytes, len(body))
            for k, v in statuses.items():
                st.bulk_item_status[str(k)] = st.bulk_item_status.get(str(k), 0) + v
            for k, v in ops.items():
                st.bulk_ops[k] = st.bulk_ops.get(k, 0) + v
            st.bulk_seconds += time.perf_counter() - t0
        if "filter_path" in self.params or "pretty" in self.params:
            return self._send(200, _loads(text))
        return self._send(200, text.encode())

    # --- templates ---------------------------------------------------------------------------
    def _index_template(self, name, body):
        m, store = self.command, self.store
        with store.lock:
            if m in ("GET", "HEAD"):
                names = [n for n in store.index_templates if name is None or
                         any(wildcard_match(p, n) for p in name.split(","))]
                if name and not names:
                    if m == "HEAD":
                        return self._send(404, b"", content_type=None)
                    return self._send(*es_error(404, "resource_not_found_exception",
                                                f"index template matching [{name}] not found"))
                if m == "HEAD":
                    return self._send(200, b"", content_type=None)
                return self._send(200, {"index_templates": [{"name": n, "index_template": store.index_templates[n]}
                                                            for n in sorted(names)]})
            if m in ("PUT", "POST") and name:
                t = self._json_body(body, required=True)
                allowed = {"index_patterns", "template", "composed_of", "priority", "version", "_meta",
                           "data_stream", "allow_auto_create", "ignore_missing_component_templates",
                           "deprecated"}
                for k in t:
                    if k not in allowed:
                        raise ApiError(400, "x_content_parse_exception",
                                       f"[1:2] [index_template] unknown field [{k}]")
                if not t.get("index_patterns"):
                    raise ApiError(400, "action_request_validation_exception",
                                   "Validation Failed: 1: index patterns are missing;")
                if self.params.get("create") == "true" and name in store.index_templates:
                    raise ApiError(400, "illegal_argument_exception",
                                   f"index template [{name}] already exists")
                missing = [c for c in t.get("composed_of") or [] if c not in store.component_templates
                           and c not in (t.get("ignore_missing_component_templates") or [])]
                if missing:
                    raise ApiError(400, "invalid_index_template_exception",
                                   f"index_template [{name}] invalid, cause [index template [{name}] specifies "
                                   f"component templates {missing} that do not exist]".replace("'", ""))
                pats = t["index_patterns"] if isinstance(t["index_patterns"], list) else [t["index_patterns"]]
                prio = t.get("priority") or 0
                for on, ot in store.index_templates.items():
                    if on == name or (ot.get("priority") or 0) != prio:
                        continue
                    opats = ot.get("index_patterns") or []
                    opats = opats if isinstance(opats, list) else [opats]
                    if any(wildcard_match(a, b.replace("*", "x")) or wildcard_match(b, a.replace("*", "x"))
                           for a in pats for b in opats):
                        raise ApiError(400, "illegal_argument_exception",
                                       f"index template [{name}] has index patterns {pats} matching patterns "
                                       f"from existing templates [{on}] with patterns ({on} => {opats}) that "
                                       f"have the same priority [{prio}], multiple index templates may not match "
                                       f"during index creation, please use a different priority".replace("'", ""))
                # Validate the composed mappings now, as Elasticsearch does.
                mappings = {}
                for c in t.get("composed_of") or []:
                    merge_mappings(mappings, (store.component_templates.get(c, {}).get("template") or {})
                                   .get("mappings") or {})
                merge_mappings(mappings, (t.get("template") or {}).get("mappings") or {})
                self._validate_mappings(mappings)
                store.index_templates[name] = t
                return self._send(200, {"acknowledged": True})
            if m == "DELETE" and name:
                names = [n for n in store.index_templates if any(wildcard_match(p, n) for p in name.split(","))]
                if not names:
                    raise ApiError(404, "index_template_missing_exception", f"index_template [{name}] missing")
                for n in names:
                    del store.index_templates[n]
                return self._send(200, {"acknowledged": True})
        return self._method_not_allowed(["GET", "HEAD", "PUT", "POST", "DELETE"])

    def _validate_mappings(self, mappings):
        try:
            Mapper(json.loads(json.dumps(mappings)), {}, self.store.args.parse_error_type)
        except ApiError:
            raise
        except Exception as e:
            raise ApiError(400, "mapper_parsing_exception", f"Failed to parse mapping: {e}")

    def _component_template(self, name, body):
        m, store = self.command, self.store
        with store.lock:
            if m in ("GET", "HEAD"):
                names = [n for n in store.component_templates if name is None or wildcard_match(name, n)]
                if name and not names:
                    if m == "HEAD":
                        return self._send(404, b"", content_type=None)
                    return self._send(*es_error(404, "resource_not_found_exception",
                                                f"component template matching [{name}] not found"))
                if m == "HEAD":
                    return self._send(200, b"", content_type=None)
                return self._send(200, {"component_templates": [
                    {"name": n, "component_template": store.component_templates[n]} for n in sorted(names)]})
            if m in ("PUT", "POST") and name:
                t = self._json_body(body, required=True)
                if "template" not in t:
                    raise ApiError(400, "x_content_parse_exception",
                                   "[1:2] Required [template]")
                self._validate_mappings((t.get("template") or {}).get("mappings") or {})
                store.component_templates[name] = t
                return self._send(200, {"acknowledged": True})
            if m == "DELETE" and name:
                if name not in store.component_templates:
                    raise ApiError(404, "resource_not_found_exception", f"{name}")
                users = [n for n, t in store.index_templates.items() if name in (t.get("composed_of") or [])]
                if users:
                    raise ApiError(400, "illegal_argument_exception",
                                   f"component templates [{name}] cannot be removed as they are still in use by "
                                   f"index templates [{', '.join(users)}]")
                del store.component_templates[name]
                return self._send(200, {"acknowledged": True})
        return self._method_not_allowed(["GET", "HEAD", "PUT", "POST", "DELETE"])

    def _legacy_template(self, name, body):
        m, store = self.command, self.store
        with store.lock:
            if m in ("GET", "HEAD"):
                names = [n for n in store.legacy_templates if name is None or wildcard_match(name, n)]
                if name and not names:
                    return self._send(404, b"" if m == "HEAD" else {}, content_type=None if m == "HEAD"
                                      else "application/json")
                if m == "HEAD":
                    return self._send(200, b"", content_type=None)
                return self._send(200, {n: store.legacy_templates[n] for n in names})
            if m in ("PUT", "POST") and name:
                t = self._json_body(body, required=True)
                self._validate_mappings(t.get("mappings") or {})
                store.legacy_templates[name] = t
                return self._send(200, {"acknowledged": True})
            if m == "DELETE" and name:
                if name not in store.legacy_templates:
                    raise ApiError(404, "index_template_missing_exception", f"index_template [{name}] missing")
                del store.legacy_templates[name]
                return self._send(200, {"acknowledged": True})
        return self._method_not_allowed(["GET", "HEAD", "PUT", "DELETE"])

    def _pipeline(self, name, body):
        m, store = self.command, self.store
        with store.lock:
            if m == "GET":
                if name and name not in store.pipelines:
                    return self._send(404, {})
                return self._send(200, {n: p for n, p in store.pipelines.items() if name is None or n == name})
            if m == "PUT" and name:
                store.pipelines[name] = self._json_body(body, required=True)
                return self._send(200, {"acknowledged": True})
            if m == "DELETE" and name:
                if store.pipelines.pop(name, None) is None:
                    raise ApiError(404, "resource_not_found_exception", f"pipeline [{name}] is missing")
                return self._send(200, {"acknowledged": True})
        return self._method_not_allowed(["GET", "PUT", "DELETE"])

    def _data_stream(self, name):
        m, store = self.command, self.store
        with store.lock:
            if m == "GET":
                names = [n for n in store.data_streams if name is None or
                         any(wildcard_match(p, n) for p in name.split(","))]
                if name and "*" not in name and not names:
                    raise ApiError(404, "index_not_found_exception", f"no such index [{name}]")
                out = []
                for n in sorted(names):
                    idx = store.data_streams[n]
                    tname, _ = store.find_template(n)
                    out.append({"name": n, "timestamp_field": {"name": "@timestamp"},
                                "indices": [{"index_name": idx.name, "index_uuid": idx.uuid}],
                                "generation": 1, "status": "YELLOW", "template": tname, "hidden": False,
                                "system": False, "allow_custom_routing": False, "replicated": False})
                return self._send(200, {"data_streams": out})
            if m == "PUT" and name:
                if name in store.data_streams:
                    raise ApiError(400, "resource_already_exists_exception",
                                   f"data_stream [{name}] already exists")
                tname, t = store.find_template(name)
                if t is None or t.get("data_stream") is None:
                    raise ApiError(400, "illegal_argument_exception",
                                   f"no matching index template found for data stream [{name}]")
                store.create_data_stream(name)
                return self._send(200, {"acknowledged": True})
            if m == "DELETE" and name:
                names = [n for n in store.data_streams if any(wildcard_match(p, n) for p in name.split(","))]
                if not names and "*" not in name:
                    raise ApiError(404, "index_not_found_exception", f"no such index [{name}]")
                for n in names:
                    idx = store.data_streams.pop(n)
                    store.indices.pop(idx.name, None)
                return self._send(200, {"acknowledged": True})
        return self._method_not_allowed(["GET", "PUT", "DELETE"])

    # --- indices ----------------------------------------------------------------------------
    def _index(self, name, body):
        m, store = self.command, self.store
        with store.lock:
            if m == "PUT":
                bad = valid_index_name(name)
                if bad:
                    raise ApiError(400, "invalid_index_name_exception", f"Invalid index name [{name}], {bad}",
                                   index_uuid="_na_", index=name)
                if name in store.indices or name in store.data_streams:
                    existing = store.indices.get(name) or store.data_streams[name]
                    raise ApiError(400, "resource_already_exists_exception",
                                   f"index [{name}/{existing.uuid}] already exists", index_uuid=existing.uuid,
                                   index=name)
                tname, t = store.find_template(name)
                if t is not None and t.get("data_stream") is not None:
                    raise ApiError(400, "illegal_argument_exception",
                                   f"cannot create index with name [{name}], because it matches with template "
                                   f"[{tname}] that creates data streams only, use create data stream api instead")
                b = self._json_body(body)
                for k in b:
                    if k not in ("settings", "mappings", "aliases"):
                        raise ApiError(400, "illegal_argument_exception", f"unknown key [{k}] for create index")
                store.create_index(name, b.get("mappings"), b.get("settings"))
                return self._send(200, {"acknowledged": True, "shards_acknowledged": True, "index": name})
            if m == "DELETE":
                targets = []
                for part in name.split(","):
                    if part in store.data_streams:
                        raise ApiError(400, "illegal_argument_exception",
                                       f"index [{part}] is the write index for data stream [{part}] and cannot "
                                       f"be deleted; use the delete data stream API")
                    if "*" in part or part == "_all":
                        targets += [n for n in store.indices if wildcard_match(part.replace("_all", "*"), n)
                                    and not n.startswith(".")]
                    elif part in store.indices:
                        targets.append(part)
                    else:
                        raise ApiError(404, "index_not_found_exception", f"no such index [{part}]",
                                       **{"resource.type": "index_or_alias", "resource.id": part,
                                          "index_uuid": "_na_", "index": part})
                for n in targets:
                    idx = store.indices.pop(n, None)
                    if idx is not None and idx.data_stream:
                        store.data_streams.pop(idx.data_stream, None)
                return self._send(200, {"acknowledged": True})
            if m in ("GET", "HEAD"):
                try:
                    idxs = store.resolve(name)
                except ApiError:
                    if m == "HEAD":
                        return self._send(404, b"", content_type=None)
                    raise
                if m == "HEAD":
                    return self._send(200 if idxs or "*" in name else 404, b"", content_type=None)
                return self._send(200, {i.name: {"aliases": {}, "mappings": i.mapper.mapping(),
                                                 "settings": i.info_settings(),
                                                 **({"data_stream": i.data_stream} if i.data_stream else {})}
                                        for i in idxs})
        return self._method_not_allowed(["GET", "HEAD", "PUT", "DELETE"])

    def _mapping(self, name, body):
        m, store = self.command, self.store
        with store.lock:
            if m == "GET":
                idxs = store.resolve(name)
                return self._send(200, {i.name: {"mappings": i.mapper.mapping()} for i in idxs})
            if m in ("PUT", "POST") and name:
                b = self._json_body(body, required=True)
                for i in store.resolve(name):
                    merged = merge_mappings(i.mapper.mapping(), b)
                    new = Mapper(merged, i.settings, store.args.parse_error_type,
                                 data_stream=i.data_stream is not None)
                    i.mapper = new
                return self._send(200, {"acknowledged": True})
        return self._method_not_allowed(["GET", "PUT"])

    def _doc(self, index, kind, doc_id, body):
        m, store = self.command, self.store
        if kind == "_doc" and m in ("GET", "HEAD"):
            if doc_id is None:
                return self._method_not_allowed(["POST"])
            with store.lock:
                idx = store.data_streams.get(index) or store.indices.get(index)
                if idx is None:
                    if m == "HEAD":
                        return self._send(404, b"", content_type=None)
                    return self._send(*index_not_found(index))
                e = idx.docs.get(doc_id)
                if e is None:
                    return self._send(404, {"_index": idx.name, "_id": doc_id, "found": False})
                res = {"_index": idx.name, "_id": doc_id, "_version": e[0], "_seq_no": e[1], "_primary_term": 1,
                       "found": True}
                src = doc_source(e)
                if src is not None and self.params.get("_source") != "false":
                    res["_source"] = src
                return self._send(200, res)
        if kind == "_doc" and m == "DELETE":
            op, src = "delete", None
        elif kind == "_update" and m == "POST":
            op, src = "update", body
        elif m in ("PUT", "POST"):
            op = "create" if kind == "_create" or self.params.get("op_type") == "create" else "index"
            src = body
        else:
            return self._method_not_allowed(["GET", "HEAD", "PUT", "POST", "DELETE"])
        # Single-document APIs run through the bulk machinery (as Elasticsearch does internally).
        meta = {"_index": index}
        if doc_id is not None:
            meta["_id"] = doc_id
        for p in ("if_seq_no", "if_primary_term"):
            if p in self.params:
                meta[p] = int(self.params[p])
        lines = [_dumps({op: meta}).encode()]
        if src is not None:
            lines.append(b" ".join(body.splitlines()) if body else b"")
        items = parse_bulk(b"\n".join(lines) + b"\n", None)
        refresh = self.params.get("refresh")
        errors, out, statuses, _ = run_bulk(store, items, self.params, refresh in ("", "true", "wait_for"))
        res = _loads(out[0])[op]
        status = res.pop("status")
        if "error" in res:
            err = res["error"]
            return self._send(status, {"error": {"root_cause": [err], **err}, "status": status})
        return self._send(status, res)

    def _cat_indices(self, expr):
        store = self.store
        with store.lock:
            idxs = store.resolve(expr, allow_missing=True) if expr else list(store.indices.values())
            if expr:   # data streams expand to their backing indices
                idxs = list({id(i): i for i in idxs}.values())
            rows = []
            for i in sorted(idxs, key=lambda x: x.name):
                size = sum(len(e[2]) if isinstance(e[2], (bytes, str)) else 100 for e in i.docs.values())
                rows.append({"health": "yellow" if i.replicas else "green", "status": "open", "index": i.name,
                             "uuid": i.uuid, "pri": "1", "rep": str(i.replicas), "docs.count": str(len(i.visible)),
                             "docs.deleted": "0", "store.size": f"{size}b", "pri.store.size": f"{size}b",
                             "dataset.size": f"{size}b"})
        if self.params.get("format") == "json":
            return self._send(200, rows)
        cols = ["health", "status", "index", "uuid", "pri", "rep", "docs.count", "docs.deleted", "store.size",
                "pri.store.size", "dataset.size"]
        table = [cols] if "v" in self.params else []
        table += [[r[c] for c in cols] for r in rows]
        widths = [max((len(row[k]) for row in table), default=0) for k in range(len(cols))]
        text = "".join(" ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() + "\n" for row in table)
        return self._send(200, text, content_type="text/plain")

    # --- control API ---------------------------------------------------------------------------
    def _control(self, segs, body):
        store = self.store
        m = self.command
        if segs[0] == "_sds_stats":
            if m == "GET":
                with store.lock:
                    return self._send(200, store.stats.as_json(store))
            if m in ("POST", "DELETE"):
                with store.lock:
                    store.stats.reset()
                return self._send(200, {"acknowledged": True})
        if segs[0] == "_sds_reset" and m == "POST":
            with store.lock:
                store.reset_data()
                store.faults.reset()
                store.stats.reset()
            return self._send(200, {"acknowledged": True})
        if segs[0] == "_sds_fault":
            if m == "GET":
                return self._send(200, store.faults.describe())
            if m in ("POST", "PUT"):
                try:
                    spec = _loads(body or b"{}")
                    if not isinstance(spec, dict):
                        raise ValueError("body must be a JSON object")
                    self._apply_fault(spec)
                except (ValueError, TypeError) as e:
                    return self._send(400, {"error": f"bad fault spec: {e}", "status": 400})
                return self._send(200, {"acknowledged": True, "faults": store.faults.describe()})
            if m == "DELETE":
                with store.lock:
                    store.faults.reset()
                return self._send(200, {"acknowledged": True})
        return self._send(404, {"error": f"unknown control endpoint [{self.path}]", "status": 404})

    def _apply_fault(self, spec):
        known = {"reset", "status", "count", "path", "body", "item_429_fraction", "item_fraction", "item_status",
                 "seed", "drop_connections", "mode", "latency_ms", "latency_count", "mapping_conflict_field"}
        unknown = set(spec) - known
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)}")
        f = self.store.faults
        with self.store.lock:
            if spec.get("reset"):
                f.reset()
            if "status" in spec:
                st = int(spec["status"])
                count = int(spec.get("count", 1))
                f.status = (st, count, spec.get("path") or "", spec.get("body")) if st and count else None
            if "item_429_fraction" in spec or "item_fraction" in spec:
                frac = float(spec.get("item_429_fraction", spec.get("item_fraction", 0)))
                if not 0 <= frac <= 1:
                    raise ValueError("fraction must be within [0, 1]")
                f.item_fraction = frac
                f.item_status = int(spec.get("item_status", 429))
            if "seed" in spec:
                f.rng = random.Random(spec["seed"])
            if "drop_connections" in spec:
                f.drop = int(spec["drop_connections"])
                f.drop_mode = spec.get("mode", "close")
                if f.drop_mode not in ("close", "half"):
                    raise ValueError("mode must be close or half")
            if "latency_ms" in spec:
                f.latency = float(spec["latency_ms"]) / 1000.0
                f.latency_count = int(spec.get("latency_count", -1))
            if "mapping_conflict_field" in spec:
                f.conflict_field = spec["mapping_conflict_field"] or None


class _AuthFail(Exception):
    def __init__(self, status, body, headers):
        super().__init__("auth")
        self.status, self.body, self.headers = status, body, headers


class _NotAcceptable(Exception):
    pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, args):
        self.store = Store(args)
        self.verbose = args.verbose
        self.max_body = args.max_body_bytes
        self.distribution = args.distribution
        self.version_number = args.version_number or ("2.13.0" if args.distribution == "opensearch" else "8.13.0")
        self.compress = not args.no_response_compression
        self.users = {}
        self.api_keys = {}
        for u in args.user or []:
            name, sep, pw = u.partition(":")
            if not sep:
                raise SystemExit("--user expects USER:PASSWORD")
            self.users[name] = pw
        for k in args.api_key or []:
            kid, sep, key = k.partition(":")
            if not sep:
                raise SystemExit("--api-key expects ID:KEY")
            self.api_keys[kid] = key
        super().__init__((args.host, args.port), Handler)

    def handle_error(self, request, client_address):
        if self.verbose:
            super().handle_error(request, client_address)


def build_arg_parser():
    p = argparse.ArgumentParser(description="Elasticsearch-compatible test server (see README.md)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=9200, help="port; 0 picks a free one (default 9200)")
    p.add_argument("--port-file", help="write the bound port to this file (atomically) once listening")
    p.add_argument("--max-body-bytes", type=int, default=100 * MiB,
                   help="413 above this body size, like http.max_content_length (default 100 MiB)")
    p.add_argument("--user", action="append", metavar="USER:PASSWORD", help="require Basic auth (repeatable)")
    p.add_argument("--api-key", action="append", metavar="ID:KEY", help="accept 'ApiKey base64(ID:KEY)' (repeatable)")
    p.add_argument("--distribution", choices=("elasticsearch", "opensearch"), default="elasticsearch",
                   help="what GET / reports (and whether X-elastic-product / built-in templates exist)")
    p.add_argument("--version-number", help="version.number in GET / (default 8.13.0, or 2.13.0 for opensearch)")
    p.add_argument("--parse-error-type", default="mapper_parsing_exception",
                   choices=("mapper_parsing_exception", "document_parsing_exception"),
                   help="error type for documents that do not fit the mapping (ES >= 8.8 reports "
                        "document_parsing_exception; ES 7 and OpenSearch mapper_parsing_exception)")
    p.add_argument("--no-builtin-templates", action="store_true",
                   help="do not install the built-in logs-*-*/metrics-*-*/synthetics-*-* data-stream templates")
    p.add_argument("--no-auto-create", action="store_true", help="like action.auto_create_index=false")
    p.add_argument("--no-source", action="store_true", help="keep ids and versions only (long benchmarks)")
    p.add_argument("--skip-doc-parsing", action="store_true",
                   help="benchmark mode: store document lines unparsed, no mapping checks (actions, ids, "
                        "409/404, faults and stats still work)")
    p.add_argument("--no-response-compression", action="store_true",
                   help="never gzip responses (by default they are when the client sends Accept-Encoding: gzip)")
    p.add_argument("-v", "--verbose", action="store_true", help="log requests to stderr")
    return p


def main(argv=None):
    args = build_arg_parser().parse_args(argv)
    if args.distribution == "opensearch":
        args.no_builtin_templates = True
    srv = Server(args)
    port = srv.server_address[1]
    if args.port_file:
        tmp = f"{args.port_file}.{os.getpid()}.tmp"
        with open(tmp, "w") as fh:
            fh.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    if args.verbose or (args.port == 0 and not args.port_file):
        print(port, flush=True)
    if args.verbose:
        sys.stderr.write(f"es_server: listening on http://{args.host}:{port}\n")

    def stop(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
