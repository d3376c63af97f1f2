#!/usr/bin/env python3
"""bench/ondemand.py [N [M]]: what the first request to a sleeping on-demand vassal costs, and what it
saves while it sleeps (issue 15, docs/sockets.md "What the first request costs").

One emperor (the packaged launcher's JVM flags) with N (default 50) on-demand vassals, each
`listen = 127.0.0.1:PORT` + `on-demand = true`, running serves-fd.py (a small python3 HTTP server
on its inherited fd 3). Before any request: how many processes run for them (must be 0), and the
emperor's RSS. Then, for each vassal in turn, interleaved with its baselines (same program, same
machine state, a new connection each, 30 s to answer):
  direct      the same program started directly, no emperor: a socket bound and listening by this
              script, the program exec'd with it on fd 3 (LISTEN_FDS=1, LISTEN_PID its pid, set by
              `sh -c 'exec "$@"'`) and connected to at once: the time from the exec to its answer
              (a cold start with nothing in between)
  activate    systemd-socket-activate -l 127.0.0.1:PORT serves-fd.py, once it listens: the time
              from the connection to the answer (systemd's one-program on-demand start; skipped if
              systemd-socket-activate is missing)
  first       the first request to the waiting vassal: connect, the emperor sees it and spawns, the
              program starts and answers (the wake-up)
  warm        a second request to the same vassal, now running
Prints median, p90 and worst of each, the ratios first/warm, first/direct and first/activate (and the
median of the per-vassal differences first - direct, first - activate: the emperor's own share), the
RSS and PSS of the N vassals once awake (what sleeping saves), and the emperor's RSS then.

Idle exit: K (10) more on-demand vassals run a program that exits 0 after 1.5 s without a
connection (the emperor's min-uptime is 1 s in this run): each is woken, then the time from its
answer until `status` says `waiting` again (asked every 10 ms), how many processes run for them
then (must be 0), and a second wake-up against the first.

uWSGI (when /usr/bin/uwsgi, or uwsgi on PATH, has its python3 plugin): M (default 10) `[uwsgi]`
vassals (master, python3 plugin, `protocol = http`, a WSGI app) with a NAME.ini.socket file naming
127.0.0.1:PORT, under the real uWSGI Emperor (`uwsgi --emperor DIR
--emperor-on-demand-extension .socket`) and under the emperor (`[emperor] on-demand-extension =
.socket`), both running at once, requests interleaved: first and warm request of each, and the
ratio emperor/uWSGI of the first requests (and the median of their paired differences).

Every row carries the 1-minute load average at its end. Run from the repository root after
`mvn -B -q package -DskipTests` (BUILD_DIR=DIR selects another build directory). Needs python3;
systemd-socket-activate and uwsgi are optional. 30-40 s (N=50, M=10). Every process it
started is stopped at the end (also on Ctrl-C or an error).
"""
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("BUILD_DIR", "target")
FLAGS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss256k -Xmx64m -XX:-UsePerfData".split()
N = int(sys.argv[1]) if len(sys.argv) > 1 else 50
M = int(sys.argv[2]) if len(sys.argv) > 2 else 10
HERE = os.path.dirname(os.path.abspath(__file__))
SERVES = os.path.abspath(os.path.join(HERE, "..", "src", "test", "resources", "fixtures", "serves-fd.py"))
ANSWER_TIMEOUT = 30
K = 10      # idle-exit vassals
IDLE = 1.5  # their idle time (s); min-uptime is 1 s in this run

IDLER = '''import select, socket, sys
listener = socket.socket(fileno=3)  # LISTEN_FDS=1: the socket the emperor holds
while True:
    if not select.select([listener], [], [], float(sys.argv[1]))[0]:
        sys.exit(0)  # idle: exit 0, back to waiting
    conn, _ = listener.accept()
    with conn:
        conn.settimeout(10)
        got = b""
        while b"\\r\\n\\r\\n" not in got:
            chunk = conn.recv(4096)
            if not chunk:
                break
            got += chunk
        conn.sendall(b"HTTP/1.0 200 OK\\r\\nContent-Length: 3\\r\\nConnection: close\\r\\n\\r\\nok\\n")
'''

