#!/usr/bin/env bash
# Starts a local Kubernetes control plane for the e2e tests and the demo, all on 127.0.0.1:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok (fake nodes and pods),
# a metrics file server and Prometheus. Binaries come from build.sh (built from Go modules).
#
# Run dir: ${E2E_RUN_DIR:-<repo>/.cache/cluster}. Writes <run>/kubeconfig and <run>/env (sourceable).
# Env knobs: E2E_RUN_DIR, E2E_CACHE (build cache, see build.sh), E2E_SKIP_PROMETHEUS=1, E2E_NODES (3),
# E2E_KCM_EXTRA_ARGS / E2E_SCHEDULER_EXTRA_ARGS (extra flags, split on spaces, e.g. the client QPS the
# scale benchmark raises so that the cluster's own controllers are not what it measures).
# Stop with down.sh. On failure or Ctrl-C everything started so far is stopped again.
set -euo pipefail
. "$(dirname "$0")/common.sh"

NODES=${E2E_NODES:-3}
read -r -a KCM_EXTRA <<<"${E2E_KCM_EXTRA_ARGS:-}"
read -r -a SCHEDULER_EXTRA <<<"${E2E_SCHEDULER_EXTRA_ARGS:-}"
LOG="$RUN/logs"
phase_no=0
say() { phase_no=$((phase_no + 1)); echo "cluster-up: [$phase_no] $*" >&2; }
# die COMPONENT MESSAGE: the one error line; the EXIT trap then stops whatever was started.
die() { echo "cluster-up: ERROR: $1: $2" >&2; reported=1; exit 1; }

# --- teardown on failure / Ctrl-C -------------------------------------------------------------
done_ok=0 reported=0
on_exit() {
  local rc=$?
  if [ "$done_ok" != 1 ]; then
    trap - INT TERM
    stop_run # logs stay in $RUN/logs for the error line above; down.sh removes them
    [ "$rc" = 0 ] && rc=1
    # die already printed the one error line; anything else gets a generic one.
    [ "$reported" = 1 ] || echo "cluster-up: ERROR: failed (exit $rc); stopped what had been started (logs: $LOG)" >&2
  fi
  exit "$rc"
}
trap on_exit EXIT
trap 'echo "cluster-up: ERROR: interrupted; stopping what had been started" >&2; reported=1; exit 130' INT TERM

# --- prerequisites ------------------------------------------------------------------------------
for tool in openssl python3 curl realpath setsid; do
  command -v "$tool" >/dev/null || die "$tool" "required tool not found on PATH"
done

# A previous run (even a half-failed one) is stopped and wiped first, so two up.sh in a row work.
if [ -e "$RUN" ]; then
  say "removing previous run dir $RUN"
  stop_run
  rm -rf "$RUN"
fi
mkdir -p "$RUN"/{logs,pki,metrics,prom} # etcd creates its own data dir (0700)
: >"$RUN/pids"

say "building/locating binaries (e2e/cluster/build.sh)"
BIN=$("$cluster_dir/build.sh" | tail -n1) || die build.sh "build failed (see the output above)"
for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok; do
  [ -x "$BIN/$b" ] || die "$b" "binary missing in $BIN"
done
kc() { "$BIN/kubectl" --kubeconfig "$RUN/kubeconfig" "$@"; }

# --- helpers ------------------------------------------------------------------------------------
# free_ports N: N distinct free TCP ports on 127.0.0.1 (the kernel picks; they are released at once,
# so a tiny race with other programs remains; a lost race shows up as "port in use" below).
free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# start NAME CMD...: runs CMD in its own session (immune to the terminal's Ctrl-C/hangup once up.sh
# is done), log to $LOG/NAME.log, pid recorded in $RUN/pids.
declare -A PID=()
start() {
  local name=$1; shift
  setsid "$@" >"$LOG/$name.log" 2>&1 </dev/null &
  PID[$name]=$!
  echo "$name $!" >>"$RUN/pids"
  disown "$!" # no "Killed" job notices from bash when a component dies or is stopped
}

