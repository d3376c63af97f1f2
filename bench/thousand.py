#!/usr/bin/env python3
"""bench/thousand.py [N]: N vassal files (default 1000) renamed into the directory until all run,
against a plain posix_spawn loop of the same N programs, in one run (docs/performance.md).

"Running" is the same for both: the program has exec'd and said so. Every vassal, and every
process of the baseline, is the same tiny C program (compiled here): it writes its number and
a newline to a FIFO and then waits in pause() until it is killed. The bench reads the FIFO
(blocking, no polling) and takes the time of the N-th distinct number.

  baseline: os.posix_spawn of the N programs in a loop (empty environment), from before the
            first spawn until the N-th line;
  emperor:  N vassal files (`[vassal]` with `exec = PROGRAM FIFO I`) written to a staging
            directory on the same file system, the emperor started and `ready`, then renamed
            into the vassal directory by a loop; from before the first rename until the N-th
            line.

  helper:   the baseline's loop, each program started through the exec helper (emperor-exec) with
            the arguments of a root vassal: the floor of posix_spawn of the helper (two execs a
            program), the way the emperor spawns while its spawn server is not there;
  server:   the same programs and arguments through the spawn server (emperor-exec --serve, one
            request each on its socket, as the emperor sends them): the floor of the way the
            emperor spawns (one exec a program).

Each round measures the baseline, the helper loop, the server loop, then the emperor, and prints
them and the ratios to the baseline; the summary is the median of the rounds' ratios. Each also prints the CPU
time each way costs, which a busy machine disturbs less than the wall time: the spawning loop's own
(the bench's, or the emperor's for the burst and its spawn server's, from /proc/PID/stat) plus that
of the N processes until they ran (each one's /proc/PID/schedstat: the helper's part included, it is
the same process); and the emperor's CPU for the burst by thread (/proc/PID/task/*/stat). Run as root (the emperor as root, as by hand), from the
repository root after `mvn -B -q package -DskipTests`. Environment:
  ROUNDS=3            rounds
  TYRANT=1            run the emperor with --tyrant (the files owned by nobody, vassals run as nobody)
  EMPEROR_FLAGS=...   JVM flags (default: the packaged launcher's small-footprint set;
                      EMPEROR_FLAGS=none for the JVM's defaults)
  EMPEROR_JAVA_OPTS   added after them (e.g. -XX:StartFlightRecording=filename=/tmp/t.jfr,settings=profile)
  BUILD_DIR=target    where emperor.jar and emperor-exec are
  KEEP=1              keep the work directory (the emperor's logs) and say where
About 20 s a round on a 2-CPU machine at load 4 (the default 3 rounds: about a minute).
"""
import array
import os
import pwd
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
ROUNDS = int(os.environ.get("ROUNDS", "3"))
TYRANT = os.environ.get("TYRANT") == "1"
BUILD = os.environ.get("BUILD_DIR", "target")
SMALL = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss256k -Xmx64m -XX:-UsePerfData"
FLAGS = os.environ.get("EMPEROR_FLAGS", SMALL)
FLAGS = [] if FLAGS == "none" else FLAGS.split()
EXTRA = os.environ.get("EMPEROR_JAVA_OPTS", "").split()

PROGRAM_C = r"""
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
    if (argc < 3) return 2;
    int fd = open(argv[1], O_WRONLY);
    if (fd < 0) return 1;
    char line[64];
    int n = snprintf(line, sizeof line, "%s %d\n", argv[2], (int) getpid());
    if (n <= 0 || n >= (int) sizeof line) return 2;
    if (write(fd, line, n) != n) return 1;
    close(fd);
    for (;;) pause();
}
"""