APP = '''import os
def application(env, start_response):
    body = ("pid=%d\\n" % os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
'''


def load():
    return os.getloadavg()[0]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(n):
    """n distinct free ports (held all at once while choosing, so none repeats)."""
    held = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            held.append(s)
        return [s.getsockname()[1] for s in held]
    finally:
        for s in held:
            s.close()


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


def get(port, sock=None):
    """One HTTP/1.0 request on a new connection (or on `sock`, already connected); the answer must be a 200."""
    s = sock or socket.create_connection(("127.0.0.1", port), timeout=ANSWER_TIMEOUT)
    with s:
        s.settimeout(ANSWER_TIMEOUT)
        s.sendall(b"GET / HTTP/1.0\r\nHost: bench\r\n\r\n")
        buf = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
    if not buf.startswith(b"HTTP/1.") or b" 200 " not in buf.split(b"\r\n", 1)[0]:
        raise SystemExit("port %d: not a 200 answer: %r" % (port, buf[:80]))


def timed_get(port):
    t0 = time.monotonic()
    get(port)
    return time.monotonic() - t0


def wait_for(what, cond, timeout=60):
    end = time.monotonic() + timeout
    while True:
        try:
            if cond():
                return
        except (OSError, KeyError, IndexError, ValueError):
            pass  # not there yet
        if time.monotonic() > end:
            raise SystemExit("timed out: " + what)
        time.sleep(0.01)


def listening(ports):
    """The subset of `ports` in LISTEN on 127.0.0.1 (or any address), from /proc/net/tcp."""
    found = set()
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            addr, port = fields[1].split(":")
            if fields[3] == "0A" and addr in ("0100007F", "00000000"):
                found.add(int(port, 16))
    return found & set(ports)


def descendants(root):
    """Every live descendant of pid `root`: {pid: (argv[0] basename, start time)}."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
            ppid, start = int(rest[1]), rest[19]
            with open(f"/proc/{d}/cmdline", "rb") as f:
                argv0 = f.read().split(b"\0")[0].decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append((int(d), os.path.basename(argv0), start))
    out, todo = {}, [root]
    while todo:
        for pid, name, start in children.get(todo.pop(), []):
            out[pid] = (name, start)
            todo.append(pid)
    return out


def start_time(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def proc_kib(pid, name, field):
    """A kB field of /proc/PID/NAME (status, smaps_rollup), 0 when the process is gone."""
    try:
        with open(f"/proc/{pid}/{name}") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kib(pid):
    return proc_kib(pid, "status", "VmRSS")


def pss_kib(pid):
    """Proportional set size: shared pages (the python3 binary, libraries) divided among their users."""
    return proc_kib(pid, "smaps_rollup", "Pss")


def mib(kib):
    return kib / 1024


def stats(xs):
    xs = sorted(xs)
    p90 = xs[min(len(xs) - 1, max(0, int(round(0.9 * len(xs))) - 1))]
    return statistics.median(xs), p90, xs[-1]


def row(label, xs):
    med, p90, worst = stats(xs)
    print(f"  {label:<52} n={len(xs):<3} median {med * 1000:7.1f}  p90 {p90 * 1000:7.1f}  "
          f"worst {worst * 1000:7.1f} ms   load {load():.2f}", flush=True)
    return med


def ratio(label, a, b):
    print(f"  {label:<52} {a / b:7.2f}x  (medians {a * 1000:.1f} / {b * 1000:.1f} ms)   load {load():.2f}",
          flush=True)


def paired(label, xs, ys):
    """The median of the per-vassal differences xs[i] - ys[i] (each pair measured one after the other)."""
    d = statistics.median(x - y for x, y in zip(xs, ys))
    print(f"  {label:<52} {d * 1000:+7.1f} ms (median of the {len(xs)} paired differences)   load {load():.2f}",
          flush=True)


def stop(proc, sig=signal.SIGTERM, grace=30):
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(sig)
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def kill_group(proc):
    """SIGTERM to the process group `proc` leads (start_new_session), SIGKILL after 10 s."""
    if proc is None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def direct_cold(py, marker):
    """exec → first answer of serves-fd.py on a socket bound here and handed as fd 3 (no emperor)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(128)
    port = s.getsockname()[1]
    t0 = time.monotonic()
    proc = subprocess.Popen(["sh", "-c", f'exec 3<&{s.fileno()}; export LISTEN_PID=$$ LISTEN_FDS=1; exec "$@"',
                             "sh", py, SERVES, marker], pass_fds=(s.fileno(),), stdout=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=ANSWER_TIMEOUT)  # in the backlog at once
        get(port, c)
        return time.monotonic() - t0
    finally:
        s.close()
        kill_group(proc)


