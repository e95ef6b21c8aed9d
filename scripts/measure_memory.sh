#!/usr/bin/env bash
# Peak RSS of `ssm-audit render` on transcripts of 256 MiB, 1 GiB and 4 GiB streamed through
# stdin: it must not grow with the input (target: under 64 MiB).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p ssm-audit
for sz in 28 30 32; do
  python3 scripts/gen_transcript.py $((1 << sz)) |
    /usr/bin/time -f "%M KiB peak RSS, %e s" target/release/ssm-audit render - 2>&1 >/dev/null |
    sed "s/^/$((1 << (sz - 20))) MiB: /"
done
# the same with every command kept and the text as JSON (commands are kept to 16 MiB)
for flag in --commands --json; do
  python3 scripts/gen_transcript.py $((1 << 30)) |
    /usr/bin/time -f "%M KiB peak RSS, %e s" target/release/ssm-audit render $flag - 2>&1 >/dev/null |
    sed "s/^/1024 MiB, render $flag: /"
done

# ingest: what ssm-audit-ingest-s3 does with the object it streamed to /tmp (render as read,
# text to a temporary file; target: well inside a 512 MB function), then the CLI's ingest,
# which also correlates and indexes (tantivy's writer takes up to 256 MB of that)
cargo build --release -p ssm-audit-core --example ingest_file
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log="$tmp/alice-0123456789abcdefghijklmnop.log"
python3 scripts/gen_transcript.py $((1 << 30)) > "$log"
/usr/bin/time -f "%M KiB peak RSS, %e s" target/release/examples/ingest_file "$tmp/store" "$log" \
  2>&1 >/dev/null | sed "s/^/ingest only, 1 GiB: /"
/usr/bin/time -f "%M KiB peak RSS, %e s" target/release/ssm-audit --data-dir "$tmp/data" \
  ingest "$log" 2>&1 >/dev/null | sed "s/^/CLI ingest and index, 1 GiB: /"

# a 100 MB trail file of StartSession records only: decoded one record at a time, its facts
# written in files of 10,000 (memory follows the largest record, not the file)
python3 scripts/gen_trail.py $((100 << 20)) > "$tmp/trail.json"
/usr/bin/time -f "%M KiB peak RSS, %e s" target/release/examples/ingest_file "$tmp/store-trail" \
  "$tmp/trail.json" 2>&1 >/dev/null | sed "s/^/ingest only, 100 MiB trail file: /"
