#!/usr/bin/env python3
"""Rebuilds the bundled sample data in examples/data/ from tests/data (run from anywhere).

CloudTrail: the real events of tests/data/cloudtrail (Stratus Red Team detonations,
Apache-2.0; OTRF Security-Datasets, MIT) regrouped into CloudTrail's own S3 layout,
AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<time>_<id>.json.gz,
one gzipped {"Records":[...]} file per account/region/hour, plus one digest file, as a
trail delivers them. Deterministic: same input, same bytes (gzip mtime 0)."""
import gzip, hashlib, json, os, sys
from collections import defaultdict

here = os.path.dirname(os.path.abspath(__file__))
src = os.path.join(here, "..", "..", "tests", "data", "cloudtrail")
events = []
for name in sorted(os.listdir(os.path.join(src, "stratus-red-team"))):
    if name.endswith(".json"):
        with open(os.path.join(src, "stratus-red-team", name)) as f:
            events.extend(json.load(f))
with open(os.path.join(src, "otrf", "ec2_proxy_s3_exfiltration_2020-09-14011940.json")) as f:
    for line in f:
        e = json.loads(line)
        # Logstash moved eventTime into @timestamp; put it back as CloudTrail writes it.
        ts = e.pop("@timestamp", None)
        e.pop("@version", None)
        if "eventTime" not in e and ts:
            e["eventTime"] = ts[:19] + "Z"
        events.append(e)

groups = defaultdict(list)
for e in events:
    acct = e.get("recipientAccountId") or e["userIdentity"].get("accountId", "000000000000")
    region = e.get("awsRegion", "us-east-1")
    t = e["eventTime"]  # 2022-01-02T03:04:05Z
    groups[(acct, region, t[:13])].append(e)

out = os.path.join(here, "cloudtrail")
count = 0
for (acct, region, hour), evs in sorted(groups.items()):
    evs.sort(key=lambda e: e["eventTime"])
    y, m, d, h = hour[0:4], hour[5:7], hour[8:10], hour[11:13]
    folder = os.path.join(out, "AWSLogs", acct, "CloudTrail", region, y, m, d)
    os.makedirs(folder, exist_ok=True)
    body = json.dumps({"Records": evs}, separators=(",", ":")).encode()
    uid = hashlib.sha256(body).hexdigest()[:16].upper()
    name = f"{acct}_CloudTrail_{region}_{y}{m}{d}T{h}00Z_{uid}.json.gz"
    with open(os.path.join(folder, name), "wb") as f:
        f.write(gzip.compress(body, mtime=0))
    count += len(evs)

# One digest file, as CloudTrail writes next to the logs when validation is on.
acct, region = "111122223333", "us-east-1"
folder = os.path.join(out, "AWSLogs", acct, "CloudTrail-Digest", region, "2022", "07", "01")
os.makedirs(folder, exist_ok=True)
digest = {"awsAccountId": acct, "digestStartTime": "2022-07-01T00:00:00Z", "digestEndTime": "2022-07-01T01:00:00Z",
          "digestS3Bucket": "example-trail-bucket", "digestS3Object": "AWSLogs/...", "newestEventTime": None,
          "oldestEventTime": None, "previousDigestS3Bucket": None, "previousDigestHashValue": None,
          "previousDigestHashAlgorithm": None, "previousDigestSignature": None, "digestPublicKeyFingerprint": "0" * 32,
          "digestSignatureAlgorithm": "SHA256withRSA", "logFiles": []}
with open(os.path.join(folder, f"{acct}_CloudTrail-Digest_{region}_trail_{region}_20220701T010000Z.json.gz"), "wb") as f:
    f.write(gzip.compress(json.dumps(digest).encode(), mtime=0))
print(f"{count} events in {len(groups)} log files", file=sys.stderr)
