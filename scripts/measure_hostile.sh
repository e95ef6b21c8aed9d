#!/usr/bin/env bash
# The resource table of hostile inputs (scripts/gen_hostile.py, 16 MiB each, beside a plain
# transcript of the same size): peak RSS and CPU seconds of `ssm-audit render` and of
# `ssm-audit ingest` (decode, render, store, correlate, index) of each one alone.
# Targets: under 256 MB peak RSS, and within 10x the CPU of the plain transcript. Each figure
# is the least CPU (user + system) and the highest peak of three runs: CPU seconds on these
# shared machines wander by more than the plain transcript's own cost.
# usage: scripts/measure_hostile.sh [SIZE]
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-$((16 << 20))}
cargo build --release -p ssm-audit >/dev/null 2>&1 || cargo build --release -p ssm-audit
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 scripts/gen_hostile.py "$tmp/in" "$size" >/dev/null
bin=target/release/ssm-audit
measure() { # prints "peakKB cpu_seconds": the highest peak and the least CPU of three runs
  local best="" peak=0
  for _ in 1 2 3; do
    [[ "$1" == --fresh ]] && rm -rf "$tmp/data"
    /usr/bin/time -f "%M %U %S" -o "$tmp/t" "${@:2}" >/dev/null 2>&1 || true
    read -r kb cpu <<<"$(tail -1 "$tmp/t" | awk '{printf "%d %.2f", $1, $2 + $3}')"
    (( kb > peak )) && peak=$kb
    if [[ -z "$best" ]] || awk "BEGIN{exit !($cpu < $best)}"; then best=$cpu; fi
  done
  echo "$peak $best"
}
printf "%-34s %10s | %14s %8s %6s | %14s %8s %6s\n" input bytes "render RSS KB" "CPU s" "x plain" "ingest RSS KB" "CPU s" "x plain"
plain_r=""; plain_i=""
for f in "$tmp"/in/*plain*.log "$tmp"/in/*; do
  name=$(basename "$f")
  [[ -n "$plain_r" && "$name" == *plain* ]] && continue
  read -r rr rc <<<"$(measure --same $bin render "$f")"
  read -r ir ic <<<"$(measure --fresh $bin --data-dir "$tmp/data" ingest "$f")"
  if [[ -z "$plain_r" ]]; then plain_r=$rc; plain_i=$ic; fi
  printf "%-34s %10d | %14d %8.2f %6.1f | %14d %8.2f %6.1f\n" "${name/-0e34861185201706f/}" \
    "$(stat -c %s "$f")" "$rr" "$rc" "$(awk "BEGIN{print $rc / ($plain_r > 0.01 ? $plain_r : 0.01)}")" \
    "$ir" "$ic" "$(awk "BEGIN{print $ic / ($plain_i > 0.01 ? $plain_i : 0.01)}")"
done
