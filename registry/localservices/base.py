"""What every local service shares: where its files live, the user it runs as, waiting for health.

The registry's own Postgres, Elasticsearch and Redis run from ignored folders under
`.local/` on loopback ports, so they never touch a system installation. Postgres and
Elasticsearch refuse to run as root, so when we are root they run as an unprivileged
system user created for the purpose.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

SERVICE_USER = "registry-svc"


class ServiceError(RuntimeError):
    """A local service could not be installed, started or reached."""


@dataclass(frozen=True)
class Layout:
    """Folders of the local services, all inside the (git-ignored) state folder."""

    root: Path  # the project folder

    @property
    def state(self) -> Path:
        if "REGISTRY_STATE_DIR" in os.environ:
            return Path(os.environ["REGISTRY_STATE_DIR"])
        local = self.root / ".local"
        if is_root() and not _traversable_by_others(self.root):
            # The service user could not reach .local inside, say, /root/...: keep the data
            # in a folder of its own, one per checkout, and point .local at it.
            digest = hashlib.sha1(str(self.root.resolve()).encode()).hexdigest()[:12]
            target = Path("/var/lib/account-registry") / digest
            target.mkdir(parents=True, exist_ok=True)
            target.parent.chmod(0o755)
            if not local.is_symlink() and not local.exists():
                local.symlink_to(target)
            return target
        return local

    @property
    def cache(self) -> Path:
        return Path(os.environ.get("REGISTRY_CACHE_DIR", self.root / ".cache"))

    @property
    def env_file(self) -> Path:
        return self.state / "services.env"

    def secret(self, name: str) -> str:
        """A password generated once per state folder and kept there (mode 0600)."""
        path = self.state / "secrets" / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(24))
            path.chmod(0o600)
        return path.read_text().strip()


def _traversable_by_others(path: Path) -> bool:
    return all(os.stat(p).st_mode & 0o001 for p in [path.resolve(), *path.resolve().parents])


def is_root() -> bool:
    return os.geteuid() == 0


def ensure_service_user() -> None:
    if not is_root():
        return
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER])


def give_to_service_user(*paths: Path) -> None:
    if not is_root():
        return
    for path in paths:
        run(["chown", "-R", f"{SERVICE_USER}:{SERVICE_USER}", str(path)])


def as_service_user(argv: Sequence[str]) -> list[str]:
    if is_root():
        return ["runuser", "-u", SERVICE_USER, "--", *argv]
    return list(argv)


def run(argv: Sequence[str], env: dict[str, str] | None = None, quiet: bool = True) -> str:
    result = subprocess.run(
        list(argv), env=env, capture_output=quiet, text=True, check=False
    )
    if result.returncode != 0:
        detail = (result.stderr or result.stdout or "").strip()
        raise ServiceError(f"{' '.join(argv)} failed ({result.returncode}): {detail[-2000:]}")
    return result.stdout or ""


def apt_install(*packages: str) -> None:
    if not is_root():
        raise ServiceError(f"{', '.join(packages)} missing; install them or run as root")
    if not shutil.which("apt-get"):
        raise ServiceError(f"{', '.join(packages)} missing and there is no apt-get here")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-qq"], env=env)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages], env=env)


def wait_until(check: Callable[[], bool], what: str, timeout: float, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - any failure only means "not ready yet"
            pass
        time.sleep(0.5)
    tail = ""
    if log is not None and log.exists():
        tail = "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-30:])
    raise ServiceError(f"{what} did not become healthy within {timeout:.0f}s{tail}")


def read_pid(pidfile: Path) -> int | None:
    try:
        pid = int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if pid_alive(pid) else None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    # A zombie has exited; only its parent has not collected it yet.
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


def stop_pid(pid: int, timeout: float = 30.0) -> None:
    """SIGTERM, then SIGKILL after the timeout: only ever the pid we recorded."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return
        time.sleep(0.2)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
