#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Plays the service manager's side of sd_notify and socket activation for pod-stage1 on a
host without systemd (tests/integration/notify.sh).  Runs STAGE1 UUID in PODDIR holding the
pod lock as stage0 does, as the process that received the environment (so LISTEN_PID and
the notify sender's PID are stage1's).

  sd-harness.py notify STAGE1 UUID PODDIR
      NOTIFY_SOCKET set; prints every datagram received as "stage1 LINE" (sender is stage1)
      or "other PID LINE", then "exit STATUS".
  sd-harness.py listen STAGE1 UUID PODDIR NAMES [wrong-pid]
      one TCP listening socket per ':'-separated name in NAMES on fds 3, 4, ...; connects
      to the first, prints "reply TEXT" (what the app answered), then "exit STATUS".
"""
import fcntl
import os
import select
import socket
import struct
import sys
import time


def out(*words):
    """One write per line: the pod's apps share this stdout."""
    sys.stdout.write(" ".join(str(w) for w in words) + "\n")
    sys.stdout.flush()


def spawn(stage1, uuid, poddir, env, keep_fds=()):
    pid = os.fork()
    if pid == 0:
        try:
            os.chdir(poddir)
            lock = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
            fcntl.flock(lock, fcntl.LOCK_EX)
            if keep_fds:
                lock2 = fcntl.fcntl(lock, fcntl.F_DUPFD, 200)
                os.close(lock)
                lock = lock2
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in keep_fds]
            for i, fd in enumerate(high):
                os.dup2(fd, 3 + i, inheritable=True)
                os.close(fd)
            os.set_inheritable(lock, True)
            e = dict(os.environ)
            e.update(env(os.getpid()))
            e["POD_LOCK_FD"] = str(lock)
            os.execve(stage1, [stage1, uuid], e)
        finally:
            os._exit(99)
    return pid


def wait_exit(pid, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        p, ws = os.waitpid(pid, os.WNOHANG)
        if p == pid:
            return os.waitstatus_to_exitcode(ws)
        time.sleep(0.05)
    os.kill(pid, 9)
    _, ws = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(ws)


def notify(stage1, uuid, poddir):
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), "sd-harness-%d.sock" % os.getpid())
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    s.bind(path)
    pid = spawn(stage1, uuid, poddir, lambda _: {"NOTIFY_SOCKET": path})
    status = None
    deadline = time.time() + 60
    while time.time() < deadline:
        r, _, _ = select.select([s], [], [], 0.1)
        if r:
            msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
            sender = None
            for level, typ, data in anc:
                if level == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
                    sender = struct.unpack("iII", data[:12])[0]
            who = "stage1" if sender == pid else "other %s" % sender
            for line in msg.decode(errors="replace").split("\n"):
                out(who, line)
            continue
        if status is None:
            p, ws = os.waitpid(pid, os.WNOHANG)
            if p == pid:
                status = os.waitstatus_to_exitcode(ws)
                deadline = time.time() + 0.5  # drain what is left
    if status is None:
        status = wait_exit(pid, 0)
    os.unlink(path)
    out("exit", status)


def listen(stage1, uuid, poddir, names, wrong_pid):
    socks = []
    for _ in names.split(":"):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        t.listen(8)
        socks.append(t)
    port = socks[0].getsockname()[1]

    def env(mypid):
        return {"LISTEN_FDS": str(len(socks)), "LISTEN_FDNAMES": names,
                "LISTEN_PID": str(mypid + 1 if wrong_pid else mypid)}

    pid = spawn(stage1, uuid, poddir, env, [t.fileno() for t in socks])
    for t in socks:
        t.close()
    reply = b""
    deadline = time.time() + 60
    while time.time() < deadline:
        p, ws = os.waitpid(pid, os.WNOHANG)
        if p == pid:
            out("exit", os.waitstatus_to_exitcode(ws))
            return
        try:
            c = socket.create_connection(("127.0.0.1", port), timeout=30)
            reply = c.recv(4096)
            c.close()
            break
        except OSError:
            time.sleep(0.1)
    out("reply", reply.decode(errors="replace").strip())
    out("exit", wait_exit(pid))


def main():
    mode = sys.argv[1]
    if mode == "notify":
        notify(*sys.argv[2:5])
    elif mode == "listen":
        listen(*sys.argv[2:6], len(sys.argv) > 6 and sys.argv[6] == "wrong-pid")
    else:
        sys.exit(2)


if __name__ == "__main__":
    main()
