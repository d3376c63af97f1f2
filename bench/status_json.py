#!/usr/bin/env python3
"""The CLI's `emperor status` time with two builds, against a bare JVM in the same run (issue 16 §2).

    BEFORE=/path/to/build-dir AFTER=target python3 bench/status_json.py

A build dir holds emperor.jar, emperor-exec and jni/ (what EMPEROR_BUILD_DIR takes). One emperor
(from AFTER) serves VASSALS vassals (default 20); then RUNS rounds (default 20) each run the
hello-world baseline with the launcher's own JVM flags, `emperor status` with the BEFORE jar and
with the AFTER jar, interleaved so that the machine's load hits all three alike. No class-data
archive (ARCHIVE=0 in weight.py's terms): the class loading that a JSON library adds shows in
full. Prints medians and ratios to the baseline; takes about a minute.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from weight import LAUNCHER, ROOT, baseline_flags, real_java, timed, wait_for, wrapper_home  # noqa: E402

RUNS = int(os.environ.get("RUNS", "20"))
VASSALS = int(os.environ.get("VASSALS", "20"))


def main():
    after = os.path.abspath(os.environ.get("AFTER", os.path.join(ROOT, "target")))
    before = os.environ.get("BEFORE")
    java = real_java()
    tmp = tempfile.mkdtemp(prefix="emperor-status-json-")
    home, record = wrapper_home(tmp, java)
    env = dict(os.environ, JAVA_HOME=home, EMPEROR_ARCHIVE_DIR=os.path.join(tmp, "no-archive"))
    env.pop("NOTIFY_SOCKET", None)
    builds = {"after": after} if not before else {"before": os.path.abspath(before), "after": after}
    envs = {k: dict(env, EMPEROR_BUILD_DIR=d) for k, d in builds.items()}
    subprocess.run([LAUNCHER, "--version"], env=envs["after"], check=True, stdout=subprocess.DEVNULL)
    base = baseline_flags(record)
    with open(os.path.join(tmp, "Hello.java"), "w") as f:
        f.write('public class Hello { public static void main(String[] a) { System.out.println("hello"); } }')
    subprocess.run([os.path.join(os.path.dirname(java), "javac"), "-d", tmp, os.path.join(tmp, "Hello.java")],
                   check=True)
    hello = [java, *base, "-cp", tmp, "Hello"]
    vdir = os.path.join(tmp, "vassals")
    os.mkdir(vdir)
    for i in range(VASSALS):
        with open(os.path.join(vdir, f"v{i}.ini"), "w") as f:
            f.write("[vassal]\nexec = /bin/sleep infinity\nstop-timeout = 2\n")
    sock = os.path.join(tmp, "control.sock")
    log = os.path.join(tmp, "emperor.log")
    emp = subprocess.Popen([LAUNCHER, "run", "--vassals", vdir, "--log", log, "--control", sock], env=envs["after"])
    try:
        wait_for(f"{VASSALS} spawned", lambda: os.path.exists(log) and open(log).read().count(": spawned ") >= VASSALS)
        print(f"baseline: {' '.join(hello)}")
        print(f"builds: {builds}; load: {open('/proc/loadavg').read().strip()}")
        times = {"hello": []} | {k: [] for k in builds}
        for _ in range(RUNS):
            times["hello"].append(timed(hello, env))
            for k in builds:
                times[k].append(timed([LAUNCHER, "status", "--socket", sock], envs[k]))
        h = statistics.median(x for x, _ in times["hello"])
        hc = statistics.median(c for _, c in times["hello"])
        print(f"hello: median {h:.3f} s wall, {hc:.3f} s CPU")
        for k in builds:
            w = statistics.median(x for x, _ in times[k])
            c = statistics.median(c for _, c in times[k])
            print(f"status ({k}): median {w:.3f} s wall (ratio {w / h:.2f}), {c:.3f} s CPU (ratio {c / hc:.2f})")
        print(f"load: {open('/proc/loadavg').read().strip()}")
    finally:
        emp.terminate()
        emp.wait(30)


if __name__ == "__main__":
    sys.exit(main())
