"""The 同步与交换 page: what waits, a sync with progress to a real county database, packages out and in."""

from __future__ import annotations

import psycopg

from app.services import registry
from tests.exchange.conftest import register
from tests.gui.test_app import idle, shot, window  # noqa: F401 - the window fixture
from PySide6.QtWidgets import QMessageBox  # noqa: E402 - after the offscreen platform is chosen


def test_sync_page_shows_pending_then_syncs_and_exports(qtbot, window, county_site, county_url, tmp_path):  # noqa: F811
    register(county_site, county_url, window.session)
    registry.register_household(window.session, "340223100201", "张家",
                                registry.PersonInput("张三", "340223198001010017"))
    window.go(window.exchange)
    idle(qtbot)
    view = window.exchange
    assert "人员 1 条" in view.pending.text() and "家庭 1 条" in view.pending.text()
    assert view.last_sync.text().startswith("从未")
    view.url.setText(county_url)
    view.sync_button.click()
    qtbot.waitUntil(lambda: view.sync_button.isEnabled(), timeout=30_000)
    idle(qtbot)
    assert view.status.text().startswith("同步完成"), view.status.text()
    assert "都已送到县里" in view.pending.text()
    with psycopg.connect(county_url) as pg:
        assert pg.execute("SELECT name FROM persons").fetchall() == [("张三",)]
    # The comparison with the county after the sync: both hold the one household and its one person.
    assert view.compared.isVisible() and view.compare_summary.text().startswith("与县级数据库核对一致")
    rows = {view.compare_table.item(i, 0).text(): [view.compare_table.item(i, j).text() for j in range(1, 8)]
            for i in range(view.compare_table.rowCount())}
    assert rows["人员"] == ["1", "1", "0", "0", "0", "0", "0"]
    shot(window, "exchange")
    view.export_to(tmp_path / "p.jzpkg")
    idle(qtbot)
    assert "已导出" in view.package_result.text() and (tmp_path / "p.jzpkg").exists()


def test_a_bad_address_is_reported_on_the_page(qtbot, window):  # noqa: F811
    window.go(window.exchange)
    view = window.exchange
    view.url.setText("postgresql://nobody@127.0.0.1:1/none")
    view.sync_button.click()
    qtbot.waitUntil(lambda: view.sync_button.isEnabled(), timeout=30_000)
    assert "连不上县级数据库" in view.status.text()


def test_importing_a_damaged_package_says_so(qtbot, window, tmp_path, monkeypatch):  # noqa: F811
    # The refusal is also put in a dialog (a line on the page alone was missed): caught here, as a person reads it.
    shown: list[str] = []
    for kind in ("warning", "critical"):
        monkeypatch.setattr(QMessageBox, kind, lambda parent, title, text, *a, **k: shown.append(text))
    bad = tmp_path / "bad.jzpkg"
    bad.write_bytes(b"PK\x03\x04 broken")
    window.go(window.exchange)
    window.exchange.import_from(bad)
    idle(qtbot)
    assert "没有签名和加密" in window.exchange.package_result.text()
    assert len(shown) == 1 and "没有签名和加密" in shown[0]


def test_a_chain_shorter_than_the_county_saw_is_shown_and_nothing_is_pushed(qtbot, window, county_site,  # noqa: F811
                                                                            county_url):
    register(county_site, county_url, window.session)
    from app.exchange.records import site_id

    registry.register_household(window.session, "340223100201", "张家",
                                registry.PersonInput("张三", "340223198001010017"))
    count = window.session.conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    with psycopg.connect(county_url, autocommit=True) as pg:  # the county saw more of this site than it now holds
        pg.execute("INSERT INTO audit_heads (site_id, count, hash, via) VALUES (%s, %s, %s, 'sync')",
                   (site_id(window.session.conn), count + 5, "a" * 64))
    window.go(window.exchange)
    view = window.exchange
    view.url.setText(county_url)
    view.sync_button.click()
    qtbot.waitUntil(lambda: view.sync_button.isEnabled(), timeout=30_000)
    idle(qtbot)
    assert view.status.text().startswith("同步未完成：未送出本站的记录：本机审计日志比县级数据库于"), view.status.text()
    assert f"已有 {count + 5} 条" in view.status.text()
    with psycopg.connect(county_url) as pg:
        assert pg.execute("SELECT count(*) FROM persons").fetchone()[0] == 0


def test_the_registered_sites_show_their_jurisdiction_and_warn_of_those_registered_without(qtbot, window):  # noqa: F811
    from datetime import datetime

    box = window.exchange.keys
    at = datetime(2026, 1, 5, 9, 30)
    site = {"fingerprint": "f" * 39, "registered_at": at, "registered_by": "admin", "revoked_at": None,
            "revoked_by": None, "revoked_reason": None}
    box._show_sites([{**site, "site_id": "a", "name": "南陵县籍山镇", "jurisdiction": "340223100"},
                     {**site, "site_id": "b", "name": "南陵县许镇镇", "jurisdiction": None}])
    assert box.sites.item(0, 2).text() == "340223100（籍山镇）"
    assert box.sites.item(1, 2).text().startswith("未登记辖区")
    assert "1 个站点登记时没有写明辖区（南陵县许镇镇）" in box.site_warning.text()
    box._show_sites([{**site, "site_id": "a", "name": "南陵县籍山镇", "jurisdiction": "340223100"}])
    assert box.site_warning.text() == ""


def test_registering_a_site_asks_its_jurisdiction_starting_from_the_cards_claim(qtbot, window, tmp_path,  # noqa: F811
                                                                               monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    from app.exchange import keys
    from app.gui import files
    from app.services import site_keys

    card = keys.PublicKeys("site-1", b"s" * 32, b"e" * 32, "南陵县籍山镇", "340223100")
    keys.write_card(card, tmp_path / "card.json")
    asked, registered = [], []
    monkeypatch.setattr(files, "open_path", lambda *a: str(tmp_path / "card.json"))
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Yes)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: asked.append(k.get("text")) or ("340223100", True))
    monkeypatch.setattr(site_keys, "register_site", lambda s, url, c, code: registered.append((c, code)) or {"家庭": 2})
    box = window.exchange.keys
    window.exchange.url.setText("postgresql://county@127.0.0.1/none")
    monkeypatch.setattr(box, "load_sites", lambda: None)
    box.register()
    qtbot.waitUntil(lambda: "已登记站点" in box.result.text(), timeout=10_000)
    assert asked == ["340223100"] and registered == [(card, "340223100")]
    assert "辖区 340223100（籍山镇）" in box.result.text() and "家庭 2 条" in box.result.text()
