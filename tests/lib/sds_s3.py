"""A small S3/SQS client for tests and benchmarks (SigV4 with the standard library), and an
HTTP proxy that counts requests and injects faults in front of the S3 test server.

    s3 = S3Client(sds_servers.s3())
    s3.create_bucket(b); s3.put(b, key, data)
    q = SqsClient(sds_servers.moto()); url = q.create_queue(name); q.send(url, body)
    with FaultProxy(upstream_endpoint) as p: p.endpoint, p.requests, p.fail(key, ['503', 'reset'])
"""
import datetime
import hashlib
import hmac
import http.client
import json
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _sign(method, host, path, query, headers, body, access_key, secret_key, region, service):
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date = now.strftime('%Y%m%dT%H%M%SZ')
    date = amz_date[:8]
    payload_hash = hashlib.sha256(body).hexdigest()
    headers = dict(headers)
    headers['Host'] = host
    headers['X-Amz-Date'] = amz_date
    headers['x-amz-content-sha256'] = payload_hash
    canon_headers = sorted((k.lower(), ' '.join(str(v).split())) for k, v in headers.items())
    signed = ';'.join(k for k, _ in canon_headers)
    q = sorted(urllib.parse.parse_qsl(query, keep_blank_values=True))
    canon_query = '&'.join('%s=%s' % (urllib.parse.quote(k, safe='-_.~'), urllib.parse.quote(v, safe='-_.~'))
                           for k, v in q)
    creq = '\n'.join([method, path, canon_query, ''.join('%s:%s\n' % kv for kv in canon_headers), signed,
                      payload_hash])
    scope = '%s/%s/%s/aws4_request' % (date, region, service)
    sts = '\n'.join(['AWS4-HMAC-SHA256', amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    k = ('AWS4' + secret_key).encode()
    for part in (date, region, service, 'aws4_request'):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    headers['Authorization'] = 'AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s' % (
        access_key, scope, signed, sig)
    return headers


class S3Client:
    def __init__(self, srv, endpoint=None):
        self.srv = srv
        u = urllib.parse.urlsplit(endpoint or srv.endpoint)
        self.host, self.port = u.hostname, u.port
        self.local = threading.local()

    def _conn(self):
        c = getattr(self.local, 'conn', None)
        if c is None:
            c = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        return c

    def request(self, method, bucket, key='', query='', body=b'', headers=None):
        path = '/' + bucket + ('/' + urllib.parse.quote(key, safe='/-_.~') if key else '')
        h = _sign(method, '%s:%d' % (self.host, self.port), path, query, headers or {}, body,
                  self.srv.access_key, self.srv.secret_key, self.srv.region, 's3')
        for attempt in range(3):
            try:
                c = self._conn()
                c.request(method, path + ('?' + query if query else ''), body=body, headers=h)
                r = c.getresponse()
                data = r.read()
                return r.status, data, dict(r.getheaders())
            except (ConnectionError, http.client.HTTPException):
                self.local.conn = None
                if attempt == 2:
                    raise

    def create_bucket(self, bucket):
        st, data, _ = self.request('PUT', bucket)
        assert st == 200, (st, data)

    def put(self, bucket, key, body):
        st, data, h = self.request('PUT', bucket, key, body=body)
        assert st == 200, (st, data)
        return h.get('ETag') or h.get('Etag')

    def delete(self, bucket, key):
        st, data, _ = self.request('DELETE', bucket, key)
        assert st in (200, 204), (st, data)


class SqsClient:
    def __init__(self, srv):
        self.srv = srv
        u = urllib.parse.urlsplit(srv.endpoint)
        self.host, self.port = u.hostname, u.port

    def call(self, action, payload):
        body = json.dumps(payload).encode()
        h = _sign('POST', '%s:%d' % (self.host, self.port), '/', '',
                  {'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': 'AmazonSQS.' + action}, body,
                  self.srv.access_key, self.srv.secret_key, self.srv.region, 'sqs')
        c = http.client.HTTPConnection(self.host, self.port, timeout=60)
        c.request('POST', '/', body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        assert r.status == 200, (action, r.status, data)
        return json.loads(data or b'{}')

    def create_queue(self, name, visibility=30):
        return self.call('CreateQueue', {'QueueName': name,
                                         'Attributes': {'VisibilityTimeout': str(visibility)}})['QueueUrl']

    def send(self, url, body):
        return self.call('SendMessage', {'QueueUrl': url, 'MessageBody': body})

    def counts(self, url):
        a = self.call('GetQueueAttributes', {'QueueUrl': url, 'AttributeNames': ['All']})['Attributes']
        return int(a['ApproximateNumberOfMessages']), int(a['ApproximateNumberOfMessagesNotVisible'])


class FaultProxy:
    """Forwards HTTP to `upstream` (Host header unchanged, so SigV4 still verifies), records
    every request as (method, path, query dict), and injects faults for object keys:
    fail(path_suffix, ['503', 'slowdown', 'reset', 'truncate', '404', '403', '500'...]) consumes one
    action per matching GET; delay(path_suffix, seconds) slows matching GETs."""

    def __init__(self, upstream):
        u = urllib.parse.urlsplit(upstream)
        self.up_host, self.up_port = u.hostname, u.port
        self.requests = []
        self.targets = []  # (X-Amz-Target, status) of JSON-protocol calls (SQS)
        self.faults = {}
        self.delays = {}
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *a):
                pass

            def do_GET(self):
                proxy._handle(self, 'GET')

            def do_PUT(self):
                proxy._handle(self, 'PUT')

            def do_HEAD(self):
                proxy._handle(self, 'HEAD')

            def do_DELETE(self):
                proxy._handle(self, 'DELETE')

            def do_POST(self):
                proxy._handle(self, 'POST')

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # clients killed mid-response (the tests do that on purpose)

        self.server = Server(('127.0.0.1', 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = 'http://127.0.0.1:%d' % self.server.server_address[1]

    def __enter__(self):
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *a):
        self.server.shutdown()
        self.server.server_close()

    def fail(self, suffix, actions):
        with self.lock:
            self.faults[suffix] = list(actions)

    def delay(self, suffix, seconds):
        with self.lock:
            self.delays[suffix] = seconds

    def lists(self):
        """The prefixes of the ListObjectsV2 requests seen, in order."""
        with self.lock:
            return [q.get('prefix', '') for m, p, q in self.requests if m == 'GET' and q.get('list-type') == '2']

    def _handle(self, h, method):
        import time
        u = urllib.parse.urlsplit(h.path)
        query = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        length = int(h.headers.get('Content-Length') or 0)
        body = h.rfile.read(length) if length else b''
        action, delay = None, 0
        with self.lock:
            self.requests.append((method, urllib.parse.unquote(u.path), query))
            if method == 'GET' and 'list-type' not in query:
                for suffix, actions in self.faults.items():
                    if urllib.parse.unquote(u.path).endswith(suffix) and actions:
                        action = actions.pop(0)
                        break
                for suffix, d in self.delays.items():
                    if urllib.parse.unquote(u.path).endswith(suffix):
                        delay = d
        if delay:
            time.sleep(delay)
        if action in ('503', '500', 'slowdown', '404', '403'):
            code = {'503': 503, '500': 500, 'slowdown': 503, '404': 404, '403': 403}[action]
            err = {'503': 'ServiceUnavailable', '500': 'InternalError', 'slowdown': 'SlowDown',
                   '404': 'NoSuchKey', '403': 'AccessDenied'}[action]
            data = ('<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>injected</Message>'
                    '</Error>' % err).encode()
            h.send_response(code)
            h.send_header('Content-Type', 'application/xml')
            h.send_header('Content-Length', str(len(data)))
            h.end_headers()
            h.wfile.write(data)
            return
        if action == 'reset':
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b'\x01\x00\x00\x00\x00\x00\x00\x00')
            h.connection.close()
            h.close_connection = True
            return
        conn = http.client.HTTPConnection(self.up_host, self.up_port, timeout=120)
        headers = {k: v for k, v in h.headers.items() if k.lower() not in ('connection',)}
        conn.request(method, h.path, body=body if method in ('PUT', 'POST') else None, headers=headers)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        if h.headers.get('X-Amz-Target'):
            with self.lock:
                self.targets.append((h.headers['X-Amz-Target'], r.status))
        h.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ('transfer-encoding', 'connection', 'content-length'):
                h.send_header(k, v)
        h.send_header('Content-Length', str(len(data)))
        h.end_headers()
        if action == 'truncate' and method == 'GET':
            h.wfile.write(data[:len(data) // 2])
            h.wfile.flush()
            h.connection.shutdown(socket.SHUT_RDWR)
            h.close_connection = True
            return
        h.wfile.write(data)
