#!/usr/bin/env python3
"""Write a CloudTrail trail file of about SIZE bytes to stdout, every record a StartSession (the
worst case: every record gives a fact), made from a real sample with new event and session ids.
For memory measurements: python3 scripts/gen_trail.py SIZE"""
import json, sys
rec = json.load(open('indexer/tests/data/samples/cloudtrail_StartSession_AssumedRole_SSO_panther_test.json'))
rec = rec['Records'][0] if 'Records' in rec else rec
target = int(sys.argv[1])
out = sys.stdout
out.write('{"Records":[')
n = size = 0
while size < target:
    r = dict(rec, eventID='gen-%d' % n, responseElements={'sessionId': 'alice-%021x' % n})
    s = ('' if n == 0 else ',') + json.dumps(r)
    out.write(s)
    size += len(s)
    n += 1
out.write(']}\n')