def activate_cold(activate, py, marker):
    """connection → answer through systemd-socket-activate (it listens, execs the program at the first one)."""
    port = free_port()
    proc = subprocess.Popen([activate, "-l", f"127.0.0.1:{port}", py, SERVES, marker], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(f"systemd-socket-activate on {port}", lambda: listening([port]), 30)
        return timed_get(port)
    finally:
        kill_group(proc)


def uwsgi_python3(uwsgi):
    """uWSGI with its python3 plugin (the Debian packaging puts plugins beside it)?"""
    if not uwsgi:
        return False
    try:
        out = subprocess.run([uwsgi, "--plugins", "python3", "--version"], capture_output=True, timeout=30)
        return out.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def idle_exit(sock, names, ports):
    """K vassals that exit 0 after IDLE s without a connection: woken, back to waiting, woken again."""
    first, answered = [], {}
    for name, port in zip(names, ports):
        first.append(timed_get(port))
        answered[name] = time.monotonic()
    woken = {v["pid"]: start_time(v["pid"]) for v in ask(sock, {"cmd": "status", "names": names})["vassals"]
             if v.get("pid")}
    back, end = {}, time.monotonic() + IDLE + 60
    while len(back) < len(names):  # the control socket asked every 10 ms
        now = time.monotonic()
        for v in ask(sock, {"cmd": "status", "names": names})["vassals"]:
            if v["name"] not in back and v["state"] == "waiting":
                back[v["name"]] = now - answered[v["name"]]
        if now > end:
            raise SystemExit("idle vassals not back to waiting: " + ", ".join(sorted(set(names) - set(back))))
        time.sleep(0.01)
    left = ask(sock, {"cmd": "status", "names": names})["vassals"]
    running = sum(1 for v in left if v.get("pid")) + sum(1 for p, st in woken.items() if start_time(p) == st)
    again = [timed_get(port) for port in ports]
    print(f"\nIdle exit: {len(names)} vassals that exit 0 after {IDLE} s without a connection (min-uptime = 1):")
    row(f"last answer -> waiting again (idle {IDLE} s included)", list(back.values()))
    ratio(f"last answer -> waiting again / idle time {IDLE} s", statistics.median(back.values()), IDLE)
    print(f"  processes running for them once all are waiting again: {running} (of the {len(woken)} woken)   "
          f"load {load():.2f}")
    m1 = row("first wake-up: connect -> answer", first)
    m2 = row("second wake-up, after the idle exit", again)
    ratio("second wake-up / first wake-up", m2, m1)


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # cleanup below also on SIGTERM
    jar = os.path.join(BUILD, "emperor.jar")
    if not os.path.exists(jar):
        raise SystemExit(f"no {jar}: run `mvn -B -q package -DskipTests` first (or set BUILD_DIR)")
    py = shutil.which("python3")
    activate = shutil.which("systemd-socket-activate")
    uwsgi = shutil.which("uwsgi")
    with_uwsgi = uwsgi_python3(uwsgi)
    marker = f"ondemand-bench-{os.getpid()}"
    work = tempfile.mkdtemp(prefix="emperor-ondemand-bench-")
    vdir, udir = os.path.join(work, "v"), os.path.join(work, "u")
    os.makedirs(vdir)
    os.makedirs(udir)
    sock, log = os.path.join(work, "control.sock"), os.path.join(work, "emperor.log")
    conf = os.path.join(work, "emperor.ini")
    with open(conf, "w") as f:
        f.write("[emperor]\non-demand-extension = .socket\nmin-uptime = 1\n")
    ports = free_ports(N + 2 * M + K)
    names = [f"app{i:03d}" for i in range(N)]
    for name, port in zip(names, ports):
        with open(os.path.join(vdir, name + ".ini"), "w") as f:
            f.write(f"[vassal]\nexec = {py} {SERVES} {marker}\nlisten = 127.0.0.1:{port}\non-demand = true\n")
    uw_names = [f"uw{i:03d}" for i in range(M)] if with_uwsgi else []
    emp_uw_ports, uw_ports = ports[N:N + len(uw_names)], ports[N + M:N + M + len(uw_names)]
    idle_names, idle_ports = [f"idle{i:03d}" for i in range(K)], ports[N + 2 * M:]
    idler = os.path.join(work, "idle.py")
    with open(idler, "w") as f:
        f.write(IDLER)
    for name, port in zip(idle_names, idle_ports):
        with open(os.path.join(vdir, name + ".ini"), "w") as f:
            f.write(f"[vassal]\nexec = {py} {idler} {IDLE}\nlisten = 127.0.0.1:{port}\non-demand = true\n")
    expected = ports[:N] + emp_uw_ports + uw_ports + idle_ports
    if with_uwsgi:
        app = os.path.join(work, "app.py")
        with open(app, "w") as f:
            f.write(APP)
        vassal = ("[uwsgi]\nmaster = true\nplugins = python3\nprotocol = http\nwsgi-file = " + app
                  + "\nprocesses = 1\ndisable-logging = true\n")
        for d, ps in ((vdir, emp_uw_ports), (udir, uw_ports)):
            for name, port in zip(uw_names, ps):
                with open(os.path.join(d, name + ".ini.socket"), "w") as f:
                    f.write(f"127.0.0.1:{port}\n")
                with open(os.path.join(d, name + ".ini"), "w") as f:
                    f.write(vassal)
    emp = uemp = None
    ulog = open(os.path.join(work, "uwsgi.log"), "w")
    seen = {}  # every descendant seen, for the last sweep
    try:
        print(f"bench/ondemand.py: N={N} on-demand vassals (serves-fd.py), M={len(uw_names)} uWSGI vassals; "
              f"load {load():.2f}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", flush=True)
        emp = subprocess.Popen(["java", *FLAGS, "-jar", jar, "run", "--config", conf, "--vassals", vdir,
                                "--control", sock, "--log", log])
        if with_uwsgi:
            uemp = subprocess.Popen([uwsgi, "--emperor", udir, "--emperor-on-demand-extension", ".socket"],
                                    stdout=ulog, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        every = names + uw_names + idle_names

        def all_waiting():
            got = ask(sock, {"cmd": "status"})["vassals"]
            return sum(1 for v in got if v["name"] in every and v["state"] == "waiting") == len(every)

        wait_for(f"{len(every)} vassals waiting", all_waiting)
        wait_for("every socket listening", lambda: len(listening(expected)) == len(expected))
        before = descendants(emp.pid)
        seen.update(before)
        emp_rss_waiting = rss_kib(emp.pid)
        print("\nBefore any request:")
        print(f"  processes running for the {len(every)} waiting vassals: {len(before)}   load {load():.2f}")
        print(f"  emperor RSS ({len(every)} vassals waiting, {len(every)} sockets held): "
              f"{mib(emp_rss_waiting):.1f} MiB   load {load():.2f}")
        if uemp:
            ubefore = descendants(uemp.pid)
            seen.update(ubefore)
            print(f"  processes running for uWSGI's {len(uw_names)} waiting vassals: {len(ubefore)}; uWSGI Emperor "
                  f"RSS {mib(rss_kib(uemp.pid)):.1f} MiB   load {load():.2f}", flush=True)

        direct, act, first, warm = [], [], [], []
        t0 = time.monotonic()
        for name, port in zip(names, ports):
            direct.append(direct_cold(py, marker))
            if activate:
                act.append(activate_cold(activate, py, marker))
            first.append(timed_get(port))
            warm.append(timed_get(port))
        took = time.monotonic() - t0
        running = descendants(emp.pid)
        seen.update(running)
        served = [p for p, (n, _) in running.items() if n.startswith("python")]
        vassals_rss = sum(rss_kib(p) for p in served)
        vassals_pss = sum(pss_kib(p) for p in served)
        print(f"\nFirst request to each of the {N} waiting vassals, interleaved with its baselines ({took:.1f} s):")
        m_direct = row("direct: exec -> answer (no emperor)", direct)
        m_act = row("systemd-socket-activate: connect -> answer", act) if act else None
        m_first = row("emperor, first request (wake-up): connect -> answer", first)
        m_warm = row("emperor, second request (warm)", warm)
        ratio("wake-up / warm", m_first, m_warm)
        ratio("wake-up / direct cold start", m_first, m_direct)
        paired("wake-up - direct cold start", first, direct)
        if m_act:
            ratio("wake-up / systemd-socket-activate", m_first, m_act)
            paired("wake-up - systemd-socket-activate", first, act)
        else:
            print("  systemd-socket-activate: skipped (not installed)")
        print(f"\nWhat sleeping saves (all {N} awake now):")
        print(f"  vassal processes running: {len(served)}, RSS {mib(vassals_rss):.1f} MiB in all, "
              f"{mib(vassals_rss) / max(1, len(served)):.1f} MiB each; PSS {mib(vassals_pss):.1f} MiB in all, "
              f"{mib(vassals_pss) / max(1, len(served)):.1f} MiB each   load {load():.2f}")
        print(f"  emperor RSS: {mib(rss_kib(emp.pid)):.1f} MiB ({mib(emp_rss_waiting):.1f} MiB while all waited)   "
              f"load {load():.2f}", flush=True)

        if with_uwsgi:
            ufirst, uwarm, efirst, ewarm = [], [], [], []
            for i in range(len(uw_names)):
                ufirst.append(timed_get(uw_ports[i]))
                uwarm.append(timed_get(uw_ports[i]))
                efirst.append(timed_get(emp_uw_ports[i]))
                ewarm.append(timed_get(emp_uw_ports[i]))
            print(f"\nuWSGI vassals (master, python3 plugin, protocol = http), {len(uw_names)} under each emperor, "
                  "interleaved:")
            m_uf = row("uWSGI Emperor, first request (wake-up)", ufirst)
            row("uWSGI Emperor, second request (warm)", uwarm)
            m_ef = row("emperor, first request (wake-up)", efirst)
            row("emperor, second request (warm)", ewarm)
            ratio("wake-up: emperor / uWSGI Emperor", m_ef, m_uf)
            paired("wake-up: emperor - uWSGI Emperor", efirst, ufirst)
            ups = descendants(uemp.pid)
            seen.update(ups)
            eps = {p: v for p, v in descendants(emp.pid).items() if v[0].startswith("uwsgi")}
            seen.update(eps)
            print(f"  the awake uWSGI vassals: under uWSGI {len(ups)} processes, RSS {mib(sum(map(rss_kib, ups))):.1f} "
                  f"MiB, PSS {mib(sum(map(pss_kib, ups))):.1f} MiB; under the emperor {len(eps)} processes, RSS "
                  f"{mib(sum(map(rss_kib, eps))):.1f} MiB, PSS {mib(sum(map(pss_kib, eps))):.1f} MiB   "
                  f"load {load():.2f}", flush=True)
        else:
            print("\nuWSGI: skipped (no uwsgi with its python3 plugin: apt-get install uwsgi-core "
                  "uwsgi-plugin-python3)")
        idle_exit(sock, idle_names, idle_ports)
        print(f"\nload average at the end {load():.2f}", flush=True)
    finally:
        if emp:
            seen.update(descendants(emp.pid))
        if uemp:
            seen.update(descendants(uemp.pid))
        stop(emp)
        if uemp:
            stop(uemp, signal.SIGINT)
            kill_group(uemp)
        ulog.close()
        for pid, (_, start) in seen.items():  # anything left of ours: a pid seen, still the same process
            if start_time(pid) == start:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
