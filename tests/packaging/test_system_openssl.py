"""psycopg's libpq runs on the system's OpenSSL through the bundle's stubs (packaging/system_openssl.py)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "packaging"))
import pgserver  # noqa: E402  (tests/, which conftest.py puts on the path)
import system_openssl  # noqa: E402

PROGRAM = r"""
import psycopg.pq as pq
maps = open("/proc/self/maps").read()
print(pq.__impl__, pq.version())
print(*sorted({line.split()[-1] for line in maps.splitlines() if "libcrypto" in line}))
"""


def psycopg_binary_dir() -> Path:
    spec = importlib.util.find_spec("psycopg_binary")  # importing it alone is refused: psycopg must come first
    if spec is None or not spec.origin:
        pytest.skip("psycopg-binary is not installed")
    return Path(spec.origin).parent


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A copy of psycopg-binary with the bundle's stubs in place of its OpenSSL."""
    if not all(shutil.which(tool) for tool in ("gcc", "readelf", "strip")):
        pytest.skip("no C compiler or binutils")
    package = psycopg_binary_dir()
    site = tmp_path_factory.mktemp("site")
    shutil.copytree(package, site / package.name)
    shutil.copytree(package.parent / "psycopg_binary.libs", site / "psycopg_binary.libs")
    libs = site / "psycopg_binary.libs"
    toc = [(f"psycopg_binary.libs/{p.name}", str(p), "BINARY") for p in sorted(libs.iterdir())]
    out = system_openssl.swapped(toc, tmp_path_factory.mktemp("work"))
    replaced = [(dest, src) for (dest, src, _), (_, before, _) in zip(out, toc) if src != before]
    assert sorted(Path(dest).name.split("-")[0] for dest, _ in replaced) == ["libcrypto", "libssl"]
    for dest, src in replaced:
        assert Path(src).stat().st_size < 100_000
        shutil.copyfile(src, site / dest)
    return site


def run_on(site: Path, program: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", program, *args], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(site)})


def test_libpq_loads_and_takes_openssl_from_the_system(site):
    run = run_on(site, PROGRAM)
    impl, loaded = run.stdout.splitlines()
    assert impl.startswith("binary ")
    # the system's OpenSSL answers; of the wheel's name only the stub is there
    names = {Path(path).name: Path(path) for path in loaded.split()}
    assert "libcrypto.so.3" in names, run.stdout
    assert all(path.stat().st_size < 100_000 for name, path in names.items() if name != "libcrypto.so.3")
    assert "no version information" not in run.stderr


TLS_PROGRAM = r"""
import sys
import psycopg
with psycopg.connect(sys.argv[1], sslmode="require") as conn:
    ssl, version = conn.execute("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
    print(conn.pgconn.ssl_in_use, ssl, version)
"""


def test_libpq_speaks_tls_through_the_system_openssl(site):
    problem = pgserver.available()
    if problem:
        if os.environ.get("JIUZHU_SKIP_PG") == "1":
            pytest.skip(problem)
        pytest.fail(problem)
    server = pgserver.PgServer(tls=True)
    try:
        run = run_on(site, TLS_PROGRAM, server.url)
    finally:
        server.close()
    client, server_side, protocol = run.stdout.split()
    assert (client, server_side) == ("True", "True") and protocol.startswith("TLSv1."), run.stdout


def test_a_psycopg_that_needs_a_newer_openssl_keeps_its_own(tmp_path, monkeypatch):
    monkeypatch.setattr(system_openssl, "needs", lambda library: {"OPENSSL_3.0.0", "OPENSSL_3.2.0"})
    toc = [("psycopg_binary.libs/libpq-e9b5c9ac.so.5.18", "/wheel/libpq", "BINARY"),
           ("psycopg_binary.libs/libssl-6a9b88ec.so.3", "/wheel/libssl", "BINARY"),
           ("psycopg_binary.libs/libcrypto-3a0647ea.so.3", "/wheel/libcrypto", "BINARY")]
    assert system_openssl.swapped(toc, tmp_path) == toc
