#!/usr/bin/env python3
"""bench/control_latency.py [VASSALS]: the control socket under load (docs/performance.md).

Starts the emperor (packaged launcher's JVM flags) with VASSALS (default 1000) vassals running
`/bin/sleep 3600`, then measures:
  1. `status` round trips (connect, request, the whole JSON answer, close), one client at a time;
  2. file drop -> `spawned` latency (the log line's timestamp minus the rename's wall time) for
     20 new vassals, first with no client, then while 200 clients ask `status` in a loop;
  3. `status` round trips of those 200 clients meanwhile.
Prints medians and p90s. Run from the repository root after
`mvn -B -q package -DskipTests` (BUILD_DIR=DIR selects another build directory).
"""
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime

BUILD = os.environ.get("BUILD_DIR", "target")
FLAGS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss256k -Xmx64m -XX:-UsePerfData".split()
N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000


def ask(path, request):
    t0 = time.monotonic()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        s.sendall((json.dumps(request) + "\n").encode())
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            buf += chunk
    return time.monotonic() - t0, json.loads(buf)


def drop(vdir, stage, name):
    tmp = os.path.join(stage, name + ".ini")
    with open(tmp, "w") as f:
        f.write("[vassal]\nexec = /bin/sleep 3600\nstop-timeout = 2\n")
    t = time.time()
    os.rename(tmp, os.path.join(vdir, name + ".ini"))
    return t


def spawned_at(log, name, timeout=30):
    pattern = re.compile(r"^(\S+) \[emperor\] " + re.escape(name) + r": spawned ")
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with open(log) as f:
            for line in f:
                m = pattern.match(line)
                if m:
                    return datetime.fromisoformat(m.group(1).replace("Z", "+00:00")).timestamp()
        time.sleep(0.01)
    raise SystemExit(f"{name} not spawned within {timeout}s")


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def ms(v):
    return f"{v * 1000:.1f} ms"


def drops(vdir, stage, log, prefix):
    lat = []
    for i in range(20):
        name = f"{prefix}{i}"
        t = drop(vdir, stage, name)
        lat.append(spawned_at(log, name) - t)
        time.sleep(0.05)
    return lat


def main():
    work = tempfile.mkdtemp(prefix="emperor-control-bench-")
    vdir, stage = os.path.join(work, "v"), os.path.join(work, "stage")
    os.makedirs(vdir)
    os.makedirs(stage)
    sock, log = os.path.join(work, "control.sock"), os.path.join(work, "emperor.log")
    for i in range(N):
        drop(vdir, stage, f"v{i:04d}")
    emp = subprocess.Popen(["java", *FLAGS, "-jar", f"{BUILD}/emperor.jar", "run", "--vassals", vdir,
                            "--control", sock, "--log", log])
    try:
        end = time.monotonic() + 120
        while True:
            try:
                _, answer = ask(sock, {"cmd": "status"})
                running = sum(1 for v in answer["vassals"] if v["state"] == "running")
                if running == N:
                    break
            except OSError:
                pass
            if time.monotonic() > end:
                raise SystemExit("the vassals did not all run within 120 s")
            time.sleep(0.2)
        rtt = [ask(sock, {"cmd": "status"})[0] for _ in range(50)]
        size = len(json.dumps(ask(sock, {"cmd": "status"})[1]))
        print(f"{N} vassals, status answer {size} bytes: round trip p50 {ms(statistics.median(rtt))}, "
              f"p90 {ms(pct(rtt, 0.9))}")

        idle = drops(vdir, stage, log, "idle")
        print(f"drop -> spawned, no client: p50 {ms(statistics.median(idle))}, p90 {ms(pct(idle, 0.9))}")

        stop = threading.Event()
        loaded = []
        errors = []

        def client():
            while not stop.is_set():
                try:
                    loaded.append(ask(sock, {"cmd": "status"})[0])
                except OSError as e:
                    errors.append(e)

        threads = [threading.Thread(target=client, daemon=True) for _ in range(200)]
        for t in threads:
            t.start()
        time.sleep(1)
        busy = drops(vdir, stage, log, "busy")
        stop.set()
        for t in threads:
            t.join(30)
        print(f"drop -> spawned, 200 clients asking status in a loop: p50 {ms(statistics.median(busy))}, "
              f"p90 {ms(pct(busy, 0.9))}")
        print(f"  their status round trips: {len(loaded)} answers, p50 {ms(statistics.median(loaded))}, "
              f"p90 {ms(pct(loaded, 0.9))}, {len(errors)} errors")
    finally:
        emp.terminate()
        emp.wait(120)
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