# check_alive: every component started so far must still run; names the first dead one.
check_alive() {
  local name hint
  for name in "${!PID[@]}"; do
    if ! alive "${PID[$name]}"; then
      hint="exited early"
      grep -qi "address already in use" "$LOG/$name.log" 2>/dev/null && hint="exited early: port in use"
      die "$name" "$hint (log: $LOG/$name.log)"
    fi
  done
}

# wait_for NAME TIMEOUT_S CMD...: polls CMD until it succeeds, failing fast if a component died.
wait_for() {
  local name=$1 timeout=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    check_alive
    [ "$SECONDS" -lt "$deadline" ] || die "$name" "not ready after ${timeout}s (log: $LOG/$name.log)"
    sleep 0.5
  done
}

read -r ETCD_PORT ETCD_PEER_PORT API_PORT METRICS_PORT PROM_PORT < <(free_ports 5)

# --- PKI ----------------------------------------------------------------------------------------
say "generating throwaway PKI and admin token"
# ossl ARGS...: openssl with output to the PKI log and one clear error line on failure.
ossl() { (cd "$RUN/pki" && openssl "$@") >>"$LOG/pki.log" 2>&1 || die openssl "openssl $1 failed (log: $LOG/pki.log)"; }
ossl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj "/CN=e2e-ca" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
ossl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver"
# rustls/webpki clients need a non-CA leaf with serverAuth and an IP SAN for 127.0.0.1.
cat >"$RUN/pki/apiserver.ext" <<'EOF2'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.96.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc
EOF2
ossl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
  -extfile apiserver.ext -out apiserver.crt
# Service-account token signing pair (the apiserver signs tokens; the kcm signs legacy token Secrets).
ossl genrsa -out sa.key 2048
ossl rsa -in sa.key -pubout -out sa.pub
TOKEN=$(openssl rand -hex 32)
echo "$TOKEN,e2e-admin,e2e-admin,\"system:masters\"" >"$RUN/pki/tokens.csv"
chmod 600 "$RUN/pki/"*.key "$RUN/pki/tokens.csv"

cat >"$RUN/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority: $RUN/pki/ca.crt
users:
- name: e2e-admin
  user:
    token: $TOKEN
contexts:
- name: e2e
  context:
    cluster: e2e
    user: e2e-admin
current-context: e2e
EOF
chmod 600 "$RUN/kubeconfig"

# --- etcd ---------------------------------------------------------------------------------------
say "starting etcd on 127.0.0.1:$ETCD_PORT"
start etcd "$BIN/etcd" --name e2e --data-dir "$RUN/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "e2e=http://127.0.0.1:$ETCD_PEER_PORT" \
  --listen-metrics-urls "" \
  --unsafe-no-fsync --quota-backend-bytes=2147483648 --auto-compaction-retention=1 --log-level=warn
wait_for etcd 30 curl -fsS "http://127.0.0.1:$ETCD_PORT/health"

# --- kube-apiserver -----------------------------------------------------------------------------
say "starting kube-apiserver on https://127.0.0.1:$API_PORT"
start kube-apiserver "$BIN/kube-apiserver" \
  --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" \
  --cert-dir="$RUN/pki" --tls-cert-file="$RUN/pki/apiserver.crt" --tls-private-key-file="$RUN/pki/apiserver.key" \
  --client-ca-file="$RUN/pki/ca.crt" --token-auth-file="$RUN/pki/tokens.csv" \
  --authorization-mode=RBAC \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$RUN/pki/sa.pub" --service-account-signing-key-file="$RUN/pki/sa.key" \
  --service-cluster-ip-range=10.96.0.0/16 --allow-privileged=true \
  --disable-admission-plugins=ServiceAccount,TaintNodesByCondition \
  --enable-priority-and-fairness=false --endpoint-reconciler-type=none --profiling=false
# TaintNodesByCondition is off because no node-lifecycle controller would lift its not-ready taint;
# ServiceAccount admission is off because fake pods need no token volumes.
wait_for kube-apiserver 120 curl -fsS --cacert "$RUN/pki/ca.crt" -H "Authorization: Bearer $TOKEN" \
  "https://127.0.0.1:$API_PORT/readyz"

