"""Shared test set-up: the core is tested without a display; a real PostgreSQL server for the exchange tests.

JIUZHU_TEST_NOW=2026-12-03T00:30 (county-local time) runs the suite on a clock started at that instant, e.g. to
check that nothing reads the machine's date in the first hours of a Beijing day; TZ= sets the machine's zone.
"""

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# QSettings (window layout) must not write into the developer's own configuration.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="jiuzhu-test-config-")
# Nor may the developer's own county policy folder (the data folder's policies/) change what the tests load.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="jiuzhu-test-data-")


from datetime import datetime  # noqa: E402

import pgserver  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# The suite's own run tries the same examples every time, so that a run on a fresh machine (CI) never fails on an
# example no earlier run met; `pytest --hypothesis-profile=explore` searches afresh (every bug found that way so far
# was real: keep the example it finds as a test).
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("repeatable")

from app.store import clock  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def suite_clock():
    """The clock the suite runs on: the machine's, or JIUZHU_TEST_NOW's, running on from there."""
    at = os.environ.get("JIUZHU_TEST_NOW")
    if not at:
        yield
        return
    # Ticking, not standing still: tests compare the stamps of successive writes.
    with clock.freeze(datetime.fromisoformat(at), ticking=True):
        yield


@pytest.fixture(scope="session")
def pg():
    problem = pgserver.available()
    if problem:
        if os.environ.get("JIUZHU_SKIP_PG") == "1":
            pytest.skip(problem)
        pytest.fail(f"{problem}；这些测试需要真实的 PostgreSQL（设 JIUZHU_SKIP_PG=1 可跳过）")
    server = pgserver.PgServer()
    yield server
    server.close()
