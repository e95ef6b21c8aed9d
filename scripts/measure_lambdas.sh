#!/usr/bin/env bash
# The Lambda functions measured: bootstrap zip sizes (cargo lambda build --release, x86_64;
# add --arm64 where the aarch64 standard library is installed), then each function's init
# time, invocation times and peak memory through cargo lambda watch (release builds), and
# the time from uploading a transcript to finding it, from the AWS end-to-end test.
set -euo pipefail
cd "$(dirname "$0")/.."
tools_path=$(./scripts/tools.sh)
export PATH="$tools_path:$PATH" SSM_AUDIT_TOOLS_PYTHON="${tools_path%%:*}/python"

cargo lambda build --release --output-format zip ${ARM64:+--arm64} >&2
echo "bootstrap zips:"
for z in target/lambda/*/bootstrap.zip; do
  printf '  %-28s %8d bytes\n' "$(basename "$(dirname "$z")")" "$(stat -c %s "$z")"
done

cargo build --workspace >&2
SSM_AUDIT_LAMBDA_RELEASE=1 cargo test -q -p ssm-audit-e2e --test aws the_pipeline -- --nocapture 2>&1 \
  | grep '^measured:' | sed -E 's/requestId="[^"]*" xrayTraceId="[^"]*"//; s/Lambda runtime invoke\{\}: //'

# a 1 GiB transcript through ssm-audit-ingest-s3 (release build): its peak memory
SSM_AUDIT_LAMBDA_RELEASE=1 cargo test -q -p ssm-audit-e2e --test aws a_large_transcript -- \
  --ignored --nocapture 2>&1 | grep '^measured:'
