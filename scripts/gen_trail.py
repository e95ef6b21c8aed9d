#!/usr/bin/env python3
"""Write a gzip CloudTrail trail file of about SIZE bytes (uncompressed) to PATH: one
StartSession in 60 records (from a real sample), the rest DescribeInstances calls. For the
memory measurement of trail-file ingest:

  python3 scripts/gen_trail.py 100000000 /tmp/big_trail.json.gz
  /usr/bin/time -f "%M KiB peak RSS" target/release/ssm-audit --data-dir /tmp/d ingest /tmp/big_trail.json.gz
"""
import gzip
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
size_target, path = int(sys.argv[1]), sys.argv[2]
other = {"eventVersion": "1.08", "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/App/i-0abc", "accountId": "111122223333"},
         "eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances", "awsRegion": "us-east-1", "sourceIPAddress": "10.0.0.1", "userAgent": "aws-sdk-go/1.44",
         "requestParameters": {"filterSet": {"items": [{"name": "tag:Name", "valueSet": {"items": [{"value": "x" * 200}]}}]}},
         "responseElements": None, "eventType": "AwsApiCall", "recipientAccountId": "111122223333"}
start = json.load(open(os.path.join(ROOT, "indexer/tests/data/samples/cloudtrail_StartSession_IAMUser_cli_custom_document_2020_managedkube_readme.json")))
with gzip.open(path, "wt", compresslevel=1) as f:
    f.write('{"Records":[')
    size = i = 0
    while size < size_target:
        if i % 60 == 0:
            r = dict(start, eventID=f"ss-{i}")
            r["responseElements"] = dict(start["responseElements"], sessionId=f"bob-{i:017x}")
        else:
            r = dict(other, eventID=f"o-{i}")
        s = json.dumps(r)
        f.write(("," if i else "") + s)
        size += len(s) + 1
        i += 1
    f.write("]}")
print(f"{i} records, {size} bytes uncompressed, in {path}")
