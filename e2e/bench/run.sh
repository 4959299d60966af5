#!/usr/bin/env bash
# The scale benchmark (`make bench-scale`): builds the release controller and the benchmark,
# starts the local control plane (e2e/cluster/up.sh), runs e2e/bench/scale.rs against it and always
# tears the cluster down (also on failure and Ctrl-C), printing the tail of the component logs
# when something failed.
#
# Knobs (see scale.rs for all): BENCH_SIZES ("100 1000"), BENCH_STEADY_SECS (300),
# BENCH_OUT (<repo>/.cache/bench/scale.json), E2E_RUN_DIR (<repo>/.cache/cluster),
# E2E_KCM_EXTRA_ARGS / E2E_SCHEDULER_EXTRA_ARGS (defaults below).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/rollouts-target}
export E2E_RUN_DIR=${E2E_RUN_DIR:-$repo/.cache/cluster}
# The cluster's own clients are rate limited by default (kube-controller-manager 20 requests/s,
# kube-scheduler 50/s): at 1000 rollouts the ReplicaSet controller creating and deleting 4000 pods
# would be what the benchmark measures. Raise them so the controller under test is the subject.
export E2E_KCM_EXTRA_ARGS=${E2E_KCM_EXTRA_ARGS---kube-api-qps=1000 --kube-api-burst=2000 --concurrent-replicaset-syncs=10}
export E2E_SCHEDULER_EXTRA_ARGS=${E2E_SCHEDULER_EXTRA_ARGS---kube-api-qps=1000 --kube-api-burst=2000}
# No analysis here: Prometheus would only take CPU from the machine.
export E2E_SKIP_PROMETHEUS=${E2E_SKIP_PROMETHEUS:-1}

status=1
finish() {
  if [ "$status" != 0 ] && [ -d "$E2E_RUN_DIR/logs" ]; then
    for log in "$E2E_RUN_DIR"/logs/*.log; do
      echo "----- last lines of $log -----" >&2
      tail -n 15 "$log" >&2 || true
    done
  fi
  bash "$repo/e2e/cluster/down.sh" || true
}
trap finish EXIT
trap 'exit 130' INT TERM

echo "bench: building the release controller and the benchmark" >&2
cargo build --locked --release --bin rollouts-controller
cargo build --locked --release -p e2e --bin bench_scale
bash "$repo/e2e/cluster/up.sh"
# shellcheck disable=SC1091
. "$E2E_RUN_DIR/env"
export E2E_TARGET_DIR=$CARGO_TARGET_DIR/release
# cargo run sets CARGO_MANIFEST_DIR, which the harness reads to find this checkout.
cargo run --locked --release --quiet -p e2e --bin bench_scale
status=0
