#!/usr/bin/env python3
"""bench/weight.py: the emperor's weight under the packaged launcher (docs/performance.md, "Weight").

Runs packaging/emperor (the /usr/bin/emperor of the .deb; with EMPEROR_BUILD_DIR it runs the
build's jar and helper) and measures, each against a baseline with the same java
and the same JVM flags, in the same run:

  1. start -> READY=1 (the sd_notify datagram, on a NOTIFY_SOCKET this script binds) on an empty
     vassal directory, against a hello-world's start to exit; medians of RUNS runs, interleaved.
  2. 100 idle vassals (`sleep infinity`), from 15 s after the last spawn: the emperor's RSS, context switches per second (every
     thread of /proc/PID/task, voluntary + nonvoluntary) and CPU (utime + stime of /proc/PID/stat)
     over IDLE seconds, against a JVM that only sleeps, measured side by side over the same window.
  3. `emperor status` against that emperor, start to exit, against the hello-world: with --socket,
     and with --config of an emperor.ini that names the socket (as a plain `emperor status` reads
     /etc/emperor/emperor.ini on an installed system).
Start-up figures are given as wall time and as CPU time (user + system of the process: for the
emperor until READY=1, from /proc/PID/stat), which a loaded machine disturbs far less.

Idle CPU is the sum of every thread's run time in /proc/PID/task/*/schedstat (nanoseconds; the
10 ms ticks of /proc/PID/stat are too coarse for a few milliseconds), with the threads that ran
listed.

The java and flags are the launcher's own: this script first points JAVA_HOME at a wrapper that
records the arguments the launcher passes (once, for `--version`), then measures with JAVA_HOME
the real java's home. The baseline gets the same flags minus the emperor's own (-D..., the
class-data archive's, --enable-native-access).

The class-data archives are built first, as the package's postinst builds them: the same command,
packaging/emperor-archive (/usr/lib/emperor/emperor-archive), through the same launcher and
wrapper, into a temporary EMPEROR_ARCHIVE_DIR; ARCHIVE=0 measures without them.

Usage, from the repository root, after `mvn -B -q package -DskipTests`:
    EMPEROR_BUILD_DIR=$PWD/target python3 bench/weight.py   # IDLE=60 s, RUNS=7 (about 110 s in all)
    IDLE=30 RUNS=5 VASSALS=100 python3 bench/weight.py
    STATUS_ONLY=1 RUNS=15 python3 bench/weight.py   # only `emperor status` against the hello-world (~20 s)
    JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 python3 bench/weight.py   # another java
EMPEROR_BUILD_DIR (absolute; default: the repository's target/) selects the build the launcher runs;
JAVA_HOME another java.
"""
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAUNCHER = os.environ.get("EMPEROR_LAUNCHER", os.path.join(ROOT, "packaging", "emperor"))
IDLE = float(os.environ.get("IDLE", "60"))
STATUS_ONLY = os.environ.get("STATUS_ONLY", "") not in ("", "0")
RUNS = int(os.environ.get("RUNS", "7"))
VASSALS = int(os.environ.get("VASSALS", "100"))
TICK = os.sysconf("SC_CLK_TCK")


def real_java():
    home = os.environ.get("JAVA_HOME")
    if home and os.access(os.path.join(home, "bin", "java"), os.X_OK):
        return os.path.realpath(os.path.join(home, "bin", "java"))
    return os.path.realpath(shutil.which("java"))


def wrapper_home(tmp, java):
    """A JAVA_HOME whose bin/java records its arguments (NUL-separated) and execs the real one."""
    home = os.path.join(tmp, "jh")
    os.makedirs(os.path.join(home, "bin"))
    shutil.copy(os.path.join(os.path.dirname(os.path.dirname(java)), "release"), home)
    record = os.path.join(tmp, "java-args")
    with open(os.path.join(home, "bin", "java"), "w") as f:
        f.write(f'#!/bin/sh\nprintf "%s\\0" "$@" > {record}\nexec {java} "$@"\n')
    os.chmod(os.path.join(home, "bin", "java"), 0o755)
    return home, record


def baseline_flags(record):
    args = open(record).read().split("\0")[:-1]
    # `run` is -jar JAR, a client command -cp JAR io.emperor.cli.Main (packaging/emperor)
    flags = args[:args.index("-jar") if "-jar" in args else args.index("-cp")]
    return [a for a in flags if not a.startswith(("-D", "-XX:SharedArchiveFile", "-XX:AOTCache", "-Xlog:cds", "-Xlog:aot",
                                                  "--enable-native-access"))]


def schedstat_ns(pid):
    """Run time of every thread of pid (thread name -> ns, summed by name), from schedstat."""
    times = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                ns = int(f.read().split()[0])
        except FileNotFoundError:
            continue
        name = f"{stat[stat.index('(') + 1:stat.rindex(')')]}/{tid}"
        times[name] = ns
    return times


