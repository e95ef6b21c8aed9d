#!/usr/bin/env python3
"""Write a synthetic transcript of SIZE bytes to stdout: the recorded shells' PTY output, repeated,
in the S3 framing. For memory and throughput measurements: python3 scripts/gen_transcript.py SIZE"""
import sys, glob
parts = [open(p, 'rb').read() for p in sorted(glob.glob('indexer/tests/recordings/*/ipc.raw'))]
blob = b''.join(parts)
target = int(sys.argv[1])
out = sys.stdout.buffer
out.write(b'Script started on 2026-11-23 15:00:00+00:00 [COMMAND="cat /var/lib/amazon/ssm/i-0a1b2c3d4e5f60718/session/orchestration/alice-0123456789abcdefghijklmnop/Standard_Stream/ipcTempFile.log" <not executed on terminal>]\n')
n = 0
while n < target:
    out.write(blob); n += len(blob)
out.write(b'\nScript done on 2026-11-23 16:00:00+00:00 [COMMAND_EXIT_CODE="0"]\n')
