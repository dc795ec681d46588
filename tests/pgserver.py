"""A throwaway PostgreSQL server from the system's binaries, for the tests and the benchmarks."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    # Debian keeps the server programs out of PATH, one folder per major version.
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    return candidates[-1] if candidates else None


def available() -> str | None:
    """Why a server cannot be started here, or None if it can."""
    if not _binary("initdb") or not _binary("pg_ctl"):
        return "找不到 PostgreSQL 的 initdb / pg_ctl（Debian: apt-get install postgresql）"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "以 root 运行时需要系统用户 postgres 来启动服务器"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """initdb into a temporary folder, start on a free loopback port, stop and remove on close."""

    def __init__(self, tls: bool = False) -> None:
        """`tls`: the server speaks TLS only, with a self-signed certificate (libpq's default sslmode takes it)."""
        problem = available()
        if problem:
            raise RuntimeError(problem)
        self.dir = Path(tempfile.mkdtemp(prefix="jiuzhu-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        # PostgreSQL refuses to run as root; the Debian package's postgres user runs it then.
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            os.chmod(self.dir, 0o755)
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(_binary("initdb"), "-D", str(self.data), "-A", "trust", "-U", "jiuzhu", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        opts = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=50")
        if tls:
            # made by the server's own user: PostgreSQL refuses a key others may read
            self._run("openssl", "req", "-new", "-x509", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                      "-newkey", "rsa:2048", "-keyout", str(self.data / "server.key"),
                      "-out", str(self.data / "server.crt"))
            opts += " -c ssl=on"
            # TCP clients without TLS are turned away, so a client that did not use it fails rather than passes
            hba = self.data / "pg_hba.conf"
            self._run("sed", "-i", r"s/^host\(\s\)/hostssl\1/", str(hba))
        self._run(_binary("pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.dir / "log"), "-w", "start")
        self.url = f"postgresql://jiuzhu@127.0.0.1:{self.port}/postgres"

    def _run(self, *cmd: str) -> None:
        result = subprocess.run([*self._as, *cmd], capture_output=True, text=True)
        if result.returncode:
            raise RuntimeError(f"{' '.join(cmd)} failed: {result.stdout}{result.stderr}")

    def database(self, name: str) -> str:
        """A new empty database on this server; its URL."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://jiuzhu@127.0.0.1:{self.port}/{name}"

    def close(self) -> None:
        try:
            self._run(_binary("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
