#!/usr/bin/env bash
# `make demo`: a guided tour for newcomers, no cluster needed. Builds the controller and the kubectl
# plugin, starts the local control plane (e2e/cluster/up.sh: real Kubernetes components, kwok fake
# nodes and pods, all on 127.0.0.1), installs the CRDs, starts rollouts-controller in the
# background, applies deploy/examples/rollout-canary.yaml and walks one canary update step by step
# with the plugin's tree view, promoting where it pauses indefinitely, until Healthy. Then it
# leaves everything running and prints how to keep playing and how to stop.
#
# Env knobs: E2E_RUN_DIR (cluster run dir, default <repo>/.cache/cluster), CARGO_TARGET_DIR,
# DEMO_NAMESPACE (default "default"), plus up.sh's (E2E_NODES, E2E_SKIP_PROMETHEUS, ...).
# Stop: `make cluster-down` also stops the controller (its pid is in <run>/pids).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
user_run_dir=${E2E_RUN_DIR:-}
export E2E_RUN_DIR=${E2E_RUN_DIR:-$repo/.cache/cluster}
RUN=$(realpath -m "$E2E_RUN_DIR") # as e2e/cluster/common.sh computes it
down_cmd="${user_run_dir:+E2E_RUN_DIR=$RUN }make cluster-down"
TARGET=$(realpath -m "${CARGO_TARGET_DIR:-$repo/target}")/debug
NS=${DEMO_NAMESPACE:-default}
RO=rollouts-demo
EXAMPLE=deploy/examples/rollout-canary.yaml
NEW_IMAGE=argoproj/rollouts-demo:yellow

if [ -t 1 ]; then
  B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m'
else # a log file or CI: no escape codes (the plugin colours unless NO_COLOR is set)
  B='' G='' R='' N=''
  export NO_COLOR=1
fi
stage_no=0 stage_total=8 stage=""
stage() { stage_no=$((stage_no + 1)); stage=$*; printf '\n%s==> [%d/%d] %s%s\n' "$B" "$stage_no" "$stage_total" "$*" "$N"; }
info() { printf '    %s\n' "$*"; }
reported=0 cluster_started=0
die() { printf '\n%sdemo: ERROR: [%s] %s%s\n' "$R" "$stage" "$*" "$N" >&2; reported=1; exit 1; }
on_exit() {
  local rc=$?
  if [ "$rc" != 0 ] && [ "$reported" = 0 ]; then
    printf '\n%sdemo: ERROR: [%s] failed (exit %s); see the output above%s\n' "$R" "${stage:-start}" "$rc" "$N" >&2
  fi
  if [ "$rc" != 0 ] && [ "$cluster_started" = 1 ]; then
    echo "demo: what was started keeps running for inspection (logs: $RUN/logs); stop it with: $down_cmd" >&2
  fi
}
trap on_exit EXIT
trap 'reported=1; echo; echo "demo: interrupted" >&2; exit 130' INT TERM

# ------------------------------------------------------------------------------------------------
stage "checking prerequisites"
for tool in cargo go openssl python3 curl setsid realpath; do
  command -v "$tool" >/dev/null || die "'$tool' not found on PATH (needed to build and run the local cluster)"
done
info "cargo, go, openssl, python3, curl: ok"

# ------------------------------------------------------------------------------------------------
stage "building rollouts-controller and kubectl-argo-rollouts (cargo build)"
cargo build --locked --bins --workspace --exclude e2e || die "cargo build failed (see above)"
for b in rollouts-controller kubectl-argo-rollouts; do
  [ -x "$TARGET/$b" ] || die "$TARGET/$b missing after the build (CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-})"
done
info "binaries in $TARGET"

# ------------------------------------------------------------------------------------------------
stage "starting the local control plane (e2e/cluster/up.sh; the first run builds Kubernetes, ~10 min)"
# up.sh prints its own numbered progress; relay it indented.
bash e2e/cluster/up.sh 2>&1 | sed -u 's/^/    /' ||
  die "the local control plane did not start (see the cluster-up lines above)"
