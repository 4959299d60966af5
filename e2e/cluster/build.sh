#!/usr/bin/env bash
# Builds the real control-plane binaries (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, kwok) from their Go modules. Binaries are cached outside the clone under
# $E2E_CACHE (default $HOME/.cache/rollouts-e2e), keyed by the wrapper modules' go.mod/go.sum, so a
# second run reuses them. Prints the bin directory on the last line of stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
cache=${E2E_CACHE:-$HOME/.cache/rollouts-e2e}

command -v go >/dev/null || { echo "cluster build: 'go' not found on PATH (needed to build the control plane)" >&2; exit 1; }

key=$(cat "$here/build.sh" "$here/k8s/go.mod" "$here/k8s/go.sum" "$here/kwok/go.mod" "$here/kwok/go.sum" | sha256sum | cut -c1-16)
bin="$cache/bin-$key"
want=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok)
ok=1
for b in "${want[@]}"; do [ -x "$bin/$b" ] || ok=0; done
if [ "$ok" = 1 ]; then
  echo "cluster build: cached binaries in $bin" >&2
  echo "$bin"; exit 0
fi

mkdir -p "$bin.tmp"
k8sv=$(cd "$here/k8s" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
minor=$(echo "$k8sv" | cut -d. -f2)
C=k8s.io/component-base/version; G=k8s.io/client-go/pkg/version
LDF="-s -w -X $C.gitVersion=$k8sv -X $C.gitMajor=1 -X $C.gitMinor=$minor -X $C.gitTreeState=clean \
 -X $C.buildDate=1970-01-01T00:00:00Z -X $G.gitVersion=$k8sv -X $G.gitMajor=1 -X $G.gitMinor=$minor"

step() { echo "cluster build: [$(date +%H:%M:%S)] $*" >&2; }
# go build prints nothing while compiling; a heartbeat shows it is alive.
heartbeat() { local start=$SECONDS; while sleep 30; do echo "cluster build: ... still compiling ($((SECONDS-start))s)" >&2; done; }
heartbeat & hb=$!
trap 'kill $hb 2>/dev/null || true' EXIT

step "downloading modules (k8s $k8sv, kwok)"
(cd "$here/k8s" && go mod download)
(cd "$here/kwok" && go mod download)
step "building etcd"
(cd "$here/k8s" && go build -trimpath -ldflags "-s -w" -o "$bin.tmp/etcd" go.etcd.io/etcd/server/v3)
for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  step "building $c $k8sv"
  (cd "$here/k8s" && go build -trimpath -ldflags "$LDF" -o "$bin.tmp/$c" "k8s.io/kubernetes/cmd/$c")
done
step "building kwok"
(cd "$here/kwok" && go build -trimpath -ldflags "-s -w" -o "$bin.tmp/kwok" sigs.k8s.io/kwok/cmd/kwok)
rm -rf "$bin"; mv "$bin.tmp" "$bin"
step "done: $bin"
echo "$bin"
