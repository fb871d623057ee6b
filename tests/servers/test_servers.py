#!/usr/bin/env python3
"""Smoke test of the test servers (tests/servers): the S3 API of Swift and
moto's SQS/STS answer the AWS CLI, and Swift really checks SigV4 signatures
and payload hashes, so the sds S3 client is tested against a strict server.

Run by ctest with the fixtures swift and moto, or by hand once
tests/servers/{swift,moto}/start.sh have run: python3 tests/servers/test_servers.py
"""
import datetime
import hashlib
import http.client
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import sds_servers  # noqa: E402
from sds_servers import aws  # noqa: E402

try:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError:  # the AWS CLI's own library; only the raw-request tests need it
    SigV4Auth = None


class S3Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = sds_servers.s3()
        cls.bucket = sds_servers.unique_name('sds-smoke')
        aws('s3api', 'create-bucket', '--bucket', cls.bucket)

    @classmethod
    def tearDownClass(cls):
        aws('s3', 'rb', 's3://%s' % cls.bucket, '--force', check=False)

    def test_put_list_paginated_get(self):
        bodies = {'logs/%02d.json' % i: ('{"n": %d}\n' % i) * (i + 1) for i in range(7)}
        bodies['top.txt'] = 'top\n'
        with tempfile.TemporaryDirectory() as tmp:
            src, dst = os.path.join(tmp, 'src'), os.path.join(tmp, 'dst')
            for key, body in bodies.items():
                os.makedirs(os.path.dirname(os.path.join(src, key)), exist_ok=True)
                with open(os.path.join(src, key), 'w') as f:
                    f.write(body)
            # One object by the low-level call, the rest in one recursive copy.
            aws('s3api', 'put-object', '--bucket', self.bucket, '--key', 'top.txt',
                '--body', os.path.join(src, 'top.txt'))
            aws('s3', 'cp', '--recursive', os.path.join(src, 'logs'), 's3://%s/logs/' % self.bucket)

            # ListObjectsV2, 3 keys a page, following the continuation token by hand.
            keys, token, pages = [], None, 0
            while True:
                args = ['list-objects-v2', '--bucket', self.bucket, '--max-keys', '3',
                        '--no-paginate', '--output', 'json']
                if token:
                    args += ['--continuation-token', token]
                page = json.loads(aws('s3api', *args).stdout or '{}')
                pages += 1
                self.assertLessEqual(len(page.get('Contents', [])), 3)
                keys += [o['Key'] for o in page.get('Contents', [])]
                if not page.get('IsTruncated'):
                    break
                token = page['NextContinuationToken']
                self.assertLess(pages, 10)
            self.assertEqual(pages, 3)
            self.assertEqual(keys, sorted(bodies))

            # Prefix + delimiter.
            page = json.loads(aws('s3api', 'list-objects-v2', '--bucket', self.bucket,
                                  '--delimiter', '/', '--output', 'json').stdout)
            self.assertEqual([p['Prefix'] for p in page['CommonPrefixes']], ['logs/'])
            self.assertEqual([o['Key'] for o in page['Contents']], ['top.txt'])

            # Back again: one by get-object, all by a recursive copy.
            out = os.path.join(tmp, 'one')
            aws('s3api', 'get-object', '--bucket', self.bucket, '--key', 'logs/03.json', out)
            with open(out) as f:
                self.assertEqual(f.read(), bodies['logs/03.json'])
            aws('s3', 'cp', '--recursive', 's3://%s/' % self.bucket, dst)
            for key, body in bodies.items():
                with open(os.path.join(dst, key)) as f:
                    self.assertEqual(f.read(), body, key)
            self.assertEqual(aws('s3', 'cp', 's3://%s/top.txt' % self.bucket, '-').stdout, 'top\n')

    def test_wrong_secret_is_refused(self):
        env_secret = os.environ.get('SDS_S3_SECRET_KEY')
        os.environ['SDS_S3_SECRET_KEY'] = 'not-the-secret'
        try:
            proc = aws('s3api', 'list-objects-v2', '--bucket', self.bucket, check=False)
        finally:
            if env_secret is None:
                del os.environ['SDS_S3_SECRET_KEY']
            else:
                os.environ['SDS_S3_SECRET_KEY'] = env_secret
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn('SignatureDoesNotMatch', proc.stderr)

    # Raw SigV4 requests, tampered after signing.
    def _send(self, method, path, body=b'', sha=None, send_body=None, secret=None,
              region=None, host=None, when=None):
        host = host or '127.0.0.1:%d' % self.srv.port
        headers = {}
        if sha != '':
            headers['x-amz-content-sha256'] = sha or hashlib.sha256(body).hexdigest()
        req = AWSRequest(method=method, url='http://%s%s' % (host, path), data=body, headers=headers)
        auth = SigV4Auth(Credentials(self.srv.access_key, secret or self.srv.secret_key),
                         's3', region or self.srv.region)
        if when is not None:
            # botocore signs "now"; sign at another time to test the clock-skew check.
            req.context['timestamp'] = when.strftime('%Y%m%dT%H%M%SZ')
            auth._modify_request_before_signing(req)
            cr = auth.canonical_request(req)
            sts = auth.string_to_sign(req, cr)
            sig = auth.signature(sts, req)
            auth._inject_signature_to_request(req, sig)
        else:
            auth.add_auth(req)
        conn = http.client.HTTPConnection('127.0.0.1', self.srv.port, timeout=30)
        try:
            hdrs = dict(req.headers.items())
            hdrs['Host'] = host
            conn.request(method, path, body=body if send_body is None else send_body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        code = ''
        if b'<Code>' in data:
            code = data.split(b'<Code>', 1)[1].split(b'</Code>', 1)[0].decode()
        return resp.status, code

    @unittest.skipIf(SigV4Auth is None, 'botocore is not importable')
    def test_sigv4_checks(self):
        b = '/' + self.bucket
        self.assertEqual(self._send('PUT', b + '/raw', b'payload'), (200, ''))
        self.assertEqual(self._send('GET', b + '/raw'), (200, ''))
        self.assertEqual(self._send('GET', b + '/raw', secret='wrong'), (403, 'SignatureDoesNotMatch'))
        self.assertEqual(self._send('GET', b + '/raw', region='eu-west-1'),
                         (400, 'AuthorizationHeaderMalformed'))
        # Body differs from the signed x-amz-content-sha256 (AWS: XAmzContentSHA256Mismatch).
        self.assertEqual(self._send('PUT', b + '/bad', b'payload', send_body=b'PAYLOAD'), (400, 'BadDigest'))
        self.assertEqual(self._send('PUT', b + '/bad', b'payload', sha=hashlib.sha256(b'x').hexdigest()),
                         (400, 'BadDigest'))
        self.assertEqual(self._send('HEAD', b + '/bad'), (404, ''))
        self.assertEqual(self._send('GET', b + '/raw', sha=''), (400, 'InvalidRequest'))
        self.assertEqual(self._send('PUT', b + '/unsigned', b'x', sha='UNSIGNED-PAYLOAD'), (200, ''))
        skewed = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
        self.assertEqual(self._send('GET', b + '/raw', when=skewed), (403, 'RequestTimeTooSkewed'))

    @unittest.skipIf(SigV4Auth is None, 'botocore is not importable')
    def test_virtual_hosted_addressing(self):
        vhost = '%s.%s:%d' % (self.bucket, self.srv.vhost_domain, self.srv.port)
        self.assertEqual(self._send('PUT', '/vh.txt', b'vh', host=vhost), (200, ''))
        self.assertEqual(self._send('GET', '/' + self.bucket + '/vh.txt'), (200, ''))
        self.assertEqual(self._send('GET', '/?list-type=2&max-keys=1', host=vhost), (200, ''))


class MotoTest(unittest.TestCase):
    def test_sqs_roundtrip(self):
        name = sds_servers.unique_name('sds-smoke')
        url = json.loads(aws('sqs', 'create-queue', '--queue-name', name).stdout)['QueueUrl']
        try:
            self.assertTrue(url.endswith('/' + name), url)
            body = json.dumps({'Records': [{'s3': {'object': {'key': 'a b.json'}}}]})
            aws('sqs', 'send-message', '--queue-url', url, '--message-body', body)
            got = json.loads(aws('sqs', 'receive-message', '--queue-url', url,
                                 '--wait-time-seconds', '2', '--max-number-of-messages', '10').stdout)
            self.assertEqual([m['Body'] for m in got['Messages']], [body])
            aws('sqs', 'delete-message', '--queue-url', url,
                '--receipt-handle', got['Messages'][0]['ReceiptHandle'])
            again = aws('sqs', 'receive-message', '--queue-url', url, '--wait-time-seconds', '0').stdout
            self.assertEqual(json.loads(again or '{}').get('Messages', []), [])
        finally:
            aws('sqs', 'delete-queue', '--queue-url', url, check=False)

    def test_sts_assume_role(self):
        srv = sds_servers.moto()
        arn = 'arn:aws:iam::%s:role/sds-test' % srv.account_id
        out = json.loads(aws('sts', 'assume-role', '--role-arn', arn,
                             '--role-session-name', 'smoke').stdout)
        creds = out['Credentials']
        for k in ('AccessKeyId', 'SecretAccessKey', 'SessionToken', 'Expiration'):
            self.assertTrue(creds.get(k), k)
        self.assertEqual(out['AssumedRoleUser']['Arn'],
                         'arn:aws:sts::%s:assumed-role/sds-test/smoke' % srv.account_id)


if __name__ == '__main__':
    unittest.main(verbosity=2)
