#!/usr/bin/env python3
"""bench/ready-variants.py: start -> READY=1 of several builds or JVM options, interleaved in one run
(docs/performance.md, "Weight"), against the hello-world of bench/weight.py with the launcher's flags.

Each VARIANT is BUILD_DIR (an absolute directory holding emperor.jar, emperor-exec and
libemperor-signal.so, as `mvn package` leaves them in target/) or BUILD_DIR@JAVA_OPTS (given to the
launcher as EMPEROR_JAVA_OPTS). Every round starts the hello-world once and then each variant once;
medians of wall and CPU time (the emperor's until READY=1, from /proc/PID/stat).

Usage, from the repository root, after `mvn -B -q package -DskipTests`:
    python3 bench/ready-variants.py 7 /tmp/old-target $PWD/target "$PWD/target@-Djnr.ffi.asm.enabled=false"
"""
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import weight as w  # noqa: E402


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    runs, variants = int(sys.argv[1]), sys.argv[2:]
    java = w.real_java()
    tmp = tempfile.mkdtemp(prefix="emperor-ready-")
    home, record = w.wrapper_home(tmp, java)
    env = dict(os.environ, JAVA_HOME=home, EMPEROR_BUILD_DIR=variants[0].partition("@")[0])
    env.pop("NOTIFY_SOCKET", None)
    env.pop("EMPEROR_JAVA_OPTS", None)
    subprocess.run([w.LAUNCHER, "--version"], env=env, check=True, stdout=subprocess.DEVNULL)
    base = w.baseline_flags(record)
    with open(os.path.join(tmp, "Hello.java"), "w") as f:
        f.write('public class Hello { public static void main(String[] a) { System.out.println("hello"); } }')
    subprocess.run([os.path.join(os.path.dirname(java), "javac"), "-d", tmp, os.path.join(tmp, "Hello.java")],
                   check=True)
    hello = [java, *base, "-cp", tmp, "Hello"]
    print(f"load: {open('/proc/loadavg').read().strip()}")
    results, bare = {v: [] for v in variants}, []
    for _ in range(runs):
        bare.append(w.timed(hello, env))
        for v in variants:
            build, _, opts = v.partition("@")
            results[v].append(w.start_to_ready(tmp, dict(env, EMPEROR_BUILD_DIR=build, EMPEROR_JAVA_OPTS=opts)))
    wall = statistics.median(x for x, _ in bare)
    cpu = statistics.median(c for _, c in bare)
    print(f"hello-world: wall {wall:.3f} s, CPU {cpu:.3f} s")
    for v in variants:
        x = statistics.median(x for x, _ in results[v])
        c = statistics.median(c for _, c in results[v])
        print(f"{v}: wall {x:.3f} s ({x / wall:.2f}x), CPU {c:.3f} s ({c / cpu:.2f}x); runs "
              + " ".join(f"{r:.3f}" for r, _ in results[v]))
    print(f"load: {open('/proc/loadavg').read().strip()}")


if __name__ == "__main__":
    main()
