#!/usr/bin/env bash
# Smoke test of a running e2e cluster (after up.sh): nodes, a Deployment, the kwok readiness
# controls, a succeeding and a failing Job, and a metric round trip through Prometheus.
# Uses its own namespace and removes it again. Exit 0 = all checks passed.
set -euo pipefail
. "$(dirname "$0")/common.sh"
[ -f "$RUN/env" ] || { echo "smoke: no cluster at $RUN (run up.sh first)" >&2; exit 1; }
# shellcheck source=/dev/null
. "$RUN/env"
k() { "$E2E_BIN_DIR/kubectl" "$@"; }
ns=smoke-$$
pass=0 fail=0
check() { # check DESCRIPTION CMD...
  if "${@:2}" >/dev/null 2>&1; then echo "ok   $1"; pass=$((pass + 1)); else echo "FAIL $1"; fail=$((fail + 1)); fi
}
cleanup() { k delete ns "$ns" --wait=false >/dev/null 2>&1 || true; rm -f "$E2E_METRICS_DIR/$ns.prom"; }
trap cleanup EXIT

check "nodes Ready" k wait --for=condition=Ready node -l type=kwok --timeout=30s
k create ns "$ns" >/dev/null
k apply -n "$ns" -f - >/dev/null <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: example.invalid/web:1}]}
---
apiVersion: v1
kind: Pod
metadata: {name: never, labels: {e2e.argoproj.io/never-ready: "true"}}
spec: {containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: slow, annotations: {e2e.argoproj.io/ready-after: "6s"}}
spec: {containers: [{name: c, image: x}]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: ok}
spec:
  backoffLimit: 0
  template:
    spec: {restartPolicy: Never, containers: [{name: c, image: x}]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: bad}
spec:
  backoffLimit: 0
  template:
    metadata: {labels: {e2e.argoproj.io/fail: "true"}}
    spec: {restartPolicy: Never, containers: [{name: c, image: x}]}
EOF
ready() { k get pod -n "$ns" "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}'; }
check "deployment 3/3 available" k wait -n "$ns" --for=jsonpath='{.status.availableReplicas}'=3 deploy/web --timeout=30s
check "never-ready pod is Running" k wait -n "$ns" --for=jsonpath='{.status.phase}'=Running pod/never --timeout=30s
check "ready-after pod not Ready yet" test "$(ready slow)" != True
check "ready-after pod Ready later" k wait -n "$ns" --for=condition=Ready pod/slow --timeout=30s
check "never-ready pod still not Ready" test "$(ready never)" = False
check "job completes" k wait -n "$ns" --for=condition=Complete job/ok --timeout=30s
check "job with fail label fails" k wait -n "$ns" --for=condition=Failed job/bad --timeout=30s
k scale -n "$ns" deploy/web --replicas=1 >/dev/null
check "scale-down finishes" k wait -n "$ns" --for=jsonpath='{.status.replicas}'=1 deploy/web --timeout=30s

if [ -n "${PROM_URL:-}" ]; then
  echo "smoke_value{test=\"$ns\"} 0.02" >"$E2E_METRICS_DIR/$ns.prom"
  metric_seen() { # within 10 s
    local i
    for ((i = 0; i < 50; i++)); do
      curl -fsS "$PROM_URL/api/v1/query" --data-urlencode "query=smoke_value{test=\"$ns\"}" | grep -q '"0.02"' && return 0
      sleep 0.2
    done
    return 1
  }
  check "metric visible in Prometheus" metric_seen
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
