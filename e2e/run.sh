#!/usr/bin/env bash
# The end-to-end suite: builds the real binaries, starts the local control plane, runs e2e/tests
# against it, and always tears it down (also on failure and Ctrl-C). On failure, the tail of every
# component log is printed so CI output explains what the cluster saw.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
export E2E_RUN_DIR=${E2E_RUN_DIR:-$repo/.cache/cluster}

status=1
finish() {
  if [ "$status" != 0 ] && [ -d "$E2E_RUN_DIR/logs" ]; then
    for log in "$E2E_RUN_DIR"/logs/*.log; do
      echo "----- last lines of $log -----" >&2
      tail -n 25 "$log" >&2 || true
    done
  fi
  bash "$repo/e2e/cluster/down.sh" || true
}
trap finish EXIT
trap 'exit 130' INT TERM

echo "e2e: building controller and plugin binaries" >&2
cargo build --locked --bins --workspace --exclude e2e
bash "$repo/e2e/cluster/up.sh"
# shellcheck disable=SC1091
. "$E2E_RUN_DIR/env"
export RUST_LIB_BACKTRACE=0
export E2E_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target}/debug
log="$E2E_RUN_DIR/logs/e2e-tests.log"
set +e
cargo test --locked -p e2e --tests -- --test-threads="${E2E_THREADS:-4}" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole suite (cargo prints one per test binary).
awk '/^test result:/ { p += $4; f += $6; s += $8 } END { printf "e2e: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
[ "$status" = 0 ] || exit "$status"
