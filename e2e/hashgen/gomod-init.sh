#!/usr/bin/env bash
# Regenerates go.mod for e2e/hashgen from scratch (run once; go.mod/go.sum are committed).
# k8s.io/kubernetes requires every staging module at v0.0.0 and points them at ./staging with
# `replace` directives, which Go ignores in dependencies; repeat them here at v0.34.1
# (k8s v1.34.1 is what argo-rollouts v1.9.1 builds with).
set -euo pipefail
export GOTOOLCHAIN=local
cd "$(dirname "$0")"
K8S=1.34.1
rm -f go.mod go.sum
go mod init example.invalid/e2e/hashgen
go mod edit -go=1.24.0
GOMOD=$(go list -m -json "k8s.io/kubernetes@v$K8S" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
for m in $(sed -n 's|^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging/.*|\1|p' "$GOMOD"); do
  go mod edit -replace="$m=$m@v0.${K8S#1.}"
done
go mod edit -require=github.com/argoproj/argo-rollouts@v1.9.1 \
  -require=k8s.io/api@v0.${K8S#1.} -require=k8s.io/apimachinery@v0.${K8S#1.}
go mod tidy
