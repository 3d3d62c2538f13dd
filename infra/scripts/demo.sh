#!/usr/bin/env bash
# The main job on the local stack: stack up (installing what is missing), the demo
# company's catalogue through the admin API, a worker round trip, and a summary.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
cargo run --quiet -p tillbridge-local --bin tillbridge-local -- demo "$@"
