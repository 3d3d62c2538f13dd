#!/usr/bin/env bash
# Installs the deploy tools into the git-ignored .local/deploy-venv: cargo-lambda (which
# brings zig, its cross linker, as the ziglang package) and the SAM CLI, both from PyPI,
# plus the arm64 Rust target the functions are built for. Kept apart from .local/venv (the
# local stack's moto, cfn-lint and schemathesis) so neither pins the other's libraries.
# Idempotent: a second run only checks what is there. Needs python3 and rustup on PATH.
# `--sam-only`: skip the Rust target (enough for `sam validate`, as the test command runs).
# Prints nothing but errors when all is there already, unless DEPLOY_TOOLS_VERBOSE=1.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
local_dir="$root/.local"
mkdir -p "$local_dir"

# Pinned versions; bump deliberately.
CARGO_LAMBDA_VERSION="1.9.2"
SAM_CLI_VERSION="1.170.0"
RUST_TARGET="aarch64-unknown-linux-gnu"

need() { command -v "$1" >/dev/null 2>&1 || { echo "install-deploy-tools.sh: '$1' is required but not on PATH" >&2; exit 1; }; }
need python3
need rustup

venv="$local_dir/deploy-venv"
stamp="$venv/.installed-cl$CARGO_LAMBDA_VERSION-sam$SAM_CLI_VERSION"
if [ ! -f "$stamp" ]; then
  echo "==> deploy tools (cargo-lambda $CARGO_LAMBDA_VERSION, aws-sam-cli $SAM_CLI_VERSION) into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "cargo-lambda==$CARGO_LAMBDA_VERSION" "aws-sam-cli==$SAM_CLI_VERSION"
  rm -f "$venv"/.installed-*
  touch "$stamp"
fi

if [ "${1:-}" != "--sam-only" ] && ! rustup target list --installed | grep -qx "$RUST_TARGET"; then
  echo "==> rustup target add $RUST_TARGET"
  rustup target add "$RUST_TARGET"
fi

# Each tool answers, or the install is broken.
"$venv/bin/cargo-lambda" lambda --version >/dev/null
"$venv/bin/sam" --version >/dev/null
[ "${DEPLOY_TOOLS_VERBOSE:-0}" = 1 ] && echo "==> deploy tools ready in $venv"
exit 0