def ctxt(pid):
    """Voluntary + nonvoluntary context switches of every thread of pid, by thread id."""
    counts = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                counts[tid] = sum(int(line.split()[1]) for line in f
                                  if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")))
        except FileNotFoundError:
            pass
    return counts


def switches(before, after):
    """Context switches between two ctxt() snapshots: a thread that ended meanwhile loses its last ones."""
    return sum(n - before.get(tid, 0) for tid, n in after.items())


def cpu_ms(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / TICK


def status_kib(pid, key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def threads(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def wait_for(what, cond, timeout=60):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise SystemExit(f"{what}: not within {timeout} s")


def timed(cmd, env):
    """(wall seconds, CPU seconds: user + system of the process and what it waited for) of cmd."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return time.monotonic() - t0, usage.ru_utime + usage.ru_stime


def start_to_ready(tmp, env):
    """(wall, CPU) seconds from the launcher's exec to READY=1 on an empty directory."""
    vdir = os.path.join(tmp, "empty")
    os.makedirs(vdir, exist_ok=True)
    path = os.path.join(tmp, "notify")
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(60)
    e = dict(env, NOTIFY_SOCKET=path)
    t0 = time.monotonic()
    p = subprocess.Popen([LAUNCHER, "run", "--vassals", vdir, "--log", os.path.join(tmp, "ready.log"),
                          "--control", ""], env=e)
    try:
        while True:
            msg = s.recv(4096).decode()
            if "READY=1" in msg.split("\n"):
                return time.monotonic() - t0, cpu_ms(p.pid) / 1000
    finally:
        s.close()
        p.terminate()
        p.wait(30)


def ratio(name, value, base, unit, fmt="{:.3f}"):
    r = value / base if base else float("inf")
    print(f"{name}: {fmt.format(value)} {unit}; baseline {fmt.format(base)} {unit}; ratio {r:.2f}")


def status_figure(sock, env, hello):
    """`emperor status` through the launcher against the hello-world, interleaved, medians of RUNS:
    with --socket, and as a plain `emperor status` finds its socket on an installed system, from
    the control key of an emperor.ini (the package's /etc/emperor/emperor.ini, with control set)."""
    ini = os.path.join(os.path.dirname(sock), "status-emperor.ini")
    with open(ini, "w") as f:
        f.write(f"[emperor]\nvassals = /etc/emperor/vassals\ntyrant = true\nlog = /var/log/emperor/emperor.log\n"
                f"control = {sock}\n")
    cli, conf, bare = [], [], []
    for _ in range(RUNS):
        bare.append(timed(hello, env))
        cli.append(timed([LAUNCHER, "status", "--socket", sock], env))
        conf.append(timed([LAUNCHER, "status", "--config", ini], env))
    print(f"status runs: {' '.join(f'{x:.3f}' for x, _ in cli)}; with --config: {' '.join(f'{x:.3f}' for x, _ in conf)}; "
          f"hello: {' '.join(f'{x:.3f}' for x, _ in bare)}")
    ratio(f"emperor status ({VASSALS} vassals, median)", statistics.median(x for x, _ in cli),
          statistics.median(x for x, _ in bare), "s")
    ratio(f"emperor status ({VASSALS} vassals), CPU (median)", statistics.median(c for _, c in cli),
          statistics.median(c for _, c in bare), "s")
    ratio(f"emperor status --config emperor.ini ({VASSALS} vassals, median)", statistics.median(x for x, _ in conf),
          statistics.median(x for x, _ in bare), "s")
    ratio(f"emperor status --config emperor.ini ({VASSALS} vassals), CPU (median)",
          statistics.median(c for _, c in conf), statistics.median(c for _, c in bare), "s")


def main():
    java = real_java()
    tmp = tempfile.mkdtemp(prefix="emperor-weight-")
    home, record = wrapper_home(tmp, java)
    env = dict(os.environ, JAVA_HOME=home)
    env.setdefault("EMPEROR_BUILD_DIR", os.path.join(ROOT, "target"))
    env.pop("NOTIFY_SOCKET", None)
    env.pop("EMPEROR_CONTROL", None)
    # The launcher's flags, recorded once through the wrapper (a client command; `run` gets the
    # same ones). Everything measured then runs the real java: the wrapper, a shell that records
    # and execs, would be charged to the emperor and not to the hello-world.
    env["EMPEROR_ARCHIVE_DIR"] = os.path.join(tmp, "no-archive")
    subprocess.run([LAUNCHER, "--version"], env=env, check=True, stdout=subprocess.DEVNULL)
    base = baseline_flags(record)
    env["JAVA_HOME"] = os.path.dirname(os.path.dirname(java))
    if os.environ.get("ARCHIVE", "1") != "0":
        env["EMPEROR_ARCHIVE_DIR"] = os.path.join(tmp, "archive")
        archive = [os.environ.get("EMPEROR_ARCHIVE_SCRIPT", os.path.join(os.path.dirname(LAUNCHER), "emperor-archive"))]
        t0 = time.monotonic()
        subprocess.run(archive, env=env, check=True)
        print(f"archives: {' '.join(archive)} (as postinst), {time.monotonic() - t0:.1f} s: "
              + " ".join(sorted(os.listdir(env["EMPEROR_ARCHIVE_DIR"]))))
    else:
        print("archives: none (ARCHIVE=0)")
    with open(os.path.join(tmp, "Hello.java"), "w") as f:
        f.write('public class Hello { public static void main(String[] a) throws Exception {'
                ' if (a.length > 0) Thread.sleep(Long.parseLong(a[0])); else System.out.println("hello"); } }')
    subprocess.run([os.path.join(os.path.dirname(java), "javac"), "-d", tmp, os.path.join(tmp, "Hello.java")],
                   check=True)
    hello = [java, *base, "-cp", tmp, "Hello"]
    print(f"java: {java}")
    print(f"launcher's command (recorded without archives): {' '.join(open(record).read().split(chr(0))[:-1])}")
    print(f"baseline: {' '.join(hello)}")
    print(f"load: {open('/proc/loadavg').read().strip()}")

    # 1. start -> READY=1, interleaved with the hello-world. Wall time, and CPU time (user +
    # system), which a loaded machine disturbs far less.
    if not STATUS_ONLY:
        ready, bare = [], []
        for _ in range(RUNS):
            bare.append(timed(hello, env))
            ready.append(start_to_ready(tmp, env))
        print(f"start -> READY=1 runs: {' '.join(f'{x:.3f}' for x, _ in ready)}; "
              f"hello: {' '.join(f'{x:.3f}' for x, _ in bare)}")
        ratio("start -> READY=1 (median)", statistics.median(x for x, _ in ready),
              statistics.median(x for x, _ in bare), "s")
        ratio("start -> READY=1, CPU (median)", statistics.median(c for _, c in ready),
              statistics.median(c for _, c in bare), "s")

    # 2. 100 idle vassals, and a sleeping JVM beside them.
    vdir = os.path.join(tmp, "vassals")
    os.mkdir(vdir)
    sock = os.path.join(tmp, "control.sock")
    log = os.path.join(tmp, "emperor.log")
    emp = subprocess.Popen([LAUNCHER, "run", "--vassals", vdir, "--log", log, "--control", sock], env=env)
    sleeper = subprocess.Popen([java, *base, "-cp", tmp, "Hello", "3600000"], env=env)
    try:
        wait_for("ready", lambda: os.path.exists(log) and "] ready: " in open(log).read())
        for i in range(VASSALS):
            stage = os.path.join(tmp, f"v{i}.ini")
            with open(stage, "w") as f:
                f.write("[vassal]\nexec = /bin/sleep infinity\nstop-timeout = 2\n")
            os.rename(stage, os.path.join(vdir, f"v{i}.ini"))
        wait_for(f"{VASSALS} spawned", lambda: open(log).read().count(": spawned ") >= VASSALS)
        if STATUS_ONLY:
            # Only the client's figure: its first answer warms the emperor's side, as the idle
            # window does in a full run.
            time.sleep(2)
            timed([LAUNCHER, "status", "--socket", sock], env)
            return status_figure(sock, env, hello)
        # Let the start's work settle (compilation, the collections after it, and the one
        # malloc_trim 10 s after the vassal counts last changed, docs/threads.md).
        time.sleep(15)
        e0, s0 = (ctxt(emp.pid), schedstat_ns(emp.pid)), (ctxt(sleeper.pid), schedstat_ns(sleeper.pid))
        time.sleep(IDLE)
        e1, s1 = (ctxt(emp.pid), schedstat_ns(emp.pid)), (ctxt(sleeper.pid), schedstat_ns(sleeper.pid))
        ran = {t: (n - e0[1].get(t, 0)) / 1e6 for t, n in e1[1].items() if n != e0[1].get(t, 0)}
        print("emperor threads that ran (ms): "
              + ", ".join(f"{t} {ms:.2f}" for t, ms in sorted(ran.items(), key=lambda x: -x[1])))
        print(f"idle window: {IDLE:.0f} s, {VASSALS} vassals; load: {open('/proc/loadavg').read().strip()}")
        ratio(f"RSS, {VASSALS} idle vassals", status_kib(emp.pid, "VmRSS") / 1024, status_kib(sleeper.pid, "VmRSS") / 1024,
              "MiB", "{:.1f}")
        ratio("wake-ups (context switches, all threads)", switches(e0[0], e1[0]) / IDLE,
              switches(s0[0], s1[0]) / IDLE, "/s", "{:.2f}")
        ratio("CPU per 30 s idle", sum(ran.values()) * 30 / IDLE,
              sum(n - s0[1].get(t, 0) for t, n in s1[1].items()) / 1e6 * 30 / IDLE, "ms", "{:.1f}")
        print(f"threads: emperor {threads(emp.pid)}, baseline {threads(sleeper.pid)}")

        # 3. the CLI against it.
        status_figure(sock, env, hello)
    finally:
        sleeper.kill()
        emp.terminate()
        emp.wait(60)
        sleeper.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"load: {open('/proc/loadavg').read().strip()}")


if __name__ == "__main__":
    sys.exit(main())
