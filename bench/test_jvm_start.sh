#!/usr/bin/env bash
# bench/test_jvm_start.sh: what a test emperor's start costs (docs/performance.md, "The test suite's
# emperors"). Every *IT starts an emperor (`java ... io.emperor.cli.Main run`, EmperorProcess) and
# waits for its `ready:` line: that wall time, for three JVM commands, interleaved, ROUNDS times each:
#   old      the tests' command before: the JVM's defaults (G1, C2), the build's class directories
#   flags    the packaged launcher's flags (serial GC, C1 only, 256 KiB stacks, 8-64 MiB heap, no perf data)
#   archive  the same flags, the classes as jars, a class-data archive trained once (EmperorJvm)
# Prints each mean, and old/archive and flags/archive, with `uptime` before and after.
# HOGS=2 runs two `yes >/dev/null` beside it (the CI budget's condition). Needs `mvn package` first.
# Usage: bench/test_jvm_start.sh [ROUNDS]   (default 5; about 30 s idle, a minute with HOGS=2)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
T=$PWD/target
[ -d "$T/classes" ] && [ -x "$T/emperor-exec" ] || { echo "build first: mvn -B -q package -DskipTests" >&2; exit 1; }
work=$(mktemp -d)
hogs=()
cleanup() {
    for h in "${hogs[@]}"; do kill "$h" 2>/dev/null || true; done
    rm -rf "$work" "$T"/bench-start-*.jar
}
trap cleanup EXIT

mvn -B -q -o dependency:build-classpath -Dmdep.outputFile="$work/cp.txt" >/dev/null 2>&1 \
    || mvn -B -q dependency:build-classpath -Dmdep.outputFile="$work/cp.txt" >/dev/null
deps=$(cat "$work/cp.txt")
dirs_cp=$T/test-classes:$T/classes:$deps
# Jars beside target/classes, where the emperor finds its helper as it does next to the directory.
(cd "$T/classes" && jar cf "$T/bench-start-classes.jar" .)
(cd "$T/test-classes" && jar cf "$T/bench-start-test-classes.jar" .)
jars_cp=$T/bench-start-test-classes.jar:$T/bench-start-classes.jar:$deps
base=(--enable-native-access=ALL-UNNAMED -XX:+ExitOnOutOfMemoryError)
flags=(-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss256k -Xms8m -Xmx64m -XX:-UsePerfData)
mkdir "$work/v"
printf '[emperor]\nvassals = %s\n' "$work/v" >"$work/e.ini"

# start_ms CP JVM-OPTIONS...: ms from exec to the emperor's `ready:` line (then SIGTERM, wait)
start_ms() {
    local cp=$1; shift
    rm -f "$work/log"
    local t0 t1
    t0=$(date +%s%N)
    java "${base[@]}" "$@" -cp "$cp" io.emperor.cli.Main run --config "$work/e.ini" \
        --control "$work/c.sock" --log "$work/log" >"$work/out" 2>&1 &
    local pid=$!
    until grep -q '\] ready: ' "$work/log" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || { cat "$work/out" >&2; exit 1; }
        sleep 0.005
    done
    t1=$(date +%s%N)
    kill -TERM "$pid"
    wait "$pid" || true
    echo $(((t1 - t0) / 1000000))
}

for _ in $(seq "${HOGS:-0}"); do yes >/dev/null & hogs+=($!); done
echo "before: $(uptime)"
# The archive, trained as EmperorJvm does (a run to ready, then SIGTERM: the JVM writes it at exit).
start_ms "$jars_cp" "${flags[@]}" -XX:ArchiveClassesAtExit="$work/run.jsa" >/dev/null
[ -s "$work/run.jsa" ] || { echo "no archive written" >&2; exit 1; }
archive=(-XX:SharedArchiveFile="$work/run.jsa" -Xlog:cds*=off)

old=0 fl=0 ar=0
for r in $(seq "$ROUNDS"); do
    a=$(start_ms "$dirs_cp")
    b=$(start_ms "$dirs_cp" "${flags[@]}")
    c=$(start_ms "$jars_cp" "${flags[@]}" "${archive[@]}")
    echo "round $r: old $a ms, flags $b ms, archive $c ms"
    old=$((old + a)) fl=$((fl + b)) ar=$((ar + c))
done
echo "after: $(uptime)"
python3 - "$old" "$fl" "$ar" "$ROUNDS" <<'EOF'
import sys
old, fl, ar, n = (int(x) for x in sys.argv[1:])
print(f"mean start to ready: old {old/n:.0f} ms, flags {fl/n:.0f} ms, archive {ar/n:.0f} ms;"
      f" old/archive {old/ar:.2f}x, flags/archive {fl/ar:.2f}x, old/flags {old/fl:.2f}x")
EOF
