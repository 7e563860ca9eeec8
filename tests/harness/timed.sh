#!/usr/bin/env bash
# Run a command and append "<seconds>s  <name>" to a timings file; `make test` prints the file at the end, so the
# time budget (45 minutes on a 2-core machine) shows where it goes. A failing command records nothing.
set -euo pipefail
file=$1 name=$2
shift 2
start=$(date +%s)
"$@"
printf '%6ss  %s\n' "$(($(date +%s) - start))" "$name" >>"$file"