cluster_started=1
# shellcheck disable=SC1091
. "$RUN/env"
# shellcheck disable=SC2153 # E2E_BIN_DIR comes from $RUN/env
export PATH="$TARGET:$E2E_BIN_DIR:$PATH" # kubectl, and kubectl-argo-rollouts as a kubectl plugin
kubectl get nodes >/dev/null || die "kubectl cannot reach the cluster ($KUBECONFIG)"
info "cluster up: $(kubectl get nodes --no-headers | wc -l) fake nodes, KUBECONFIG=$KUBECONFIG"

# ------------------------------------------------------------------------------------------------
stage "installing the CRDs (kubectl apply --server-side -f crds/)"
kubectl apply --server-side -f crds/ | sed 's/^/    /' || die "installing crds/ failed"
kubectl wait --for=condition=Established --timeout=60s -f crds/ >/dev/null || die "the CRDs were not established within 60s"

# ------------------------------------------------------------------------------------------------
stage "starting rollouts-controller in the background"
# port_free PORT: nothing listens on 127.0.0.1:PORT.
port_free() { python3 -c 'import socket,sys; s=socket.socket(); s.bind(("0.0.0.0", int(sys.argv[1])))' "$1" 2>/dev/null; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
METRICS_PORT=8090 HEALTHZ_PORT=8080
port_free "$METRICS_PORT" || METRICS_PORT=$(free_port)
port_free "$HEALTHZ_PORT" || HEALTHZ_PORT=$(free_port)
# Leader election stays on, as deployed: the Lease lives in the controller's namespace.
kubectl create namespace argo-rollouts --dry-run=client -o yaml | kubectl apply -f - >/dev/null ||
  die "cannot create namespace argo-rollouts (for the leader-election Lease)"
CONTROLLER_LOG=$E2E_LOG_DIR/rollouts-controller.log
# Its own session (immune to this terminal's Ctrl-C once the demo is done); the run dir is on its
# command line (--kubeconfig), which is how down.sh recognises it as part of this run.
POD_NAMESPACE=argo-rollouts setsid "$TARGET/rollouts-controller" --kubeconfig "$RUN/kubeconfig" \
  --metricsPort "$METRICS_PORT" --healthzPort "$HEALTHZ_PORT" >"$CONTROLLER_LOG" 2>&1 </dev/null &
CONTROLLER_PID=$!
disown "$CONTROLLER_PID"
echo "rollouts-controller $CONTROLLER_PID" >>"$RUN/pids" # down.sh stops it first (newest first)
controller_alive() { kill -0 "$CONTROLLER_PID" 2>/dev/null; }
deadline=$((SECONDS + 30))
until curl -fsS "http://127.0.0.1:$HEALTHZ_PORT/healthz" >/dev/null 2>&1 && grep -q "became leader" "$CONTROLLER_LOG"; do
  controller_alive || { tail -n 20 "$CONTROLLER_LOG" | sed 's/^/    /' >&2; die "rollouts-controller exited (log: $CONTROLLER_LOG)"; }
  [ "$SECONDS" -lt "$deadline" ] || die "rollouts-controller not leading after 30s (log: $CONTROLLER_LOG)"
  sleep 0.5
done
info "pid $CONTROLLER_PID, leader of Lease argo-rollouts/argo-rollouts-controller-lock"
info "log $CONTROLLER_LOG; /metrics on :$METRICS_PORT, /healthz on :$HEALTHZ_PORT"

# ------------------------------------------------------------------------------------------------
stage "applying $EXAMPLE (5 replicas, steps: setWeight 20, pause {}, setWeight 60, pause 10s)"
if [ "$NS" != default ]; then
  kubectl create namespace "$NS" --dry-run=client -o yaml | kubectl apply -f - >/dev/null || die "cannot create namespace $NS"
fi
kubectl apply -n "$NS" -f "$EXAMPLE" | sed 's/^/    /' || die "kubectl apply $EXAMPLE failed"
kubectl argo rollouts status "$RO" -n "$NS" --timeout 90s >/dev/null ||
  die "the first revision did not become Healthy in 90s (controller log: $CONTROLLER_LOG)"
kubectl argo rollouts get rollout "$RO" -n "$NS" || die "kubectl argo rollouts get rollout failed"

# ------------------------------------------------------------------------------------------------
stage "updating the image to $NEW_IMAGE and following the canary step by step"
info "\$ kubectl argo rollouts set image $RO $RO=$NEW_IMAGE"
kubectl argo rollouts set image "$RO" -n "$NS" "$RO=$NEW_IMAGE" | sed 's/^/    /' || die "set image failed"
generation=$(kubectl get rollouts.argoproj.io "$RO" -n "$NS" -o jsonpath='{.metadata.generation}')
steps=$(kubectl get rollouts.argoproj.io "$RO" -n "$NS" -o go-template='{{len .spec.strategy.canary.steps}}')
deadline=$((SECONDS + 180)) last="" promoted=""
while :; do
  # observedGeneration, step index, phase, stable and current pod hash: one read.
  IFS='|' read -r observed step phase stable current < <(kubectl get rollouts.argoproj.io "$RO" -n "$NS" \
    -o jsonpath='{.status.observedGeneration}|{.status.currentStepIndex}|{.status.phase}|{.status.stableRS}|{.status.currentPodHash}{"\n"}') ||
    die "cannot read the rollout"
  if [ "$observed" = "$generation" ] && [ "$step/$phase" != "$last" ]; then
    last="$step/$phase"
    printf '\n%s--- step %s/%s, %s ---%s\n' "$B" "$step" "$steps" "$phase" "$N"
    kubectl argo rollouts get rollout "$RO" -n "$NS" || die "kubectl argo rollouts get rollout failed"
  fi
  if [ "$observed" = "$generation" ] && [ "$phase" = Healthy ] && [ "$step" = "$steps" ] && [ "$stable" = "$current" ]; then
    break
  fi
  if [ "$observed" = "$generation" ] && [ "$phase" = Paused ] && [ "$promoted" != "$step" ]; then
    duration=$(kubectl get rollouts.argoproj.io "$RO" -n "$NS" -o jsonpath="{.spec.strategy.canary.steps[$step].pause.duration}")
    if [ -z "$duration" ]; then
      printf '\n%sPaused indefinitely at step %s: promoting%s\n' "$G" "$step" "$N"
      info "\$ kubectl argo rollouts promote $RO"
      kubectl argo rollouts promote "$RO" -n "$NS" | sed 's/^/    /' || die "promote failed"
      promoted=$step
    else
      info "(a timed pause: it continues by itself after $duration)"
      promoted=$step
    fi
  fi
  controller_alive || { tail -n 20 "$CONTROLLER_LOG" | sed 's/^/    /' >&2; die "rollouts-controller exited (log: $CONTROLLER_LOG)"; }
  [ "$SECONDS" -lt "$deadline" ] || die "the update did not finish within 180s (at step $step, $phase; controller log: $CONTROLLER_LOG)"
  sleep 0.5
done
printf '\n%sRollout %s is Healthy at revision %s (%s).%s\n' "$G" "$RO" \
  "$(kubectl get rollouts.argoproj.io "$RO" -n "$NS" -o jsonpath='{.metadata.annotations.rollout\.argoproj\.io/revision}')" "$NEW_IMAGE" "$N"

# ------------------------------------------------------------------------------------------------
stage "done: everything keeps running"
rel_target=${TARGET#"$repo"/}
cat <<EOF
Keep playing (in this shell or another):
  export KUBECONFIG=$KUBECONFIG
  export PATH=$TARGET:$E2E_BIN_DIR:\$PATH     # kubectl and the plugin (kubectl argo rollouts)
  kubectl argo rollouts get rollout $RO -n $NS --watch      # live tree view (Ctrl-C to leave)
  kubectl argo rollouts set image $RO -n $NS $RO=argoproj/rollouts-demo:green
  kubectl argo rollouts promote $RO -n $NS                  # past the indefinite pause
  kubectl argo rollouts promote $RO -n $NS --full           # skip the remaining steps
  kubectl argo rollouts abort $RO -n $NS                    # back to the stable version
  kubectl argo rollouts retry rollout $RO -n $NS            # after an abort
  kubectl argo rollouts undo $RO -n $NS                     # the previous revision
  kubectl argo rollouts restart $RO -n $NS
  kubectl argo rollouts list rollouts -A
  curl -s localhost:$METRICS_PORT/metrics | grep rollout_info
Controller: pid $CONTROLLER_PID, log $CONTROLLER_LOG
  ($rel_target/rollouts-controller --help for its flags; deploy/README.md installs it in a real cluster)

Stop everything (cluster and controller, whose pid is in $RUN/pids):
  $down_cmd
Stop only the controller:
  kill $CONTROLLER_PID
EOF
