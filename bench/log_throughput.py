#!/usr/bin/env python3
"""bench/log_throughput.py [BYTES]: throughput of vassal output through the emperor (docs/performance.md).

One vassal writes BYTES (default 1 GiB, rounded down to whole lines) of 100-byte lines
(99 'x' and a newline) as fast as `yes | head -c` can; the time runs from the vassal file's
creation until the last line is in the target file. Targets: the emperor's log (tagged lines)
and vassal-logs (DIR/NAME.log, timestamped lines). Baseline: the same `yes | head -c` piped
through `cat` into a file. The emperor runs with the packaged launcher's JVM flags; its CPU
time comes from /proc/PID/stat (utime + stime) before and after.

Run from the repository root after `mvn -DbuildDir=target-log package -Dmaven.test.skip=true`:
    python3 bench/log_throughput.py            # 1 GiB
    python3 bench/log_throughput.py 268435456  # 256 MiB
Environment: BUILD_DIR=DIR uses another Maven build directory (default target-log);
EMPEROR_BENCH_CASE=tagged|vassal-logs runs one case; EMPEROR_BENCH_JAVA_OPTS adds JVM options
(-XX:StartFlightRecording=filename=/tmp/x.jfr,settings=profile to profile); EMPEROR_BENCH_UTF8=1
prints non-ASCII lines. The emperor's CPU is printed as user and system time per GiB.
"""
import os
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("BUILD_DIR", "target-log")
FLAGS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss256k -Xmx64m -XX:-UsePerfData".split()
# e.g. EMPEROR_BENCH_JAVA_OPTS=-XX:StartFlightRecording=filename=/tmp/x.jfr to profile
FLAGS += os.environ.get("EMPEROR_BENCH_JAVA_OPTS", "").split()
# EMPEROR_BENCH_UTF8=1: lines of 49 "é" and an "x" (still 99 bytes and a newline), which take the
# splitter's byte-by-byte UTF-8 path instead of the ASCII fast path.
LINE = "\u00e9" * 49 + "x" if os.environ.get("EMPEROR_BENCH_UTF8") else "x" * 99
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """(user, system) CPU seconds of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK  # utime, stime (fields 14, 15)


def wait_size(path, size, timeout=600):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if os.path.getsize(path) >= size:
                return time.monotonic()
        except FileNotFoundError:
            pass
        time.sleep(0.01)
    raise SystemExit(f"timed out waiting for {path} to reach {size} bytes")


def baseline(work, n):
    out = os.path.join(work, "cat.out")
    t0 = time.monotonic()
    subprocess.run(f"yes {LINE} | head -c {n} | cat > {out}", shell=True, check=True)
    t = time.monotonic() - t0
    os.unlink(out)
    return t


def through_emperor(work, n, vassal_logs):
    root = tempfile.mkdtemp(dir=work)
    vassals = os.path.join(root, "vassals")
    os.mkdir(vassals)
    log = os.path.join(root, "emperor.log")
    ini = os.path.join(root, "emperor.ini")
    with open(ini, "w") as f:
        f.write(f"[emperor]\nvassals = {vassals}\nlog = {log}\n")
        if vassal_logs:
            os.mkdir(os.path.join(root, "logs"))
            f.write(f"vassal-logs = {root}/logs\n")
    cmd = ["java", *FLAGS, "--enable-native-access=ALL-UNNAMED", f"-Demperor.helper={BUILD}/emperor-exec",
           "-jar", f"{BUILD}/emperor.jar", "run", "--config", ini]
    emp = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        while "ready:" not in open(log).read() if os.path.exists(log) else True:
            time.sleep(0.05)
        lines = n // 100
        if vassal_logs:
            target, size = os.path.join(root, "logs", "flood.log"), lines * (25 + 100)
        else:
            target, size = log, os.path.getsize(log) + lines * (25 + len("[flood] ") + 100)
        cpu0 = cpu_seconds(emp.pid)
        t0 = time.monotonic()
        with open(os.path.join(vassals, "flood.ini"), "w") as f:
            f.write(f"[vassal]\nexec = /bin/sh -c 'yes {LINE} | head -c {lines * 100}; exec sleep 3600'\n"
                    "stop-timeout = 1\n")
        t1 = wait_size(target, size)
        cpu1 = cpu_seconds(emp.pid)
        return t1 - t0, cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]
    finally:
        emp.terminate()
        emp.wait(60)
        subprocess.run(["rm", "-rf", root])


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1 << 30
    n -= n % 100
    gib = n / (1 << 30)
    work = tempfile.mkdtemp(prefix="emperor-logbench-")
    try:
        cat = baseline(work, n)
        print(f"bytes={n} ({gib:.3f} GiB) in 100-byte lines")
        print(f"cat into a file:           {cat:6.2f} s  {n / cat / (1 << 20):7.1f} MiB/s")
        cases = (("emperor.log, tagged", False), ("vassal-logs NAME.log", True))
        only = os.environ.get("EMPEROR_BENCH_CASE")  # "tagged" or "vassal-logs": just that one
        for name, vl in cases:
            if only and only != ("vassal-logs" if vl else "tagged"):
                continue
            t, user, system = through_emperor(work, n, vl)
            print(f"{name:26} {t:6.2f} s  {n / t / (1 << 20):7.1f} MiB/s  ratio to cat {cat / t:4.2f}"
                  f"  emperor CPU {(user + system) / gib:5.2f} s/GiB (user {user / gib:4.2f}, system {system / gib:4.2f})")
    finally:
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
