"""The real Elasticsearch server, fetched from Maven Central with Maven and run on loopback.

Maven Central serves the `integ-test-zip` distribution, which carries only the server's own
analysers (no analysis-common, ICU or phonetic modules); the registry analyses names in
Python, so it needs none of them.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import urllib.request
import zipfile
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

# The newest 9.x that Maven Central served as integ-test-zip when this was written
# (its maven-metadata.xml lists only 8.x, but 9.2.0 resolves by coordinates).
VERSION = os.environ.get("REGISTRY_ES_VERSION", "9.2.0")
ARTIFACT = "org.elasticsearch.distribution.integ-test-zip:elasticsearch:{version}:zip"
MIN_JAVA = 21


def port() -> int:
    return int(os.environ.get("REGISTRY_ES_PORT", "59200"))


def find_java_home() -> Path:
    """A JDK new enough for Elasticsearch 9 (the machine has Temurin 25 beside OpenJDK 17)."""
    candidates = [os.environ.get("ES_JAVA_HOME", ""), *glob.glob("/usr/lib/jvm/*")]
    best: tuple[int, Path] | None = None
    for home in filter(None, candidates):
        release = Path(home) / "release"
        if not (Path(home) / "bin" / "java").exists() or not release.exists():
            continue
        match = re.search(r'JAVA_VERSION="(\d+)', release.read_text())
        if match and int(match.group(1)) >= MIN_JAVA and (best is None or int(match.group(1)) > best[0]):
            best = (int(match.group(1)), Path(home))
    if best is None:
        raise ServiceError(f"Elasticsearch {VERSION} needs a JDK {MIN_JAVA} or newer; none in /usr/lib/jvm")
    return best[1]


class Elasticsearch:
    name = "elasticsearch"

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.home = layout.state / "elasticsearch"
        self.install_dir = self.home / f"elasticsearch-{VERSION}"
        self.pidfile = self.home / "es.pid"
        self.log = self.home / "logs" / "registry.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{port()}"

    def pid(self) -> int | None:
        return read_pid(self.pidfile)

    def up(self) -> None:
        ensure_service_user()
        if not (self.install_dir / "bin" / "elasticsearch").exists():
            self._unpack(self._fetch())
        self._configure()
        if self.pid() is None:
            self._start()
        # A cold JVM on two cores needs most of a minute.
        wait_until(self._healthy, "Elasticsearch", 180, self.log)

    def _fetch(self) -> Path:
        target = self.layout.cache / f"elasticsearch-{VERSION}.zip"
        if target.exists():
            return target
        if not shutil.which("mvn"):
            apt_install("maven")
        self.layout.cache.mkdir(parents=True, exist_ok=True)
        print(f"fetching Elasticsearch {VERSION} from Maven Central ...", flush=True)
        run(["mvn", "-q", "-B", "dependency:copy", f"-Dartifact={ARTIFACT.format(version=VERSION)}",
             f"-DoutputDirectory={self.layout.cache}"], quiet=True)
        if not target.exists():
            raise ServiceError(f"Maven did not produce {target}")
        return target

    def _unpack(self, archive: Path) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(self.home)
        for script in (self.install_dir / "bin").iterdir():
            script.chmod(0o755)
        for jdk_bin in self.install_dir.glob("jdk/bin/*"):
            jdk_bin.chmod(0o755)

    def _configure(self) -> None:
        data, logs = self.home / "data", self.home / "logs"
        data.mkdir(parents=True, exist_ok=True)
        logs.mkdir(parents=True, exist_ok=True)
        settings = {
            "cluster.name": "registry",
            "node.name": "registry-local",
            "path.data": str(data),
            "path.logs": str(logs),
            "network.host": "127.0.0.1",
            "http.port": port(),
            "transport.port": port() + 100,
            "discovery.type": "single-node",
            # Loopback-only development node; the docker-compose deployment turns security on.
            "xpack.security.enabled": False,
            # A nearly full developer disk must not turn the index read-only under the tests.
            "cluster.routing.allocation.disk.threshold_enabled": False,
            "action.destructive_requires_name": False,
        }
        config = "\n".join(f"{key}: {json.dumps(value)}" for key, value in settings.items())
        (self.install_dir / "config" / "elasticsearch.yml").write_text(config + "\n")
        give_to_service_user(self.home)

    def _start(self) -> None:
        env = dict(os.environ)
        env["ES_JAVA_HOME"] = str(find_java_home())
        heap = os.environ.get("REGISTRY_ES_HEAP", "1g")
        env["ES_JAVA_OPTS"] = f"-Xms{heap} -Xmx{heap}"
        env["ES_TMPDIR"] = str(self.home / "tmp")
        (self.home / "tmp").mkdir(exist_ok=True)
        give_to_service_user(self.home / "tmp")
        argv = as_service_user([str(self.install_dir / "bin" / "elasticsearch"), "-d", "-p", str(self.pidfile)])
        if argv[0] == "runuser":
            # runuser would drop the variables above; --preserve-environment keeps them.
            argv = ["runuser", "--preserve-environment", *argv[1:]]
        with open(self.home / "startup.log", "w") as out:
            result = subprocess.run(argv, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
        if result.returncode != 0:
            tail = (self.home / "startup.log").read_text(errors="replace")[-3000:]
            raise ServiceError(f"Elasticsearch failed to start ({result.returncode}):\n{tail}")

    def _healthy(self) -> bool:
        url = f"{self.url}/_cluster/health?wait_for_status=yellow&timeout=1s"
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.load(response).get("status") in ("green", "yellow")

    def down(self) -> None:
        pid = self.pid()
        if pid is not None:
            stop_pid(pid, timeout=60)

    def status(self) -> str:
        pid = self.pid()
        return f"running (pid {pid}, {self.url})" if pid else "stopped"
