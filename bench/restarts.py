#!/usr/bin/env python3
"""bench/restarts.py [RESTARTS]: restarts lose nothing (issue 15 §2, docs/performance.md "Restarts").

One emperor (the packaged launcher's JVM flags), three vassals, each restarted RESTARTS times
(default 10) while one client sends HTTP requests one after another (a new connection each, 5 s to
connect, 10 s to answer):
  (a) held:     serves-fd.py on `listen = 127.0.0.1:PORT`, the socket the emperor holds; `reload =
                restart`, restarted through the control socket ({"cmd":"restart"}: stop, then start)
  (b) baseline: the same program binding its own port (`--bind`), as programs do today; the same
                restarts. Expect failures: nothing listens between the stop and the new bind.
  (c) uwsgi:    a [uwsgi] vassal (master, http-socket, python3 plugin) reloaded through the emperor
                channel ({"cmd":"reload"}, what a touch does: byte 1, uWSGI's graceful reload: the
                master keeps its socket and pid, and re-execs itself)
After each restart it waits until a request was answered by the new run (a new pid) and 0.3 s more.
Prints per scenario: requests, failures (with the first reasons), the worst latency, and the run's
length; and the load average. Run from the repository root after `mvn -B -q package -DskipTests`
(BUILD_DIR=DIR selects another build directory). Needs python3, and uwsgi with its python3 plugin
for (c) (skipped without). About 30 s on an idle machine.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

BUILD = os.environ.get("BUILD_DIR", "target")
FLAGS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss256k -Xmx64m -XX:-UsePerfData".split()
RESTARTS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
HERE = os.path.dirname(os.path.abspath(__file__))
SERVES = os.path.join(HERE, "..", "src", "test", "resources", "fixtures", "serves-fd.py")
PID = re.compile(rb"pid=(\d+)")

APP = '''import os
def application(env, start_response):
    body = ("pid=%d\\n" % os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
'''


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ask(path, request):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        s.sendall((json.dumps(request) + "\n").encode())
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            buf += chunk
    return json.loads(buf)


class Client(threading.Thread):
    """One request after another until stopped: counts, failures, the worst latency, who answered."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.stop = threading.Event()
        self.requests = 0
        self.failures = []
        self.worst = 0.0
        self.last_pid = None

    def one(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.settimeout(10)
            s.sendall(b"GET / HTTP/1.0\r\nHost: bench\r\n\r\n")
            buf = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                buf += chunk
        if not buf.startswith(b"HTTP/1.") or b" 200 " not in buf.split(b"\r\n", 1)[0]:
            raise OSError("not a 200 answer: %r" % buf[:60])
        m = PID.search(buf.split(b"\r\n\r\n", 1)[-1])
        return m.group(1).decode() if m else None

    def run(self):
        while not self.stop.is_set():
            t0 = time.monotonic()
            self.requests += 1
            try:
                pid = self.one()
                if pid:
                    self.last_pid = pid
            except OSError as e:
                self.failures.append(type(e).__name__ + ": " + str(e))
            self.worst = max(self.worst, time.monotonic() - t0)


def wait_for(what, cond, timeout=60):
    end = time.monotonic() + timeout
    while True:
        try:
            if cond():
                return
        except (OSError, KeyError, IndexError, ValueError):
            pass  # the control socket is not there yet
        if time.monotonic() > end:
            raise SystemExit("timed out: " + what)
        time.sleep(0.01)


def status(sock, name):
    return ask(sock, {"cmd": "status", "names": [name]})["vassals"][0]


def scenario(label, sock, name, port, cmd):
    wait_for(name + " running", lambda: status(sock, name)["state"] == "running")
    client = Client(port)
    client.start()
    wait_for(name + " answers", lambda: client.last_pid is not None)
    t0 = time.monotonic()
    seen = {client.last_pid}
    for i in range(RESTARTS):
        answer = ask(sock, {"cmd": cmd, "names": [name], "timeout": 60})
        if not answer.get("ok"):
            raise SystemExit(f"{cmd} {name}: {answer}")
        wait_for(f"{name}: run {i + 2} answers", lambda: client.last_pid not in seen)
        seen.add(client.last_pid)
        time.sleep(0.3)
    took = time.monotonic() - t0
    client.stop.set()
    client.join()
    reasons = sorted(set(client.failures))[:3]
    print(f"{label:<46} {client.requests:>6} requests {len(client.failures):>4} failures  "
          f"worst {client.worst * 1000:7.1f} ms  ({RESTARTS} in {took:.1f} s)"
          + (f"  e.g. {'; '.join(reasons)}" if reasons else ""), flush=True)
    return client


def main():
    work = tempfile.mkdtemp(prefix="emperor-restarts-bench-")
    vdir = os.path.join(work, "v")
    os.makedirs(vdir)
    sock, log = os.path.join(work, "control.sock"), os.path.join(work, "emperor.log")
    held, own, uw = free_port(), free_port(), free_port()
    py = shutil.which("python3")
    with open(os.path.join(vdir, "held.ini"), "w") as f:
        f.write(f"[vassal]\nexec = {py} {SERVES}\nlisten = 127.0.0.1:{held}\nreload = restart\nstop-timeout = 10\n")
    with open(os.path.join(vdir, "own.ini"), "w") as f:
        f.write(f"[vassal]\nexec = {py} {SERVES} --bind 127.0.0.1:{own}\nreload = restart\nstop-timeout = 10\n")
    have_uwsgi = shutil.which("uwsgi") is not None
    if have_uwsgi:
        app = os.path.join(work, "app.py")
        with open(app, "w") as f:
            f.write(APP)
        with open(os.path.join(vdir, "uw.ini"), "w") as f:
            f.write(f"[uwsgi]\nhttp-socket = 127.0.0.1:{uw}\nplugins = python3\nwsgi-file = {app}\nmaster = true\n"
                    "processes = 1\nthreads = 4\nenable-threads = true\ndisable-logging = true\n")
    emp = subprocess.Popen(["java", *FLAGS, "-jar", f"{BUILD}/emperor.jar", "run", "--vassals", vdir,
                            "--control", sock, "--log", log])
    try:
        wait_for("the control socket", lambda: os.path.exists(sock))
        print(f"load average {os.getloadavg()[0]:.2f}; {RESTARTS} restarts each, one client, sequential requests",
              flush=True)
        scenario("(a) listen, held by the emperor (restart)", sock, "held", held, "restart")
        scenario("(b) baseline: binds its own port (restart)", sock, "own", own, "restart")
        if have_uwsgi:
            scenario("(c) uWSGI, graceful reload (emperor channel)", sock, "uw", uw, "reload")
        else:
            print("(c) skipped: no uwsgi on PATH (apt-get install uwsgi-core uwsgi-plugin-python3)")
        print(f"load average {os.getloadavg()[0]:.2f}", flush=True)
    finally:
        emp.terminate()
        try:
            emp.wait(60)
        except subprocess.TimeoutExpired:
            emp.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
