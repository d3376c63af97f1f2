#!/usr/bin/env bash
# Reproduces docs/performance.md: our emperor and the uWSGI Emperor through the same harness
# (../shared/bench/emperor_bench.py), one after the other on the same machine. Run as root (the
# harness then records exec times through the kernel's proc connector). About 12 minutes.
# Needs: mvn package done; uwsgi-core installed (apt-get install -y uwsgi-core).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
harness=${HARNESS:-$here/../../shared/bench/emperor_bench.py}
out=${OUT:-/tmp/emperor-bench}
mkdir -p "$out"
# A copy of the build, so that rebuilding during the run cannot change what is measured.
cp "$here/../target/emperor.jar" "$here/../target/emperor-exec" "$here/../target/libemperor-signal.so" "$out/"
cp "$here/hup_vassal.py" "$out/"
sed "s|HUP_VASSAL|$out/hup_vassal.py|" "$here/hup-vassal.ini" > "$out/hup-vassal.ini"
E="java -jar $out/emperor.jar run --config $here/bench.ini --vassals {dir}"
SMALL="java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss256k -Xmx64m -XX:-UsePerfData -jar $out/emperor.jar run --config $here/bench.ini --vassals {dir}"

if [ "${1:-}" = uwsgi-vassals ]; then
  python3 "$harness" --emperor "$E" --label emperor-java --vassal python,trivial \
      --scenarios spawn,burst,reload,respawn,remove,idle,shutdown --jitter 0.5 --out "$out/emperor-uwsgi-vassals.json"
  python3 "$harness" --emperor 'uwsgi --emperor {dir}' --label uwsgi-2.0.21-freq3 --vassal python,trivial \
      --scenarios spawn,burst,reload,respawn,remove,idle,shutdown --jitter 3.0 --out "$out/uwsgi-uwsgi-vassals.json"
  python3 "$harness" report "$out/uwsgi-uwsgi-vassals.json" "$out/emperor-uwsgi-vassals.json"
  exit 0
fi
python3 "$harness" --emperor "$E" --label emperor-java --vassal-template "$out/hup-vassal.ini" \
    --check http --direct "{python} $out/hup_vassal.py {name} {marker} {port}" \
    --scenarios baseline,spawn,reload,respawn,remove,idle --jitter 0.5 --out "$out/emperor.json"
python3 "$harness" --emperor "$SMALL" --label emperor-java-small --vassal-template "$out/hup-vassal.ini" \
    --check http --scenarios idle --out "$out/emperor-small.json"
python3 "$harness" --emperor 'uwsgi --emperor {dir}' --label uwsgi-2.0.21-freq3 --vassal trivial \
    --scenarios spawn,reload,respawn,remove,idle --jitter 3.0 --out "$out/uwsgi.json"
python3 "$harness" report "$out/uwsgi.json" "$out/emperor.json" "$out/emperor-small.json"
