#!/usr/bin/env bash
# The one benchmark command: every performance figure against its target, as one table
# (printed, and written to target/bench/table.json). Nothing here asserts a time.
#   1. the functions for the template's target (arm64) with cargo lambda, for their sizes
#      (infra/scripts/build-lambdas.sh; BENCH_SKIP_ARM64=1 skips it);
#   2. the same functions natively (release) and init-bench: exec → first `next` against
#      a mock Lambda Runtime API (target/bench/binaries.json);
#   3. transfer-bench table: the engine, a day end to end and again, a 90-day migration
#      (the local stack and the simulator, started as the tests start them) and peak memory.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

bash infra/scripts/install.sh
if [ "${BENCH_SKIP_ARM64:-0}" != 1 ]; then
  bash infra/scripts/build-lambdas.sh || echo "bench.sh: a function is over its size budget; the table says which figure"
fi

functions=()
for dir in functions/*/; do
  functions+=(--package "$(basename "$dir")")
done
# Built on their own, so each carries only its own features (as deployed), not the tests'.
echo "==> the functions, native release build"
cargo build --release "${functions[@]}"
echo "==> the benchmarks, release build"
cargo build --release -p tillbridge-tests --bin init-bench --bin transfer-bench

target_dir="${CARGO_TARGET_DIR:-$root/target}"
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
"$target_dir/release/init-bench" "$target_dir/release"
"$target_dir/release/transfer-bench" table
