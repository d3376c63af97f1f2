#!/usr/bin/env python3
"""bench/exec_cost.py [N]: what one exec costs on this machine, and what the exec helper adds
(docs/performance.md, "1000 vassals": why the helper's floor is about 2x the plain loop).

Starts each program N times (default 300) with os.posix_spawn and waits for it, one at a time,
and prints the wall time and the CPU time (the children's user + system, from getrusage) per
start, each as a ratio to a statically linked no-op started the same way in the same run:

  static no-op              int main(){return 0;} linked -static (the baseline)
  dynamic no-op             the same, dynamically linked (what a vassal usually is)
  helper + dynamic no-op    target/emperor-exec -- the dynamic no-op (two execs, as a vassal)
  helper + static no-op     target/emperor-exec -- the static no-op
  server + dynamic no-op    the same through the spawn server (emperor-exec --serve): one exec
  server + static no-op     (the server's own CPU, its recvmsg and clone per start, included)

Run from the repository root after `mvn -B -q package -DskipTests` (needs cc). As root the
helper runs as it does for a root vassal (no drop).
"""
import array
import os
import resource
import socket
import struct
import subprocess
import sys
import tempfile
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 300
HELPER = os.path.join("target", "emperor-exec")


def build(tmp):
    src = os.path.join(tmp, "noop.c")
    with open(src, "w") as f:
        f.write("int main(void) { return 0; }\n")
    dyn, sta = os.path.join(tmp, "noop-dynamic"), os.path.join(tmp, "noop-static")
    subprocess.run(["cc", "-O2", "-o", dyn, src], check=True)
    subprocess.run(["cc", "-O2", "-static", "-o", sta, src], check=True)
    return dyn, sta


def run(argv):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    for _ in range(N):
        pid = os.posix_spawn(argv[0], argv, {})
        _, status = os.waitpid(pid, 0)
        if status != 0:
            sys.exit(f"{argv}: exit status {status}")
    wall = (time.monotonic() - start) / N * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = ((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)) / N * 1000
    return wall, cpu


def proc_cpu(pid):
    """User + system CPU seconds of a live process (/proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_served(argv):
    """The same, each start a request to the spawn server (emperor-exec --serve) with /dev/null on
    0-2: the clone runs the helper's steps and execs argv, as the emperor's vassals start."""
    null = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server = os.posix_spawn(HELPER, [HELPER, "--serve", "3", str(os.getpid())], {},
                            file_actions=[(os.POSIX_SPAWN_DUP2, theirs.fileno(), 3)])
    theirs.close()
    if struct.unpack("=ii", ours.recv(8)) != (0, 0):  # ready: its set-up is done
        raise SystemExit("spawn server: no ready message")
    args = [HELPER, "--"] + argv
    msg = (struct.pack("=III", 0x53504d45, 1, 3) + struct.pack("=6i", 0, 0, 1, 0, 2, 0)
           + struct.pack("=I", len(args)) + b"".join(a.encode() + b"\0" for a in args))
    fds = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [null]))]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = proc_cpu(server)
    start = time.monotonic()
    for _ in range(N):
        ours.sendmsg([msg], fds)
        pid, err = struct.unpack("=ii", ours.recv(8))
        if err:
            sys.exit(f"spawn server: {os.strerror(err)}")
        _, status = os.waitpid(pid, 0)
        if status != 0:
            sys.exit(f"{argv}: exit status {status}")
    wall = (time.monotonic() - start) / N * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu = proc_cpu(server) - server_before
    cpu = ((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime) + server_cpu) / N * 1000
    ours.close()
    os.waitpid(server, 0)
    os.close(null)
    return wall, cpu


def main():
    if not os.access(HELPER, os.X_OK):
        sys.exit(f"{HELPER} missing: run mvn -B -q package -DskipTests first")
    with tempfile.TemporaryDirectory() as tmp:
        dyn, sta = build(tmp)
        ways = [("static no-op", run, [sta]), ("dynamic no-op", run, [dyn]),
                ("helper + dynamic no-op", run, [HELPER, "--", dyn]), ("helper + static no-op", run, [HELPER, "--", sta]),
                ("server + dynamic no-op", run_served, [dyn]), ("server + static no-op", run_served, [sta])]
        print(f"{N} starts each, one at a time; load {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        base = None
        for name, how, argv in ways:
            wall, cpu = how(argv)
            base = base or (wall, cpu)
            print(f"{name:24s} wall {wall:6.2f} ms ({wall / base[0]:.2f})   cpu {cpu:6.2f} ms ({cpu / base[1]:.2f})")


if __name__ == "__main__":
    main()
