#!/usr/bin/env bash
# Every check and test: formatting, lints, the SAM template, unit and end-to-end tests.
# The end-to-end tests start the local stack themselves (or reuse a running one).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

bash infra/scripts/install.sh
bash infra/scripts/install-deploy-tools.sh --sam-only

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

echo "==> cfn-lint template.yaml"
.local/venv/bin/cfn-lint template.yaml

echo "==> sam validate --lint template.yaml"
# Offline: no credentials, a region only because the SAM CLI asks for one.
SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 \
  .local/deploy-venv/bin/sam validate --lint --template template.yaml

echo "==> tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi
