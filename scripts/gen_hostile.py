#!/usr/bin/env python3
"""Hostile inputs of about SIZE bytes each, into OUTDIR, beside a plain transcript of the same
size to compare with: what an attacker on a managed node can write as a session log or a
trail file. Used by scripts/measure_hostile.sh (the resource table of the hostile-evidence
issue); every name is `<sessionId>.log` so ingest gives each its own session.

usage: gen_hostile.py OUTDIR [SIZE]   (SIZE defaults to 16 MiB)
"""
import gzip
import json
import os
import sys

out, size = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 16 << 20
os.makedirs(out, exist_ok=True)


def fill(unit: bytes) -> bytes:
    return (unit * (size // len(unit) + 1))[:size]


def sid(name: str) -> str:
    return f"{name}-0e34861185201706f"


plain = (
    b"ubuntu@ip-172-31-1-1:~$ ls -la /var/log\r\n"
    b"-rw-r----- 1 syslog adm 123456 Nov 20 09:00 syslog\r\n"
)
inputs = {
    "plain": fill(plain),
    # scroll the whole screen 999 lines, again and again
    "scroll": fill(b"x\x1b[999S"),
    # scroll down in a region
    "scrolldown": fill(b"\x1b[1;24r\x1b[999T"),
    # repeat a character 65535 times
    "rep": fill(b"x\x1b[65535b"),
    # erase the screen after each character
    "erase": fill(b"x\x1b[2J"),
    # insert and delete 999 lines
    "insdel": fill(b"\x1b[999L\x1b[999M"),
    # switch to the alternate screen and back
    "altscreen": fill(b"\x1b[?1049hx\x1b[?1049l"),
    # fill the screen with E (DECALN)
    "decaln": fill(b"\x1b#8"),
    # one line with no end
    "longline": fill(b"a"),
    # combining marks on one cell
    "combining": fill("e\u0301\u0302\u0303".encode()),
    # wide characters and cursor moves back over them
    "wide": fill("日本\x1b[2D".encode()),
    # a title (OSC) never ended
    "osc": b"\x1b]0;" + fill(b"t")[4:],
    # line feeds only
    "newlines": fill(b"\n"),
}
for name, data in inputs.items():
    with open(os.path.join(out, f"{sid(name)}.log"), "wb") as f:
        f.write(data)

# gzip'd evidence: JSON whitespace, zeros, and a trail of records that are not objects
with open(os.path.join(out, "whitespace.json.gz"), "wb") as f:
    f.write(gzip.compress(b"{" + b" " * (size * 16) + b"}", 9))
with open(os.path.join(out, f"{sid('zeros')}.log.gz"), "wb") as f:
    f.write(gzip.compress(b"\0" * (size * 16), 9))
with open(os.path.join(out, "trail-non-objects.json.gz"), "wb") as f:
    f.write(gzip.compress(b'{"Records":[' + b"1," * (size // 2) + b"1]}", 9))
print(json.dumps(sorted(os.listdir(out))))
