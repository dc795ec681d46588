"""Importing a package a second time, or one's own, says plainly what happened: nothing new, or not for here."""

from __future__ import annotations

import pytest

from app.services import packages, registry
from app.store.errors import StoreError
from tests.exchange.test_sync import local_counts


def test_a_package_imported_again_says_there_was_nothing_new(township, county_site, tmp_path):
    region = township.conn.execute("SELECT region_code FROM households LIMIT 1").fetchone()[0]
    registry.register_household(county_site, region, "县里登记的一户", registry.PersonInput("县登记", "340223199001011233"))
    out = tmp_path / "county.jzpkg"
    packages.export_package(county_site, out)
    first = packages.import_here(township, out)
    assert not first.nothing_new and not first.lines()[0].startswith("没有新内容")
    held = local_counts(township)
    again = packages.import_here(township, out)
    assert again.nothing_new and local_counts(township) == held
    assert again.lines()[0].startswith("没有新内容：包内") and "以前已导入过" in again.lines()[0]


def test_ones_own_package_is_refused_saying_why(township, county_site, tmp_path):
    out = tmp_path / "own.jzpkg"
    packages.export_package(township, out)
    with pytest.raises(StoreError, match="交换包未导入.*本站自己导出的交换包"):
        packages.import_here(township, out)
