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
lanes=${MOLECULE_LANES:-2}  # three were slower here: each scenario took 1.8x as long
work="$root/.cache/molecule-lanes"
rm -rf "$work" && mkdir -p "$work"

# Each scenario goes to the lane with the least work so far, longest first (the seconds are what each took in a
# full two-lane run here, 2026-12-03/04, less the check step trixie, upgrade and seed no longer run; an unknown
# scenario counts as long), so the lanes end at about the same time.
plan=$(for s in "$@"; do
  case "$s" in
    replication/default) seconds=730 ;;  # 836 with the idempotence step it no longer runs
    devpi_client/default) seconds=474 ;;
    devpi_backup/default) seconds=1150 ;;  # with its replica (2026-12-04; 557 before)
    stack/default) seconds=436 ;;
    devpi_server/launchd) seconds=192 ;;
    devpi_seed/default) seconds=280 ;;
    devpi_caddy/elsewhere) seconds=232 ;;
    devpi_server/trixie) seconds=180 ;;
    devpi_server/upgrade) seconds=790 ;;
    devpi_server/default) seconds=162 ;;
    monitoring/default) seconds=372 ;;
    access/default) seconds=500 ;;
    *) seconds=900 ;;
  esac
  echo "$seconds $s"
done | sort -rn | awk -v n="$lanes" '{
  best = 0
  for (l = 1; l < n; l++) if (load[l] < load[best]) best = l
  load[best] += $1
  print best, $2
}')

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
  mapfile -t mine < <(echo "$plan" | awk -v l="$lane" '$1 == l {print $2}')
  [ "${#mine[@]}" -gt 0 ] || continue
  run_lane "$lane" "${mine[@]}" &
  pids+=("$!")
done
status=0
for pid in "${pids[@]}"; do
  wait "$pid" || status=1
done
exit "$status"
