#!/usr/bin/env bash
# The Python tools the tests use, each set in a venv of its own under .venv/ (made once,
# reused after): moto's server (a local S3, SQS, CloudWatch Logs, CloudFormation...),
# cargo-lambda (the Lambda runtime emulator and packager), and the template checkers
# (sam validate, cfn-lint; checkov apart, as it pins its own boto3). Prints the PATH entries.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! "$PY" -c 'import venv, ensurepip' 2>/dev/null; then
  echo "installing python3-venv" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >&2
fi

venv() { # name, stamp (what is installed), packages...
  local name=$1 stamp=$2; shift 2
  local dir=.venv/$name
  if [ ! -f "$dir/.done-$stamp" ]; then
    echo "installing into $dir: $*" >&2
    rm -rf "$dir"
    "$PY" -m venv "$dir" >&2
    "$dir/bin/pip" install -q --disable-pip-version-check "$@" >&2
    touch "$dir/.done-$stamp"
  fi
  echo "$PWD/$dir/bin"
}

aws=$(venv aws 1 'moto[server]>=5.1' 'cfn-lint>=1.20' 'aws-sam-cli>=1.130' 'cargo-lambda>=1.8' 'ziglang')
checkov=$(venv checkov 1 'checkov>=3.2')
echo "$aws:$checkov"
