"""Shared test set-up: the core is tested without a display; a real PostgreSQL server for the exchange tests."""

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# QSettings (window layout) must not write into the developer's own configuration.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="jiuzhu-test-config-")
# Nor may the developer's own county policy folder (the data folder's policies/) change what the tests load.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="jiuzhu-test-data-")


import pgserver  # noqa: E402
import pytest  # noqa: E402


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
