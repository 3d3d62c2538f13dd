#!/usr/bin/env bash
# Installs the local stack's tools into the git-ignored .local/ folder. Idempotent: a
# second run only checks what is there. Needs python3, node/npm and java on PATH.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
local_dir="$root/.local"
mkdir -p "$local_dir"

# Pinned versions; bump deliberately.
MOTO_VERSION="5.2.5"
CFN_LINT_VERSION="1.58.0"
DDB_SIM_VERSION="2.9.30"
SCHEMATHESIS_VERSION="4.32.5"

need() { command -v "$1" >/dev/null 2>&1 || { echo "install.sh: '$1' is required but not on PATH" >&2; exit 1; }; }
need python3
need npm
need java

venv="$local_dir/venv"
stamp="$venv/.installed-$MOTO_VERSION-$CFN_LINT_VERSION-st$SCHEMATHESIS_VERSION"
if [ ! -f "$stamp" ]; then
  echo "==> Python tools (moto server $MOTO_VERSION, cfn-lint $CFN_LINT_VERSION, schemathesis $SCHEMATHESIS_VERSION) into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "moto[server]==$MOTO_VERSION" "cfn-lint==$CFN_LINT_VERSION" "schemathesis==$SCHEMATHESIS_VERSION"
  rm -f "$venv"/.installed-*
  touch "$stamp"
fi

ddb="$local_dir/dynamodb"
jar="$ddb/node_modules/amplify-dynamodb-simulator/emulator/DynamoDBLocal.jar"
if [ ! -f "$jar" ]; then
  echo "==> DynamoDB Local (npm amplify-dynamodb-simulator@$DDB_SIM_VERSION) into $ddb"
  mkdir -p "$ddb"
  npm install --silent --no-audit --no-fund --prefix "$ddb" "amplify-dynamodb-simulator@$DDB_SIM_VERSION" >/dev/null
fi
[ -f "$jar" ] || { echo "install.sh: DynamoDBLocal.jar not found at $jar" >&2; exit 1; }
echo "==> local stack tools ready in $local_dir"