class Markers:
    """Reads the FIFO; wait(n) blocks until n distinct numbers of this round arrived."""

    def __init__(self, fifo):
        self.fd = os.open(fifo, os.O_RDWR)  # a writer of our own: no EOF between rounds
        self.cond = threading.Condition()
        self.seen = {}
        self.last = 0.0
        self.prefix = None
        threading.Thread(target=self.run, daemon=True).start()

    def start(self, prefix):
        with self.cond:
            self.seen = {}
            self.prefix = prefix

    def run(self):
        buf = b""
        while True:
            chunk = os.read(self.fd, 65536)
            now = time.monotonic()
            buf += chunk
            *lines, buf = buf.split(b"\n")
            with self.cond:
                for line in lines:
                    name, _, pid = line.decode().partition(" ")
                    if self.prefix and name.startswith(self.prefix):
                        self.seen[name] = int(pid)
                self.last = now
                self.cond.notify_all()

    def wait(self, n, timeout):
        end = time.monotonic() + timeout
        with self.cond:
            while len(self.seen) < n:
                left = end - time.monotonic()
                if left <= 0:
                    raise SystemExit(f"only {len(self.seen)} of {n} programs ran within {timeout} s")
                self.cond.wait(left)
            return self.last

    def cpu(self):
        """CPU time (s) of the programs that said they ran (the helper's part included: same process)."""
        with self.cond:
            pids = list(self.seen.values())
        total = 0
        for pid in pids:
            with open(f"/proc/{pid}/schedstat") as f:
                total += int(f.read().split()[0])
        return total / 1e9


def self_cpu():
    t = os.times()
    return t.user + t.system


def kill_all(pids):
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for p in pids:
        try:
            os.waitpid(p, 0)
        except ChildProcessError:
            pass


def baseline(prog, fifo, markers, r):
    prefix = f"b{r}-"
    markers.start(prefix)
    pids = []
    c0 = self_cpu()
    t0 = time.monotonic()
    for i in range(N):
        pids.append(os.posix_spawn(prog, [prog, fifo, f"{prefix}{i}"], {}))
    c = self_cpu() - c0
    t = markers.wait(N, 120) - t0
    cpu = c + markers.cpu()
    kill_all(pids)
    return t, cpu


def through_helper(helper, prog, fifo, markers, r):
    """The floor: the same loop, each program started through the exec helper as the emperor starts
    a root vassal (report fd, parent check, environment memfd on fd 5, umask, chdir), without the
    emperor's cgroup (-G)."""
    prefix = f"h{r}-"
    markers.start(prefix)
    env = os.memfd_create("emperor-env")
    os.write(env, b"PATH=/usr/local/bin:/usr/bin:/bin\0")
    me = str(os.getpid())
    pids = []
    c0 = self_cpu()
    t0 = time.monotonic()
    for i in range(N):
        argv = [helper, "-R", "2", "-P", me, "-s", "9", "-E", "5", "-m", "0022", "-d", "/", "--",
                prog, fifo, f"{prefix}{i}"]
        pids.append(os.posix_spawn(helper, argv, {}, file_actions=[(os.POSIX_SPAWN_DUP2, env, 5)]))
    c = self_cpu() - c0
    t = markers.wait(N, 120) - t0
    cpu = c + markers.cpu()
    kill_all(pids)
    os.close(env)
    return t, cpu


