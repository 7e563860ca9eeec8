#!/usr/bin/env bash
# `make molecule`: run the Molecule scenarios given as arguments in two lanes at once (this 2-core machine spends
# most of a scenario waiting on containers, downloads and devpi). Each lane runs its scenarios one after another
# with a HOME of its own, so each has its own copy of the collection (Molecule installs it into ~/.ansible) and its
# own Molecule and ansible-compat caches; container and network names differ between scenarios. A scenario's
# output is printed whole when it ends, its time appended to the timings file. A lane stops at its first failure;
# the exit status is that of the lanes together.
#
# Usage: tests/harness/molecule-lanes.sh TIMINGS_FILE SCENARIO...   (MOLECULE_LANES=1 runs them one by one)
set -euo pipefail
timings=$1
shift
root=$(cd "$(dirname "$0")/../.." && pwd)
lanes=${MOLECULE_LANES:-2}
work="$root/.cache/molecule-lanes"
rm -rf "$work" && mkdir -p "$work"

# Longest first, dealt round-robin: the lanes end at about the same time. Unknown scenarios count as long.
order=$(for s in "$@"; do
  case "$s" in
    devpi_client/default | stack/default) weight=9 ;;
    devpi_seed/default) weight=8 ;;
    devpi_server/upgrade | devpi_server/trixie | devpi_caddy/elsewhere) weight=6 ;;
    devpi_server/launchd | devpi_server/default) weight=4 ;;
    *) weight=10 ;;
  esac
  echo "$weight $s"
done | sort -rn | awk '{print $2}')

run_lane() {
  local lane=$1
  shift
  local home="$work/home-$lane"
  mkdir -p "$home"
  for scenario in "$@"; do
    local log start=$SECONDS rc=0
    log="$work/${scenario//\//-}.log"
    HOME="$home" molecule test -s "$scenario" >"$log" 2>&1 || rc=$?
    {
      echo "=== molecule test -s $scenario (lane $lane): rc=$rc after $((SECONDS - start)) s"
      cat "$log"
    } | flock "$work/print.lock" cat
    [ "$rc" -eq 0 ] || return "$rc"
    printf '%6ss  %s\n' "$((SECONDS - start))" "molecule $scenario" >>"$timings"
  done
}

pids=()
for ((lane = 0; lane < lanes; lane++)); do
  mapfile -t mine < <(echo "$order" | awk -v n="$lanes" -v l="$lane" 'NF && (NR - 1) % n == l')
  [ "${#mine[@]}" -gt 0 ] || continue
  run_lane "$lane" "${mine[@]}" &
  pids+=("$!")
done
status=0
for pid in "${pids[@]}"; do
  wait "$pid" || status=1
done
exit "$status"
