"""The demo county the fault tests start from, built once per run through the real command line."""

from __future__ import annotations

import pytest

from .killing import cli

HOUSEHOLDS = 300


@pytest.fixture(scope="session")
def demo_county(tmp_path_factory):
    db = tmp_path_factory.mktemp("demo-county") / "county.sqlite3"
    code, out, err = cli("demo", "--households", str(HOUSEHOLDS), "--year", "2025", "--quiet", "--db", str(db))
    assert code == 0, err
    return db