def through_server(helper, prog, fifo, markers, r):
    """The same programs through the spawn server: one request each (the helper's argv, /dev/null on
    0-2 and the environment memfd on 5 by SCM_RIGHTS), the pid read back; the programs are this
    script's children (CLONE_PARENT), as the emperor's vassals are the emperor's."""
    prefix = f"z{r}-"
    markers.start(prefix)
    env = os.memfd_create("emperor-env")
    os.write(env, b"PATH=/usr/local/bin:/usr/bin:/bin\0")
    null = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server = os.posix_spawn(helper, [helper, "--serve", "3", str(os.getpid())], {},
                            file_actions=[(os.POSIX_SPAWN_DUP2, theirs.fileno(), 3)])
    theirs.close()
    if struct.unpack("=ii", ours.recv(8)) != (0, 0):  # ready: its set-up is done
        raise SystemExit("spawn server: no ready message")
    me = str(os.getpid())
    fds = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [null, env]))]
    places = struct.pack("=8i", 0, 0, 1, 0, 2, 0, 5, 1)
    pids = []
    c0 = self_cpu()
    t0 = time.monotonic()
    for i in range(N):
        argv = [helper, "-R", "2", "-P", me, "-s", "9", "-E", "5", "-m", "0022", "-d", "/", "--",
                prog, fifo, f"{prefix}{i}"]
        msg = (struct.pack("=III", 0x53504d45, 2, 4) + places + struct.pack("=I", len(argv))
               + b"".join(a.encode() + b"\0" for a in argv))
        ours.sendmsg([msg], fds)
        pid, err = struct.unpack("=ii", ours.recv(8))
        if err:
            raise SystemExit(f"spawn server: {os.strerror(err)}")
        pids.append(pid)
    c = self_cpu() - c0
    t = markers.wait(N, 120) - t0
    cpu = c + markers.cpu() + server_cpu(server)
    kill_all(pids)
    ours.close()
    os.waitpid(server, 0)
    os.close(env)
    os.close(null)
    return t, cpu


def server_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def emperor(work, prog, fifo, markers, r):
    prefix = f"e{r}-"
    vdir = os.path.join(work, f"v{r}")
    stage = os.path.join(work, f"s{r}")
    log = os.path.join(work, f"emperor{r}.log")
    os.mkdir(vdir)
    os.mkdir(stage)
    owner = pwd.getpwnam("nobody") if TYRANT else None
    for i in range(N):
        p = os.path.join(stage, f"t{i}.ini")
        with open(p, "w") as f:
            f.write(f"[vassal]\nexec = {prog} {fifo} {prefix}{i}\nstop-timeout = 2\n")
        if owner:
            os.chown(p, owner.pw_uid, owner.pw_gid)
    if owner:
        os.chown(vdir, 0, 0)
        os.chmod(vdir, 0o755)
    cmd = ["java", *FLAGS, *EXTRA, "-jar", os.path.join(BUILD, "emperor.jar"), "run", "--vassals", vdir,
           "--log", log, "--control", os.path.join(work, f"control{r}.sock")]
    if TYRANT:
        ini = os.path.join(work, "emperor.ini")
        with open(ini, "w") as f:
            # One owner's N files: 200 files and 4 MiB by default (docs/tyrant.md, "The tenant budget").
            f.write(f"[emperor]\ntenant-max-vassals = {N}\ntenant-max-bytes = 32M\ntenant-max-total-bytes = 32M\n")
        cmd += ["--tyrant", "--config", ini]
    e = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 60
    while not (os.path.exists(log) and "ready:" in open(log).read()):
        if e.poll() is not None or time.monotonic() > end:
            stop(e)
            raise SystemExit(f"the emperor did not get ready: {cmd}")
        time.sleep(0.02)
    try:
        markers.start(prefix)
        cpu0 = emperor_cpu(e.pid)
        threads0 = thread_cpu(e.pid)
        t0 = time.monotonic()
        for i in range(N):
            os.rename(os.path.join(stage, f"t{i}.ini"), os.path.join(vdir, f"t{i}.ini"))
        t = markers.wait(N, 120) - t0
        # The spawn server starts at the first spawn: all of its CPU is the burst's.
        served = spawn_server_cpu(e.pid)
        cpu = emperor_cpu(e.pid) - cpu0 + served
        threads = thread_cpu(e.pid)
        vcpu = markers.cpu()
        spent = {k: v - threads0.get(k, 0) for k, v in threads.items()}
        print(f"  emperor's CPU for the burst, by thread: " + ", ".join(
            f"{k} {v:.2f} s" for k, v in sorted(spent.items(), key=lambda kv: -kv[1]) if v >= 0.01)
            + f"; its spawn server {served:.2f} s", flush=True)
    finally:
        stop(e)
    return t, cpu, vcpu


