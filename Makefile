# The project's commands. `make test` is what CI runs (.ci/run); `make demo` is the newcomer's tour.
SHELL := /bin/bash
export CARGO_TARGET_DIR ?= $(HOME)/.cache/rollouts-target
export GOTOOLCHAIN := local
CARGO ?= cargo

.PHONY: test check unit e2e generate crds cluster-build cluster-up cluster-down demo bench bench-planner bench-scale hash-vectors

## Everything CI runs: formatting, lints, unit tests, then the end-to-end suite on a local control plane.
test: check unit e2e

check:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

unit:
	$(CARGO) test --workspace --exclude e2e --locked

## Starts the local control plane, runs e2e/tests against it with the real binaries, always tears it down.
e2e:
	bash e2e/run.sh

## Regenerates crds/ from the Rust types, and the install bundles that include them.
generate crds:
	$(CARGO) run --locked --quiet --bin crdgen -- crds
	bash deploy/generate.sh

## Re-derives the hash golden vectors with the Go program (needs the Go module proxy).
hash-vectors:
	bash e2e/hashgen/check.sh

## Benchmarks: criterion for the hot pure code, then the scale benchmark on a local control plane.
bench: bench-planner bench-scale

## Criterion: planning a reconcile, hashing a pod template, assessing an AnalysisRun (a few minutes).
bench-planner:
	$(CARGO) bench --locked --bench planner --bench analysis

## N canary rollouts updated at once against the real controller and control plane (e2e/bench/;
## BENCH_SIZES="100 1000", BENCH_STEADY_SECS=300; about 25 minutes on 2 cores; JSON in .cache/bench/).
bench-scale:
	bash e2e/bench/run.sh

cluster-build:
	bash e2e/cluster/build.sh >/dev/null

cluster-up:
	bash e2e/cluster/up.sh

cluster-down:
	bash e2e/cluster/down.sh

## The newcomer's tour: local cluster, controller, a canary rollout step by step (leaves it running).
demo:
	bash e2e/demo.sh
