"""The county keeps every audit head a site showed it; a site whose chain lost or changed what the county saw (an
older copy put back, a WAL file deleted after a crash) is told so by `audit verify --county-url` and by sync, which
then pulls but does not push."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import psycopg
import pytest

from app.exchange import package
from app.exchange.records import site_id
from app.services import packages, sync
from app.services.session import SYSTEM, Session
from app.store.errors import StoreError
from app.store.store import open_store
from tests.exchange.conftest import reseal, unsealed
from tests.exchange.test_sync import county_counts
from tests.faults.killing import AS_ADMIN, CAN_KILL, ROOT, cli
from tests.store.anchoring import audit_count, put_back, record_bills, snapshot

WORKER = Path(__file__).with_name("anchor_worker.py")


def heads(url: str, site: str) -> list[tuple]:
    with psycopg.connect(url) as pg:
        return pg.execute("SELECT count, hash, via, package_id FROM audit_heads WHERE site_id = %s ORDER BY id",
                          (site,)).fetchall()


def verify(db: Path, url: str) -> tuple[int, str, str]:
    return cli("audit", "verify", "--db", str(db), "--county-url", url)


def test_sync_more_bills_sync_reports_nothing_and_the_county_keeps_each_head(township, county_url):
    first = sync.sync(township, county_url)
    record_bills(township, 3, "A")
    second = sync.sync(township, county_url)
    assert first.anchor == second.anchor == []
    kept = heads(county_url, site_id(township.conn))
    assert [h[2] for h in kept] == ["sync", "sync"] and kept[0][0] < kept[1][0]
    last = township.conn.execute("SELECT hash FROM audit_log WHERE seq = ?", (kept[1][0],)).fetchone()[0]
    assert kept[1][1] == last
    code, out, err = verify(township.store.path, county_url)
    assert code == 0 and "与县级数据库核对无误" in out and f"见到本站审计日志 {kept[1][0]} 条" in out, err


@pytest.mark.parametrize("bills_after", [0, 12], ids=["shorter", "rewritten"])
def test_an_older_copy_put_back_after_a_sync_is_reported_and_not_pushed_over(township, county_url, tmp_path,
                                                                             bills_after):
    db = township.store.path
    older = snapshot(township.conn, tmp_path / "older.sqlite3")
    record_bills(township, 3, "A")
    sync.sync(township, county_url)
    seen = heads(county_url, site_id(township.conn))[-1][0]
    township.store.close()
    put_back(older, db)
    again = Session(open_store(db, daily_backup=False), SYSTEM)
    record_bills(again, bills_after, "B")
    assert (audit_count(db) < seen) == (bills_after == 0)
    word, said = ("短", f"已有 {seen} 条") if bills_after == 0 else ("不一致", f"当时第 {seen} 条的校验值")
    code, out, err = verify(db, county_url)
    assert code == 1 and "县级数据库于" in err and f"所见的{word}" in err and said in err, err
    there = county_counts(county_url)
    report = sync.sync(again, county_url)
    assert report.anchor and word in report.anchor[0] and report.pushed == {}
    assert report.lines()[0].startswith("未送出本站的记录：")
    assert county_counts(county_url) == there, "nothing of the older copy was pushed over the county's"
    assert sync.state(again)["pushed_change"] == 0 and not sync.state(again).get("push")
    code, out, err = cli("sync", *AS_ADMIN, "--db", str(db), "--county-url", county_url)
    assert code == 1 and "未送出本站的记录" in out
    again.store.close()


@pytest.mark.skipif(not CAN_KILL, reason="SIGKILL is POSIX")
def test_a_wal_file_deleted_after_a_crash_is_reported(township, county_url):
    sync.sync(township, county_url)
    db, me = township.store.path, site_id(township.conn)
    township.store.close()  # the last connection: its close checkpoints, so the file holds all of it
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.Popen([sys.executable, str(WORKER), str(db), county_url], cwd=ROOT, env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    said = []
    try:
        for line in proc.stdout:  # wait for the worker's own progress, not for a time
            said.append(line)
            if line.strip() == "recorded":
                break
        assert said and said[-1].strip() == "recorded", "".join(said)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=60)
    wal = db.with_name(db.name + "-wal")
    assert wal.stat().st_size > 0, "the worker's bills are in the WAL only"
    seen = heads(county_url, me)[-1][0]
    wal.unlink()
    db.with_name(db.name + "-shm").unlink(missing_ok=True)
    assert audit_count(db) < seen
    code, out, err = verify(db, county_url)
    assert code == 1 and "本机审计日志比县级数据库于" in err and f"已有 {seen} 条" in err and "WAL" in err
    code, out, err = cli("sync", *AS_ADMIN, "--db", str(db), "--county-url", county_url)
    assert code == 1 and "未送出本站的记录" in out and f"已有 {seen} 条" in out


def test_a_packages_head_is_kept_at_the_county_once_and_a_rollback_past_it_is_reported(township, county_site, county_url,
                                                                                       tmp_path):
    db = township.store.path
    older = snapshot(township.conn, tmp_path / "older.sqlite3")
    record_bills(township, 3, "A")
    count = audit_count(db)
    out = tmp_path / "p.jzpkg"
    manifest = packages.export_package(township, out)
    assert manifest["audit_head"]["count"] == count  # the export's own entry comes after the package
    for _ in range(2):
        packages.import_to_county(county_site, out, county_url)
    assert heads(county_url, manifest["site_id"]) == [(count, manifest["audit_head"]["hash"], "package",
                                                       manifest["package_id"])]
    assert verify(db, county_url)[0] == 0
    township.store.close()
    put_back(older, db)
    code, _, err = verify(db, county_url)
    assert code == 1 and f"导入交换包 {manifest['package_id']} 时所见的短" in err and f"已有 {count} 条" in err


def test_a_package_whose_stated_head_is_not_its_last_entry_is_refused(township, county_site, county_url, tmp_path):
    good, bad = tmp_path / "good.jzpkg", tmp_path / "bad.jzpkg"
    packages.export_package(township, good)
    inner = tmp_path / "bad.zip"
    with unsealed(good, county_site) as plain, zipfile.ZipFile(plain) as src, zipfile.ZipFile(inner, "w") as dst:
        for item in src.infolist():
            if item.filename not in (package.MANIFEST, package.MANIFEST_SUM):
                dst.writestr(item, src.read(item))
        manifest = json.loads(src.read(package.MANIFEST))
        manifest["audit_head"]["hash"] = "f" * 64
        text = json.dumps(manifest, ensure_ascii=False).encode("utf-8")
        dst.writestr(package.MANIFEST, text)
        dst.writestr(package.MANIFEST_SUM, hashlib.sha256(text).hexdigest())
    reseal(inner, bad, township, county_site)  # by the township itself: only the head check can catch it
    with pytest.raises(StoreError, match="审计链头"):
        packages.import_to_county(county_site, bad, county_url)
    assert heads(county_url, manifest["site_id"]) == []


def test_a_county_database_without_the_heads_table_asks_for_init_db_again(township, county_url):
    with psycopg.connect(county_url, autocommit=True) as pg:
        pg.execute("DROP TABLE audit_heads")
    with pytest.raises(StoreError, match="county init-db"):
        sync.sync(township, county_url)
    assert sync.state(township)["pushed_change"] == 0


def test_verify_says_what_the_file_shows_when_the_county_cannot_be_reached(township):
    code, out, err = verify(township.store.path, "postgresql://nobody@127.0.0.1:1/none")
    assert code == 2 and "审计日志完好" in out and "未能与县级数据库核对" in err and "连不上县级数据库" in err


def test_verify_against_a_county_that_has_not_seen_this_site_says_there_is_nothing_to_compare(township, county_url):
    code, out, err = verify(township.store.path, county_url)
    assert code == 0 and "无从核对" in out, err


def test_a_package_from_a_chain_rewritten_since_the_last_package_is_refused_whole(township, county_site, county_url, tmp_path):
    db = township.store.path
    older = snapshot(township.conn, tmp_path / "older.sqlite3")
    record_bills(township, 3, "A")
    first = packages.export_package(township, tmp_path / "1.jzpkg")
    packages.import_to_county(county_site, tmp_path / "1.jzpkg", county_url)
    township.store.close()
    put_back(older, db)
    again = Session(open_store(db, daily_backup=False), SYSTEM)
    record_bills(again, 5, "B")
    packages.export_package(again, tmp_path / "2.jzpkg")
    again.store.close()
    there = county_counts(county_url)
    with pytest.raises(StoreError, match="交换包未导入：包内 \\d+ 条审计日志与县里已收到的该站点同号日志不同"):
        packages.import_to_county(county_site, tmp_path / "2.jzpkg", county_url)
    assert county_counts(county_url) == there
    assert [h[3] for h in heads(county_url, first["site_id"])] == [first["package_id"]]
