#!/usr/bin/env bash
# Builds every function for the template's target (arm64, provided.al2023) with
# `cargo lambda build --release --arm64`, into $CARGO_TARGET_DIR/lambda/<fn>/bootstrap
# (target/ when unset), then prints each bootstrap's size. Fails if one is over the
# 8 MB budget (LAMBDA_SIZE_LIMIT bytes to change it).
# Installs the deploy tools first (infra/scripts/install-deploy-tools.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

bash infra/scripts/install-deploy-tools.sh
# cargo-lambda finds zig (the ziglang package) through the venv's python.
export PATH="$root/.local/deploy-venv/bin:$PATH"

functions=()
for dir in functions/*/; do
  functions+=("$(basename "$dir")")
done
packages=()
for fn in "${functions[@]}"; do
  packages+=(--package "$fn")
done

echo "==> cargo lambda build --release --arm64 (${functions[*]})"
start=$(date +%s)
cargo lambda build --release --arm64 "${packages[@]}"
echo "==> built in $(($(date +%s) - start)) s"

target_dir="${CARGO_TARGET_DIR:-$root/target}"
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
limit="${LAMBDA_SIZE_LIMIT:-8000000}"
over=0
printf '%-18s %12s %9s\n' function bytes MB
for fn in "${functions[@]}"; do
  bin="$target_dir/lambda/$fn/bootstrap"
  if [ ! -f "$bin" ]; then
    echo "build-lambdas.sh: $bin was not built" >&2
    exit 1
  fi
  bytes=$(stat -c %s "$bin")
  printf '%-18s %12d %9s\n' "$fn" "$bytes" "$(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1000000 }')"
  [ "$bytes" -le "$limit" ] || over=1
done
if [ "$over" = 1 ]; then
  echo "build-lambdas.sh: a function is over $limit bytes" >&2
  exit 1
fi