def stop(e):
    """SIGTERM: the emperor stops its vassals and exits."""
    e.send_signal(signal.SIGTERM)
    try:
        e.wait(60)
    except subprocess.TimeoutExpired:
        e.kill()
        e.wait()


def thread_cpu(pid):
    """CPU seconds of each thread of pid, by name (threads of one name summed)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                text = f.read()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        out[name] = out.get(name, 0) + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def spawn_server_cpu(pid):
    """CPU seconds of the emperor's spawn server (its emperor-exec --serve child), 0 if none."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            if len(argv) > 2 and argv[1] == b"--serve" and argv[3] == str(pid).encode():
                return server_cpu(int(entry))
        except (OSError, IndexError):
            continue
    return 0.0


def emperor_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    if os.geteuid() != 0:
        raise SystemExit("run as root (the emperor runs as root, as by hand)")
    work = tempfile.mkdtemp(prefix="emperor-thousand-")
    os.chmod(work, 0o755)
    try:
        prog = os.path.join(work, "ran")
        src = os.path.join(work, "ran.c")
        with open(src, "w") as f:
            f.write(PROGRAM_C)
        subprocess.run(["cc", "-O2", "-o", prog, src], check=True)
        fifo = os.path.join(work, "ran.fifo")
        os.mkfifo(fifo)
        os.chmod(fifo, 0o666)
        markers = Markers(fifo)
        with open("/proc/loadavg") as f:
            load = f.read().split()[:3]
        print(f"{N} programs, {ROUNDS} rounds, emperor flags: {' '.join(FLAGS + EXTRA) or '(JVM defaults)'}"
              f"{', tyrant (vassals as nobody)' if TYRANT else ', root, not tyrant'}; load {' '.join(load)}")
        ratios = []
        floors = []
        served = []
        cpus = []
        helper = os.path.join(BUILD, "emperor-exec")
        # An older build (BUILD_DIR of a tree before the spawn server) has no --serve: skip that loop.
        has_server = b"--serve" in open(helper, "rb").read()
        for r in range(ROUNDS):
            b, bc = baseline(prog, fifo, markers, r)
            h, hc = through_helper(helper, prog, fifo, markers, r)
            z, zc = through_server(helper, prog, fifo, markers, r) if has_server else (float("nan"), float("nan"))
            t, ec, vc = emperor(work, prog, fifo, markers, r)
            ratios.append(t / b)
            floors.append(h / b)
            served.append(z / b)
            cpus.append(((ec + vc) / bc, hc / bc, zc / bc))
            print(f"round {r + 1}: posix_spawn loop {b:.2f} s, the same loop through the exec helper {h:.2f} s"
                  f" ({h / b:.2f}), through the spawn server {z:.2f} s ({z / b:.2f}), emperor {t:.2f} s,"
                  f" ratio {t / b:.2f}", flush=True)
            print(f"  CPU: posix_spawn loop {bc:.2f} s (the loop and the programs), through the helper {hc:.2f} s"
                  f" ({hc / bc:.2f}), through the spawn server {zc:.2f} s ({zc / bc:.2f}), emperor {ec:.2f} s for"
                  f" the burst + {vc:.2f} s its vassals' processes ({(ec + vc) / bc:.2f})", flush=True)
        with open("/proc/loadavg") as f:
            load = f.read().split()[:3]
        print(f"median ratio {statistics.median(ratios):.2f} (rounds: {' '.join(f'{x:.2f}' for x in ratios)});"
              f" through the helper {statistics.median(floors):.2f}, through the spawn server"
              f" {statistics.median(served):.2f}; CPU ratio emperor {statistics.median(c[0] for c in cpus):.2f},"
              f" through the helper {statistics.median(c[1] for c in cpus):.2f}, through the spawn server"
              f" {statistics.median(c[2] for c in cpus):.2f}; load {' '.join(load)}")
    finally:
        if os.environ.get("KEEP") == "1":
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
