#!/usr/bin/env python3
"""bench/fleet.py: what the fleet costs (docs/performance.md, "The fleet"; docs/fleet.md, "Cost").

Starts its own etcd (Debian's etcd-server) on loopback ports in a temporary directory, then two
emperors from the build (java -jar target/emperor.jar, the same java and flags), side by side, each
with the same VASSALS idle vassals (`sleep`) in its own directory:

  A. without `etcd` (the baseline, measured in the same run);
  B. with `etcd` (the fleet's source running: list, watch, probe, status keys on a lease).

  1. RSS (VmRSS) and threads (/proc/PID/status) of A and B after SETTLE seconds, sampled together
     SAMPLES times one second apart; medians.
  2. put -> exec: RUNS times, the time from just before an etcd put of a new vassal key (etcd's
     JSON gateway, POST /v3/kv/put) to its program's start (it touches a file first thing: the
     file's mtime), on B; against the same for a vassal file dropped into B's directory (a rename),
     interleaved; medians and the ratio.

Usage, from the repository root, after `mvn -B -q package -DskipTests`:
    python3 bench/fleet.py                 # VASSALS=10 SETTLE=15 SAMPLES=5 RUNS=21 (about 60 s)
JAVA (default: java on PATH) and JAVA_OPTS (default: the packaged launcher's flags,
packaging/emperor: -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss256k -Xms8m -Xmx64m
-XX:-UsePerfData) select the JVM: what an operator's `emperor run` gets. Prints `uptime` first and last: the machine's load matters.
"""
import base64
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("EMPEROR_BUILD_DIR", os.path.join(ROOT, "target"))
VASSALS = int(os.environ.get("VASSALS", "10"))
SETTLE = float(os.environ.get("SETTLE", "15"))
SAMPLES = int(os.environ.get("SAMPLES", "5"))
RUNS = int(os.environ.get("RUNS", "21"))
JAVA = os.environ.get("JAVA", shutil.which("java"))
JAVA_OPTS = os.environ.get("JAVA_OPTS", "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss256k -Xms8m -Xmx64m"
                                        " -XX:-UsePerfData").split()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait(what, cond, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.01)
    sys.exit("timed out waiting for " + what)


def status(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def etcd_put(port, key, value):
    body = json.dumps({"key": base64.b64encode(key.encode()).decode(),
                       "value": base64.b64encode(value.encode()).decode()}).encode()
    urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:%d/v3/kv/put" % port, body), timeout=10).read()


def etcd_delete(port, key):
    body = json.dumps({"key": base64.b64encode(key.encode()).decode()}).encode()
    urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:%d/v3/kv/deleterange" % port, body),
                           timeout=10).read()


def emperor(tmp, name, extra):
    d = os.path.join(tmp, name)
    os.makedirs(os.path.join(d, "vassals"))
    for i in range(VASSALS):
        with open(os.path.join(d, "vassals", "idle%d.ini" % i), "w") as f:
            f.write("[vassal]\nexec = /bin/sleep 100000\n")
    with open(os.path.join(d, "emperor.ini"), "w") as f:
        f.write("[emperor]\nvassals = vassals\ncontrol = control.sock\n" + extra)
    log = os.path.join(d, "emperor.log")
    p = subprocess.Popen([JAVA] + JAVA_OPTS + ["--enable-native-access=ALL-UNNAMED", "-jar",
                          os.path.join(TARGET, "emperor.jar"), "run", "--config", "emperor.ini", "--log", log],
                         cwd=d, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    wait(name + " ready", lambda: os.path.exists(log) and "ready: " in open(log).read())
    return p, d, log


def uptime():
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main():
    etcd = shutil.which("etcd") or "/usr/bin/etcd"
    if not os.access(etcd, os.X_OK):
        sys.exit("etcd is not installed (apt-get install etcd-server)")
    print("load before:", uptime())
    tmp = tempfile.mkdtemp(prefix="emperor-fleet-bench-")
    cport, pport = free_port(), free_port()
    procs = []
    try:
        e = subprocess.Popen([etcd, "--data-dir", os.path.join(tmp, "etcd"),
                              "--listen-client-urls", "http://127.0.0.1:%d" % cport,
                              "--advertise-client-urls", "http://127.0.0.1:%d" % cport,
                              "--listen-peer-urls", "http://127.0.0.1:%d" % pport,
                              "--initial-advertise-peer-urls", "http://127.0.0.1:%d" % pport,
                              "--initial-cluster", "default=http://127.0.0.1:%d" % pport],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(e)

        def up():
            try:
                etcd_put(cport, "/up", "1")
                return True
            except Exception:
                return False
        wait("etcd", up)
        a, da, la = emperor(tmp, "a", "")
        procs.append(a)
        b, db, lb = emperor(tmp, "b", "etcd = http://127.0.0.1:%d\nnode = b\n" % cport)
        procs.append(b)
        wait("b's list of etcd", lambda: "etcd: listed" in open(lb).read())
        wait("both spawned", lambda: open(la).read().count("spawned") >= VASSALS
             and open(lb).read().count("spawned") >= VASSALS)
        time.sleep(SETTLE)
        rss = {"a": [], "b": []}
        thr = {"a": [], "b": []}
        for _ in range(SAMPLES):
            for n, p in (("a", a), ("b", b)):
                rss[n].append(status(p.pid, "VmRSS") / 1024.0)
                thr[n].append(status(p.pid, "Threads"))
            time.sleep(1)
        ra, rb = statistics.median(rss["a"]), statistics.median(rss["b"])
        ta, tb = statistics.median(thr["a"]), statistics.median(thr["b"])
        print("%d idle vassals, after %.0f s, medians of %d samples:" % (VASSALS, SETTLE, SAMPLES))
        print("  threads: without etcd %d, with etcd %d (+%d)" % (ta, tb, tb - ta))
        print("  RSS:     without etcd %.1f MiB, with etcd %.1f MiB (+%.1f MiB, %.2fx)" % (ra, rb, rb - ra, rb / ra))

        marks = os.path.join(tmp, "marks")
        os.makedirs(marks)
        put_ms, drop_ms = [], []
        for i in range(RUNS):
            for how in ("etcd", "dir"):
                mark = os.path.join(marks, "%s%d" % (how, i))
                text = "[vassal]\nexec = /usr/bin/touch %s\nreload = restart\n" % mark
                name = "%s%d.ini" % (how, i)
                t0 = time.time()
                if how == "etcd":
                    etcd_put(cport, "/emperor/vassals/" + name, text)
                else:
                    staged = os.path.join(db, "vassals", "." + name)
                    with open(staged, "w") as f:
                        f.write(text)
                    os.rename(staged, os.path.join(db, "vassals", name))
                wait(mark, lambda: os.path.exists(mark))
                (put_ms if how == "etcd" else drop_ms).append((os.stat(mark).st_mtime - t0) * 1000)
                if how == "etcd":
                    etcd_delete(cport, "/emperor/vassals/" + name)
                else:
                    os.unlink(os.path.join(db, "vassals", name))
        pm, dm = statistics.median(put_ms), statistics.median(drop_ms)
        print("put -> exec, %d runs each, interleaved, on the emperor with etcd:" % RUNS)
        print("  etcd put:      p50 %.1f ms (min %.1f, max %.1f)" % (pm, min(put_ms), max(put_ms)))
        print("  file dropped:  p50 %.1f ms (min %.1f, max %.1f)  (baseline)" % (dm, min(drop_ms), max(drop_ms)))
        print("  ratio put/file: %.2fx" % (pm / dm if dm > 0 else float("nan")))
        print("load after:", uptime())
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
