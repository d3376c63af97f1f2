#!/usr/bin/env python3
"""bench/live_heap.py [VASSALS]: the emperor's live heap (docs/threads.md, "Memory").

Starts the emperor with the packaged launcher's JVM flags, first with no vassal, then with
VASSALS (default 100) vassals running `/bin/sleep 3600`; in each state runs a full GC
(`jcmd PID GC.run`) and reads the used heap (`jcmd PID GC.heap_info`). The baseline, measured
in the same run with the same java and flags, is a JVM that only sleeps (the smallest live heap
a JVM has). Prints both, and the emperor's per-vassal cost. Run from the repository root after
`mvn -B -q package -DskipTests` (BUILD_DIR=DIR selects another build directory).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("BUILD_DIR", "target")
FLAGS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss256k -Xmx64m -XX:-UsePerfData -XX:+StartAttachListener".split()
N = int(sys.argv[1]) if len(sys.argv) > 1 else 100


def used_kib(pid):
    """Heap used after a full GC, in KiB, summed over the generations jcmd lists."""
    subprocess.run(["jcmd", str(pid), "GC.run"], check=True, capture_output=True)
    out = subprocess.run(["jcmd", str(pid), "GC.heap_info"], check=True, capture_output=True, text=True).stdout
    used = [int(m) for m in re.findall(r"used (\d+)K", out)]
    # "def new generation" and "tenured generation" lines (SerialGC); Metaspace lines are not heap.
    heap = [int(m.group(1)) for m in re.finditer(r"generation\s+total \d+K, used (\d+)K", out)]
    return sum(heap) if heap else sum(used[:2])


def wait_for(what, cond, timeout=120):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.2)
    raise SystemExit(f"{what}: not within {timeout} s")


def main():
    if shutil.which("jcmd") is None:
        raise SystemExit("jcmd is needed (a JDK's bin/)")
    tmp = tempfile.mkdtemp(prefix="emperor-heap-")
    # Baseline: a JVM that only sleeps, same flags.
    src = os.path.join(tmp, "Sleep.java")
    with open(src, "w") as f:
        f.write("public class Sleep { public static void main(String[] a) throws Exception { Thread.sleep(600000); } }")
    base = subprocess.Popen(["java", *FLAGS, src])
    try:
        time.sleep(3)  # the source launcher compiles first; then it sleeps
        base_kib = used_kib(base.pid)
    finally:
        base.kill()
        base.wait()
    vdir = os.path.join(tmp, "vassals")
    os.mkdir(vdir)
    log = os.path.join(tmp, "emperor.log")
    emp = subprocess.Popen(["java", *FLAGS, "--enable-native-access=ALL-UNNAMED",
                            f"-Demperor.helper={BUILD}/emperor-exec", "-jar", f"{BUILD}/emperor.jar", "run",
                            "--vassals", vdir, "--control", os.path.join(tmp, "c.sock"), "--log", log])
    try:
        wait_for("ready", lambda: os.path.exists(log) and "[emperor] ready: " in open(log).read())
        empty_kib = used_kib(emp.pid)
        for i in range(N):
            stage = os.path.join(tmp, f"v{i}.ini")
            with open(stage, "w") as f:
                f.write("[vassal]\nexec = /bin/sleep 3600\nstop-timeout = 2\n")
            os.rename(stage, os.path.join(vdir, f"v{i}.ini"))
        wait_for(f"{N} spawned", lambda: len(re.findall(r"\] v\d+: spawned ", open(log).read())) >= N)
        time.sleep(2)
        full_kib = used_kib(emp.pid)
    finally:
        emp.terminate()
        emp.wait(60)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"baseline (a sleeping JVM, same flags): {base_kib / 1024:.1f} MiB live heap")
    print(f"emperor, no vassal: {empty_kib / 1024:.1f} MiB ({empty_kib / base_kib:.1f}x the baseline)")
    print(f"emperor, {N} vassals: {full_kib / 1024:.1f} MiB ({full_kib / base_kib:.1f}x the baseline), "
          f"{(full_kib - empty_kib) / N:.1f} KiB a vassal")


if __name__ == "__main__":
    main()
