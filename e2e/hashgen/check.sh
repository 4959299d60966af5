#!/usr/bin/env bash
# Regenerates the golden hash vectors and the Go type table from e2e/hashgen and compares them
# with the committed src/replicaset/testdata/hash_vectors.json and src/replicaset/gotypes.rs.
#
#   e2e/hashgen/check.sh           exit 1 on drift
#   e2e/hashgen/check.sh -update   write the regenerated files into the source tree
set -euo pipefail
export GOTOOLCHAIN=local GOFLAGS=-mod=readonly
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
vectors=src/replicaset/testdata/hash_vectors.json
gotypes=src/replicaset/gotypes.rs

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "hashgen: building (first build compiles k8s.io/api and argo-rollouts; be patient)" >&2
(cd "$here" && go build -o "$tmp/hashgen" .)
"$tmp/hashgen" -cases "$here/cases.json" -vectors "$tmp/hash_vectors.json" -gotypes "$tmp/gotypes.rs"

if [[ "${1:-}" == "-update" ]]; then
  mkdir -p "$root/$(dirname "$vectors")"
  cp "$tmp/hash_vectors.json" "$root/$vectors"
  cp "$tmp/gotypes.rs" "$root/$gotypes"
  echo "hashgen: wrote $vectors and $gotypes" >&2
  exit 0
fi

drift=0
for pair in "hash_vectors.json:$vectors" "gotypes.rs:$gotypes"; do
  gen=${pair%%:*} committed=${pair#*:}
  if ! diff -u "$root/$committed" "$tmp/$gen" >"$tmp/$gen.diff" 2>&1; then
    echo "hashgen: DRIFT: $committed differs from what e2e/hashgen generates:" >&2
    head -n 40 "$tmp/$gen.diff" >&2
    drift=1
  fi
done
if [[ $drift -ne 0 ]]; then
  echo "hashgen: regenerate with e2e/hashgen/check.sh -update and review the diff" >&2
  exit 1
fi
echo "hashgen: $vectors and $gotypes are up to date" >&2
