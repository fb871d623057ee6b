#!/usr/bin/env python3
"""sds-fetch --sqs-queue: raw, SNS-wrapped and EventBridge S3 notifications, s3:TestEvent ignored,
messages deleted only after their records are flushed, visibility extended while a slow object
is read, two processes sharing one queue (competing consumers). moto for SQS, Swift for S3."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from s3_fixture import FETCH, ct_object, env, fetch, ids, sds_s3, sds_servers, sds_test  # noqa: E402
from sds_test import stats_of  # noqa: E402


def s3_event(bucket, key, etag=None, name="ObjectCreated:Put"):
    obj = {"key": urllib.parse.quote_plus(key), "size": 0}
    if etag:
        obj["eTag"] = etag.strip('"')
    return json.dumps({"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                                    "eventName": name, "s3": {"bucket": {"name": bucket}, "object": obj}}]})


def sns(message):
    return json.dumps({"Type": "Notification", "MessageId": "x", "TopicArn": "arn:aws:sns:us-east-1:1:t",
                       "Message": message})


def eventbridge(bucket, key):
    return json.dumps({"version": "0", "detail-type": "Object Created", "source": "aws.s3",
                       "detail": {"bucket": {"name": bucket}, "object": {"key": key, "size": 1}}})


class FetchSqs(sds_test.ToolTest):
    @classmethod
    def setUpClass(cls):
        cls.srv = sds_servers.s3()
        cls.moto = sds_servers.moto()
        cls.s3 = sds_s3.S3Client(cls.srv)
        cls.sqs = sds_s3.SqsClient(cls.moto)
        cls.bucket = sds_servers.unique_name("sqs")
        cls.s3.create_bucket(cls.bucket)
        cls.etags = {}
        for i in range(40):
            key = "in/%02d log.json.gz" % i
            cls.etags[key] = cls.s3.put(cls.bucket, key, ct_object("%02d" % i, 3))

    def consume(self, queue, *args, endpoint=None, wait=True):
        cmd = [FETCH, "--endpoint-url", endpoint or self.srv.endpoint, "--sqs-queue", queue, "--sqs-wait", "1",
               "--sqs-exit-when-empty", "--stats"] + list(args)
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())
        if not wait:
            return p
        out, err = p.communicate(timeout=300)
        return p.returncode, out, err

    def test_raw_sns_and_eventbridge_notifications_test_events_ignored(self):
        q = self.sqs.create_queue(sds_servers.unique_name("q"))
        b = self.bucket
        self.sqs.send(q, json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": b}))
        self.sqs.send(q, s3_event(b, "in/00 log.json.gz", self.etags["in/00 log.json.gz"]))
        self.sqs.send(q, sns(s3_event(b, "in/01 log.json.gz")))
        self.sqs.send(q, eventbridge(b, "in/02 log.json.gz"))
        self.sqs.send(q, s3_event(b, "in/03 log.json.gz", name="ObjectRemoved:Delete"))
        self.sqs.send(q, "this is not an event")
        with tempfile.TemporaryDirectory() as d:
            dead = os.path.join(d, "dead")
            rc, out, err = self.consume(q, "--annotate", "--dead-letter", dead)
            dl = [json.loads(l) for l in open(dead)]
        self.assertEqual(rc, 1, err)
        self.assertEqual(sorted(ids(out)), ["%02d-%d" % (i, j) for i in range(3) for j in range(3)])
        uris = {json.loads(l)["@source"]["uri"] for l in out.decode().splitlines()}
        self.assertIn("s3://%s/in/00 log.json.gz" % b, uris)
        self.assertEqual([x["record"] for x in dl], ["this is not an event"])
        st = stats_of(err)
        self.assertConserved(st)
        self.assertEqual(st["sqs_messages"], 6)
        self.assertEqual(self.sqs.counts(q), (0, 0))  # all deleted

    def test_failed_object_leaves_its_message_in_the_queue(self):
        q = self.sqs.create_queue(sds_servers.unique_name("q"), visibility=30)
        self.sqs.send(q, s3_event(self.bucket, "in/04 log.json.gz"))
        with sds_s3.FaultProxy(self.srv.endpoint) as p:
            p.fail("in/04 log.json.gz", ["403"])
            rc, out, err = self.consume(q, endpoint=p.endpoint)
        self.assertEqual(rc, 3)
        self.assertIn("s3://%s/in/04 log.json.gz" % self.bucket, err.decode())
        self.assertEqual(self.sqs.counts(q), (0, 1))  # in flight, not deleted: it comes back

    def test_visibility_is_extended_while_a_slow_object_is_read(self):
        q = self.sqs.create_queue(sds_servers.unique_name("q"), visibility=2)
        self.sqs.send(q, s3_event(self.bucket, "in/05 log.json.gz"))
        with sds_s3.FaultProxy(self.srv.endpoint) as p:
            p.delay("in/05 log.json.gz", 5)
            first = self.consume(q, "--sqs-visibility", "2", endpoint=p.endpoint, wait=False)
            time.sleep(3.5)
            # A competing consumer started while the first is still reading finds nothing.
            rc2, out2, err2 = self.consume(q, "--sqs-visibility", "2")
            out1, err1 = first.communicate(timeout=120)
        self.assertEqual((first.returncode, rc2), (0, 0), err1 + err2)
        self.assertEqual(ids(out1), ["05-0", "05-1", "05-2"])
        self.assertEqual(out2, b"")
        self.assertGreaterEqual(stats_of(err1)["sqs_visibility_extensions"], 1)
        self.assertEqual(self.sqs.counts(q), (0, 0))

    def test_sigterm_ends_a_waiting_consumer_with_130(self):
        q = self.sqs.create_queue(sds_servers.unique_name("q"))
        p = subprocess.Popen([FETCH, "--endpoint-url", self.srv.endpoint, "--sqs-queue", q, "--sqs-wait", "1"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())
        time.sleep(1.5)
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
        self.assertEqual((p.returncode, out), (130, b""), err)

    def test_two_consumers_share_one_queue(self):
        q = self.sqs.create_queue(sds_servers.unique_name("q"), visibility=60)
        for i in range(6, 40):
            self.sqs.send(q, s3_event(self.bucket, "in/%02d log.json.gz" % i))
        # SQS calls go through a proxy too (the queue URL names it), to count the deletes.
        with sds_s3.FaultProxy(self.srv.endpoint) as p, sds_s3.FaultProxy(self.moto.endpoint) as mp:
            p.delay("log.json.gz", 0.1)
            proxied = mp.endpoint + urllib.parse.urlsplit(q).path
            procs = [self.consume(proxied, "--sqs-max-messages", "30", endpoint=p.endpoint, wait=False)
                     for _ in range(2)]
            results = [pr.communicate(timeout=300) for pr in procs]
            deletes = [st for t, st in mp.targets if t == "AmazonSQS.DeleteMessage"]
        self.assertEqual([pr.returncode for pr in procs], [0, 0], [e for _, e in results])
        got = [ids(out) for out, _ in results]
        self.assertTrue(all(got), "both consumers did some of the work")
        self.assertEqual(sorted(got[0] + got[1]), ["%02d-%d" % (i, j) for i in range(6, 40) for j in range(3)])
        self.assertEqual(deletes, [200] * 34)  # each message deleted once, after its records
        # Nothing left to receive. (moto's DeleteMessage is not atomic: two deletes at the same
        # moment can resurrect one message as in flight, so "not visible" is not checked here.)
        self.assertEqual(self.sqs.counts(q)[0], 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
