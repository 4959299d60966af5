#!/usr/bin/env bash
# Stops the local e2e control plane started by up.sh and removes its run directory.
# Kills exactly the processes in <run>/pids; safe to run when nothing is running.
set -euo pipefail
. "$(dirname "$0")/common.sh"

if [ ! -e "$RUN" ]; then
  echo "cluster-down: nothing to do ($RUN does not exist)"
  exit 0
fi
stop_run
rm -rf "$RUN"
echo "cluster-down: stopped and removed $RUN"
