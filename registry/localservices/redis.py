"""Debian's redis-server on loopback: rate-limit counters shared by every worker process."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

from registry.localservices.base import (
    Layout,
    ServiceError,
    apt_install,
    as_service_user,
    ensure_service_user,
    give_to_service_user,
    read_pid,
    run,
    stop_pid,
    wait_until,
)


def port() -> int:
    return int(os.environ.get("REGISTRY_REDIS_PORT", "56379"))


class Redis:
    name = "redis"

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.home = layout.state / "redis"
        self.pidfile = self.home / "redis.pid"
        self.log = self.home / "redis.log"

    @property
    def url(self) -> str:
        return f"redis://:{self.layout.secret('redis')}@127.0.0.1:{port()}/0"

    def pid(self) -> int | None:
        return read_pid(self.pidfile)

    def up(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(binary).exists():
            apt_install("redis-server")
        ensure_service_user()
        self.home.mkdir(parents=True, exist_ok=True)
        conf = self.home / "redis.conf"
        # Counters only: nothing here must survive a restart, so no snapshots to disk.
        conf.write_text("\n".join([
            "bind 127.0.0.1", f"port {port()}", "daemonize yes", f"pidfile {self.pidfile}",
            f"logfile {self.log}", f"dir {self.home}", 'save ""', "appendonly no",
            f"requirepass {self.layout.secret('redis')}", "protected-mode yes",
        ]) + "\n")
        conf.chmod(0o600)
        give_to_service_user(self.home)
        if self.pid() is None:
            run(as_service_user([binary, str(conf)]))
        wait_until(self._ping, "Redis", 30, self.log)

    def _ping(self) -> bool:
        with socket.create_connection(("127.0.0.1", port()), timeout=2) as conn:
            conn.sendall(f"AUTH {self.layout.secret('redis')}\r\nPING\r\n".encode())
            reply = conn.recv(64)
        if b"WRONGPASS" in reply:
            raise ServiceError("Redis on our port does not take our password")
        return b"+PONG" in reply

    def down(self) -> None:
        pid = self.pid()
        if pid is not None:
            stop_pid(pid)

    def status(self) -> str:
        pid = self.pid()
        return f"running (pid {pid}, 127.0.0.1:{port()})" if pid else "stopped"