# --- controller-manager, scheduler ------------------------------------------------------------
say "starting kube-controller-manager and kube-scheduler"
# Only the controllers the tests need. serviceaccount-token makes ServiceAccount token Secrets work
# (TokenRequest is served by the apiserver itself); job-controller runs the analysis Job provider.
start kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig="$RUN/kubeconfig" \
  --leader-elect=false --secure-port=0 --use-service-account-credentials=false \
  --controllers=replicaset-controller,deployment-controller,garbage-collector-controller,namespace-controller,serviceaccount-controller,serviceaccount-token-controller,job-controller \
  --service-account-private-key-file="$RUN/pki/sa.key" --root-ca-file="$RUN/pki/ca.crt" ${KCM_EXTRA[@]+"${KCM_EXTRA[@]}"}
# kwok only runs pods that have spec.nodeName, so a real scheduler is needed.
start kube-scheduler "$BIN/kube-scheduler" --kubeconfig="$RUN/kubeconfig" --leader-elect=false --secure-port=0 \
  ${SCHEDULER_EXTRA[@]+"${SCHEDULER_EXTRA[@]}"}
# The serviceaccount controller creating "default" in namespace default shows the kcm is working.
wait_for kube-controller-manager 60 kc get serviceaccount default -n default

# --- kwok and fake nodes ------------------------------------------------------------------------
say "starting kwok and creating $NODES fake nodes"
# Stages: the stock ones from the pinned kwok module, pod-ready/pod-complete narrowed so the e2e
# stages in kwok-stages.yaml (never-ready, ready-after, fail) are the only ones matching those pods.
KWOK_SRC=$(cd "$cluster_dir/kwok" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly go list -m -f '{{.Dir}}' sigs.k8s.io/kwok) ||
  die kwok "cannot locate the kwok module source (run build.sh)"
inject() { # inject FILE EXTRA: prints FILE with EXTRA inserted after its selector's matchExpressions line
  awk -v extra="$2" '{ print } /^    matchExpressions:$/ && !done { print extra; done = 1 } END { exit !done }' "$1" ||
    die kwok "cannot add e2e selectors to $1 (layout changed?)"
}
{
  cat "$KWOK_SRC/kustomize/stage/node/fast/node-initialize.yaml"
  echo '---'
  cat "$KWOK_SRC/kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml"
  echo '---'
  inject "$KWOK_SRC/kustomize/stage/pod/fast/pod-ready.yaml" \
"    - key: '(.metadata.labels[\"e2e.argoproj.io/never-ready\"] == \"true\") or (.metadata.annotations[\"e2e.argoproj.io/ready-after\"] != null)'
      operator: 'NotIn'
      values:
      - 'true'"
  echo '---'
  inject "$KWOK_SRC/kustomize/stage/pod/fast/pod-complete.yaml" \
"    - key: '.status.conditions.[] | select( .type == \"Ready\" ) | .status'
      operator: 'In'
      values:
      - 'True'
    - key: '.metadata.labels[\"e2e.argoproj.io/fail\"]'
      operator: 'NotIn'
      values:
      - 'true'"
  echo '---'
  cat "$KWOK_SRC/kustomize/stage/pod/fast/pod-delete.yaml"
  echo '---'
  cat "$cluster_dir/kwok-stages.yaml"
} >"$RUN/kwok.yaml"

start kwok "$BIN/kwok" --kubeconfig="$RUN/kubeconfig" --config="$RUN/kwok.yaml" \
  --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
  --cidr=10.244.0.0/16 --node-lease-duration-seconds=40 --node-port=0
for ((i = 0; i < NODES; i++)); do
  cat <<EOF
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    kwok.x-k8s.io/node: fake
  labels:
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
---
EOF
done | kc apply -f - >"$LOG/nodes.log" 2>&1 || die kubectl "creating fake nodes failed (log: $LOG/nodes.log)"
nodes_ready() { [ "$(kc get nodes -l type=kwok --no-headers 2>/dev/null | grep -c ' Ready ')" -ge "$NODES" ]; }
wait_for kwok 60 nodes_ready

# --- metrics server and Prometheus --------------------------------------------------------------
PROM_URL=""
if [ "${E2E_SKIP_PROMETHEUS:-0}" = 1 ]; then
  say "skipping Prometheus (E2E_SKIP_PROMETHEUS=1)"
