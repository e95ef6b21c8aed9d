#!/usr/bin/env bash
# Every test of the project, on a fresh machine: installs what the tests need (apt packages,
# and Python tools in venvs), then checks formatting and lints, builds everything (benchmarks
# included) and runs every test, the AWS ones against a moto server on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)      # the renderer's oracle
command -v script >/dev/null 2>&1 || need_apt+=(bsdutils) # util-linux script
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium) # the HTML report's browser test
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)   # a bundle checked without ssm-audit
command -v sha256sum >/dev/null 2>&1 || need_apt+=(coreutils)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing: ${need_apt[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"
fi

# moto, cargo-lambda, sam, cfn-lint, checkov: in venvs under .venv/ (the AWS tests need them)
tools_path=$(./scripts/tools.sh)
export PATH="$tools_path:$PATH"
export SSM_AUDIT_TOOLS_PYTHON="${tools_path%%:*}/python"
export SAM_CLI_TELEMETRY=0

# a one-off build gains nothing from incremental state, which is gigabytes on disk
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
df -h . | tail -1 | awk '{print "disk free before the build: " $4}'

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo build --workspace --all-targets
cargo test --workspace
