# shellcheck shell=bash
# Shared by up.sh and down.sh (sourced, not executed).
# Defines the run directory and how to stop exactly the processes a run started.

cluster_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(cd "$cluster_dir/../.." && pwd)
# Absolute path: every component's command line contains it, which is how stop_run checks that a pid
# from the pid file still belongs to this run (and was not reused by an unrelated process).
RUN=$(realpath -m "${E2E_RUN_DIR:-$repo_dir/.cache/cluster}")

# alive PID: true if the process exists and is not a zombie.
alive() {
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}

# ours PID: true if the live process PID has the run dir on its command line.
ours() {
  alive "$1" && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$RUN/"
}

# stop_run: stops every process listed in $RUN/pids (lines "component pid") one by one, newest
# first, so clients go before the apiserver and the apiserver before etcd (an apiserver whose etcd
# is gone hangs in its shutdown). TERM, then KILL after 10 s. Processes not started by this run
# are left alone.
stop_run() {
  local pidfile="$RUN/pids" pid i
  [ -f "$pidfile" ] || return 0
  local -a pids=()
  while read -r _ pid; do
    [[ "$pid" =~ ^[0-9]+$ ]] && ours "$pid" && pids=("$pid" "${pids[@]}")
  done <"$pidfile"
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.2; done
    if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  # Give the reaper a moment so a following `pgrep` does not list <defunct> entries.
  for ((i = 0; i < 20; i++)); do
    local left=0
    for pid in "${pids[@]}"; do [ -e "/proc/$pid" ] && left=1; done
    [ "$left" = 0 ] && break
    sleep 0.1
  done
  rm -f "$pidfile"
}
