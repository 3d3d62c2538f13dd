#!/usr/bin/env bash
# Validates and builds the SAM application: installs the deploy tools
# (infra/scripts/install-deploy-tools.sh), runs `sam validate --lint`, then `sam build`
# with the rust-cargolambda build method (a beta feature of the SAM CLI), which runs
# `cargo lambda build --release --arm64 --bin <fn>` in each function's folder and puts
# each bootstrap under .aws-sam/build/<Function>/. Needs no AWS credentials; deploy the
# result with `sam deploy --guided` (see the README). Extra arguments go to `sam build`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

bash infra/scripts/install-deploy-tools.sh
export PATH="$root/.local/deploy-venv/bin:$PATH"
export SAM_CLI_TELEMETRY=0
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-${AWS_REGION:-us-east-1}}"

echo "==> sam validate --lint"
sam validate --lint --template template.yaml

echo "==> sam build --beta-features"
start=$(date +%s)
sam build --beta-features --template template.yaml "$@"
echo "==> sam build took $(($(date +%s) - start)) s"

printf '%-26s %12s\n' artifact bytes
for bin in .aws-sam/build/*/bootstrap; do
  printf '%-26s %12d\n' "$(basename "$(dirname "$bin")")" "$(stat -c %s "$bin")"
done
