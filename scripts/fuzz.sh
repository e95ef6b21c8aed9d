#!/usr/bin/env bash
# Run each fuzz target for FUZZ_SECONDS (default 120) and print its run count. Needs the
# nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`); its corpus stays in
# indexer/fuzz/corpus/ (not committed), seeded from the repository's test data.
set -euo pipefail
cd "$(dirname "$0")/../indexer"
secs=${FUZZ_SECONDS:-120}
for t in ingest render decode fast_path; do
  corpus=fuzz/corpus/$t
  mkdir -p "$corpus"
  # seeds: real recordings and samples, with the first byte the ingest target reads as a name
  if [[ -z "$(ls -A "$corpus")" ]]; then
    i=0
    for f in tests/recordings/*/session.log tests/data/samples/*; do
      [[ -f "$f" ]] || continue
      if [[ $t == ingest ]]; then { printf "\\x$(printf %02x $((i % 6)))"; cat "$f"; } > "$corpus/seed-$i"; else cp "$f" "$corpus/seed-$i"; fi
      i=$((i + 1))
    done
  fi
  log=$(mktemp)
  cargo +nightly fuzz run "$t" "$corpus" -- -max_total_time="$secs" -rss_limit_mb=2048 2>&1 | tee "$log" | grep -E "^(==|SUMMARY|thread)" || true
  runs=$(grep -oE "Done [0-9]+ runs" "$log" | tail -1 || true)
  echo "fuzz $t: ${runs:-no summary (see above)} in ${secs} s"
  grep -q "Done [0-9]* runs" "$log" || exit 1
  rm -f "$log"
done