else
  say "starting metrics server and Prometheus on http://127.0.0.1:$PROM_PORT"
  if ! command -v prometheus >/dev/null; then
    # Debian's package; its own service must neither start nor hold a port, so a policy-rc.d that
    # forbids service starts is put in place for the install (if the machine has none already).
    if [ "$(id -u)" = 0 ]; then sudo=(); elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else die prometheus "not installed and cannot apt-get install it (not root, no passwordless sudo); install Debian package 'prometheus' or set E2E_SKIP_PROMETHEUS=1"; fi
    command -v apt-get >/dev/null || die prometheus "not installed and apt-get is missing; install prometheus or set E2E_SKIP_PROMETHEUS=1"
    policy_added=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
      "${sudo[@]}" chmod +x /usr/sbin/policy-rc.d
      policy_added=1
    fi
    echo "cluster-up:     installing Debian package prometheus (apt-get, log: $LOG/apt.log)" >&2
    apt_ok=1
    { "${sudo[@]}" apt-get update -q &&
      "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus
    } >"$LOG/apt.log" 2>&1 || apt_ok=0
    [ "$policy_added" = 1 ] && "${sudo[@]}" rm -f /usr/sbin/policy-rc.d
    [ "$apt_ok" = 1 ] || die prometheus "apt-get install prometheus failed (log: $LOG/apt.log)"
    # With systemd, the unit is enabled anyway: keep it off so nothing stray listens on :9090.
    if [ -d /run/systemd/system ]; then "${sudo[@]}" systemctl disable --now prometheus >/dev/null 2>&1 || true; fi
    command -v prometheus >/dev/null || die prometheus "installed but not on PATH (log: $LOG/apt.log)"
  fi
  start metrics-server python3 "$cluster_dir/metrics_server.py" --port "$METRICS_PORT" --dir "$RUN/metrics"
  cat >"$RUN/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
- job_name: e2e
  honor_labels: true   # keep the tests' own labels as written
  static_configs:
  - targets: ['127.0.0.1:$METRICS_PORT']
EOF
  start prometheus prometheus --config.file="$RUN/prometheus.yml" \
    --web.listen-address="127.0.0.1:$PROM_PORT" --storage.tsdb.path="$RUN/prom" \
    --storage.tsdb.retention.time=1d
  PROM_URL="http://127.0.0.1:$PROM_PORT"
  wait_for metrics-server 20 curl -fsS "http://127.0.0.1:$METRICS_PORT/healthz"
  wait_for prometheus 60 curl -fsS "$PROM_URL/-/ready"
  # End-to-end probe: a value written to a file must come back from a PromQL query.
  probe=$RANDOM
  echo "e2e_probe{test=\"cluster-up\"} $probe" >"$RUN/metrics/_probe.prom"
  probe_seen() {
    curl -fsS "$PROM_URL/api/v1/query" --data-urlencode "query=e2e_probe{test=\"cluster-up\"}" |
      grep -q "\"$probe\"\]"
  }
  wait_for prometheus 20 probe_seen
  rm -f "$RUN/metrics/_probe.prom"
fi

# --- outputs ------------------------------------------------------------------------------------
cat >"$RUN/env" <<EOF
# Written by e2e/cluster/up.sh; source it: . $RUN/env
export KUBECONFIG='$RUN/kubeconfig'
export E2E_BIN_DIR='$BIN'
export PROM_URL='$PROM_URL'
export E2E_METRICS_DIR='$RUN/metrics'
export E2E_LOG_DIR='$LOG'
export E2E_RUN_DIR='$RUN'
EOF
check_alive
done_ok=1
say "cluster is up ($NODES kwok nodes${PROM_URL:+, Prometheus at $PROM_URL})"
cat <<EOF
Use it:
  export KUBECONFIG=$RUN/kubeconfig
  export PATH=$BIN:\$PATH      # kubectl (and the other binaries) built by build.sh
  # or: . $RUN/env   (KUBECONFIG, E2E_BIN_DIR, PROM_URL, E2E_METRICS_DIR, E2E_LOG_DIR, E2E_RUN_DIR)
Logs: $LOG    Stop: ${E2E_RUN_DIR:+E2E_RUN_DIR=$RUN }$cluster_dir/down.sh
EOF
