"""The project's own PostgreSQL cluster, from Debian's server packages, on a loopback port."""

from __future__ import annotations

import glob
import os
from pathlib import Path

from registry.localservices.base import (
    Layout,
    ServiceError,
    apt_install,
    as_service_user,
    ensure_service_user,
    give_to_service_user,
    is_root,
    read_pid,
    run,
    wait_until,
)

DB_NAME = "registry"
# The owner of the schema: migrations and audit pruning connect as it.
DB_USER = "registry"
# The application and the worker log in as this role, a member of `registry_app` (migration
# 0002), which may not UPDATE or DELETE the audit log: only the trigger would stop the owner.
APP_LOGIN = "registry_web"
APP_GROUP = "registry_app"


def port() -> int:
    return int(os.environ.get("REGISTRY_PG_PORT", "54329"))


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_major, reverse=True)
    return Path(found[0]).parent if found else None


def _major(path: str) -> int:
    return int(Path(path).parts[-3])


def ensure_installed() -> Path:
    if _bindir() is None:
        # Debian's package would create and start a system cluster on 5432; we want only ours.
        conf = Path("/etc/postgresql-common/createcluster.conf")
        conf.parent.mkdir(parents=True, exist_ok=True)
        if not conf.exists():
            conf.write_text("create_main_cluster = false\n")
        apt_install("postgresql")
    bindir = _bindir()
    if bindir is None:
        raise ServiceError("PostgreSQL server binaries not found after installing 'postgresql'")
    return bindir


class Postgres:
    name = "postgres"

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.home = layout.state / "postgres"
        self.data = self.home / "data"
        self.log = self.home / "postgres.log"

    @property
    def url(self) -> str:
        """The application's URL (the login role in `registry_app`)."""
        password = self.layout.secret("postgres-app")
        return f"postgresql+psycopg://{APP_LOGIN}:{password}@127.0.0.1:{port()}/{DB_NAME}"

    @property
    def owner_url(self) -> str:
        password = self.layout.secret("postgres")
        return f"postgresql+psycopg://{DB_USER}:{password}@127.0.0.1:{port()}/{DB_NAME}"

    @property
    def extra_env(self) -> dict[str, str]:
        return {"REGISTRY_MIGRATE_DATABASE_URL": self.owner_url}

    def pid(self) -> int | None:
        return read_pid(self.data / "postmaster.pid")

    def up(self) -> None:
        bindir = ensure_installed()
        ensure_service_user()
        self.home.mkdir(parents=True, exist_ok=True)
        if not (self.data / "PG_VERSION").exists():
            self._initdb(bindir)
        if self.pid() is None:
            self._start(bindir)
        wait_until(lambda: self._ready(bindir), "PostgreSQL", 60, self.log)
        self._ensure_database(bindir)
        self._ensure_app_login()

    def _initdb(self, bindir: Path) -> None:
        pwfile = self.home / "pwfile"
        pwfile.write_text(self.layout.secret("postgres") + "\n")
        give_to_service_user(self.home)
        run(as_service_user([
            str(bindir / "initdb"), "-D", str(self.data), "-U", DB_USER, "--pwfile", str(pwfile),
            "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8",
            "--locale=C.UTF-8",
        ]))
        pwfile.unlink()

    def _start(self, bindir: Path) -> None:
        # Sockets stay in our own folder: /var/run/postgresql may not exist or belong to us.
        options = f"-c listen_addresses=127.0.0.1 -p {port()} -k {self.home}"
        options += " -c max_connections=200 -c shared_buffers=256MB -c fsync=on"
        give_to_service_user(self.home)
        run(as_service_user([
            str(bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
            "-o", options, "-w", "-t", "60", "start",
        ]))

    def _ready(self, bindir: Path) -> bool:
        out = run([str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port())])
        return "accepting connections" in out

    def _ensure_database(self, bindir: Path) -> None:
        env = dict(os.environ, PGPASSWORD=self.layout.secret("postgres"))
        psql = [str(bindir / "psql"), "-h", "127.0.0.1", "-p", str(port()), "-U", DB_USER, "-tA"]
        exists = run([*psql, "-d", "postgres", "-c",
                      f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'"], env=env)
        if exists.strip() != "1":
            run([*psql, "-d", "postgres", "-c", f"CREATE DATABASE {DB_NAME}"], env=env)

    def _ensure_app_login(self) -> None:
        """Create (or re-password) the application's login role. Roles are cluster-wide, so
        every database of the cluster, the tests' too, sees the same one."""
        import psycopg
        from psycopg import sql

        exists = ("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{0}') "
                  "THEN CREATE ROLE {0} {1}; END IF; END $$")
        with psycopg.connect(self.owner_url.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(exists.format(APP_GROUP, "NOLOGIN").encode())
            conn.execute(exists.format(APP_LOGIN, "LOGIN").encode())
            conn.execute(sql.SQL("ALTER ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT "
                                 "PASSWORD {}").format(sql.Identifier(APP_LOGIN),
                                                       sql.Literal(self.layout.secret("postgres-app"))))
            conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(APP_GROUP),
                                                         sql.Identifier(APP_LOGIN)))

    def down(self) -> None:
        bindir = _bindir()
        if bindir is None or self.pid() is None:
            return
        run(as_service_user([str(bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]))

    def status(self) -> str:
        pid = self.pid()
        return f"running (pid {pid}, 127.0.0.1:{port()})" if pid else "stopped"


__all__ = ["Postgres", "is_root"]
