#!/usr/bin/env bash
# Runs the test suite on a busy machine: `mvn -B verify` (or the mvn arguments given, e.g.
# `-B -q test -Dtest=VassalLifecycleIT`) with two CPU hogs beside it, `stress-ng --cpu 2` when
# installed, else two `yes >/dev/null`. The tests must hold this way: they wait for the conditions
# they mean, never for a guessed time. The hogs are killed on exit, however the run ends.
# Not part of .ci/run (it doubles the time a run takes).
set -euo pipefail
cd "$(dirname "$0")/.."

hogs=()
stop_hogs() {
  for pid in "${hogs[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${hogs[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}
trap stop_hogs EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if command -v stress-ng >/dev/null 2>&1; then
  stress-ng --cpu 2 --quiet &
  hogs+=($!)
  echo "busy-verify: stress-ng --cpu 2 (pid ${hogs[*]})" >&2
else
  for _ in 1 2; do
    yes >/dev/null &
    hogs+=($!)
  done
  echo "busy-verify: two 'yes >/dev/null' (pids ${hogs[*]})" >&2
fi

if [ $# -eq 0 ]; then
  set -- -B verify
fi
mvn "$@"
