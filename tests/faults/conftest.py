"""The demo county the fault tests start from (built once per run through the real command line), and the
hypothesis profile of the fuzz tests."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from .killing import cli

HOUSEHOLDS = 300


@pytest.fixture(scope="session")
def demo_county(tmp_path_factory):
    db = tmp_path_factory.mktemp("demo-county") / "county.sqlite3"
    code, out, err = cli("demo", "--households", str(HOUSEHOLDS), "--year", "2025", "--seed", "2026", "--quiet", "--db", str(db))
    assert code == 0, err
    return db


# Fuzzing: a moderate number of examples in the suite; JIUZHU_FUZZ=deep for a long hunt before a release.
settings.register_profile("faults", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("faults-deep", parent=settings.get_profile("faults"), max_examples=3000)
FUZZ = settings.get_profile("faults-deep" if os.environ.get("JIUZHU_FUZZ") == "deep" else "faults")
