"""Fuzzing the exchange-package reader: any damage to a real package is refused whole with the package's message."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.exchange import package
from app.exchange.county_db import local_entities
from app.services import packages, registry
from app.services.session import SYSTEM, Session
from app.store.errors import StoreError
from app.store.store import open_store

from tests.exchange.sealing import export_inner

from .conftest import FUZZ

pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> bytes:
    folder = tmp_path_factory.mktemp("package")
    session = Session(open_store(folder / "site.sqlite3", daily_backup=False), SYSTEM)
    for n in range(5):
        registry.register_household(session, "340223100201", f"第 {n} 户",
                                    registry.PersonInput(f"张{n}", f"34022319800101{n:03d}" + _digit(n)))
    path = folder / "p.jzpkg"
    export_inner(session, path)  # the package inside its envelope: its own checks are what is fuzzed here
    session.store.close()
    return path.read_bytes()


def _digit(n: int) -> str:
    from app.domain.idnumber import check_digit

    return check_digit(f"34022319800101{n:03d}")


def _read(data: bytes, tmp_path) -> None:
    path = tmp_path / "x.jzpkg"
    path.write_bytes(data)
    pkg = package.open_package(path, local_entities())
    for info in pkg.manifest["files"].values():
        if "table" in info:
            for _ in pkg.records(info["table"]):
                pass


@FUZZ
@given(data=st.data())
def test_any_damage_is_refused_with_a_message(good, tmp_path_factory, data):
    tmp_path = tmp_path_factory.mktemp("fuzz")
    kind = data.draw(st.sampled_from(["flip", "truncate", "insert", "random"]))
    raw = bytearray(good)
    if kind == "flip":
        for _ in range(data.draw(st.integers(1, 8))):
            at = data.draw(st.integers(0, len(raw) - 1))
            raw[at] ^= data.draw(st.integers(1, 255))
    elif kind == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    elif kind == "insert":
        at = data.draw(st.integers(0, len(raw)))
        raw[at:at] = data.draw(st.binary(min_size=1, max_size=64))
    else:
        raw = bytearray(data.draw(st.binary(max_size=4096)))
    try:
        _read(bytes(raw), tmp_path)
    except StoreError as exc:
        assert "交换包" in str(exc) or "找不到" in str(exc)
    else:
        # Only a change the zip format itself ignores (its comment, padding) may pass, and then every record is intact.
        with zipfile.ZipFile(tmp_path / "x.jzpkg") as a, zipfile.ZipFile(io.BytesIO(good)) as b:
            for name in b.namelist():
                assert a.read(name) == b.read(name)
