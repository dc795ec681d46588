"""Exchange packages: only what changed, a checked manifest, idempotent import here or at the county, damage refused."""

from __future__ import annotations

import json
import zipfile

import psycopg
import pytest
from openpyxl import load_workbook

from app.exchange import package
from app.services import packages, registry, users
from app.services.session import Session
from app.store.errors import StoreError
from tests.exchange.conftest import reseal, unsealed
from tests.exchange.test_sync import TABLES, county_counts, local_counts


def _uncategorised(session) -> str:
    """A person who holds no category yet, so that giving them one cannot overlap a period the demo gave them."""
    return session.conn.execute("SELECT id FROM persons p WHERE NOT EXISTS (SELECT 1 FROM category_periods c "
                                "WHERE c.person_id = p.id) ORDER BY id LIMIT 1").fetchone()["id"]


def test_a_package_holds_every_record_once_with_a_manifest_and_a_readable_workbook(township, county_site, tmp_path):
    out = tmp_path / "p.jzpkg"
    manifest = packages.export_package(township, out)
    mine = local_counts(township)
    assert {t: manifest["counts"][t] for t in TABLES} == mine
    someone = township.conn.execute("SELECT id_number, name FROM persons LIMIT 1").fetchone()
    sealed = out.read_bytes()  # a lost stick shows no ID number or name, and only its owner may read the file
    assert someone["id_number"].encode() not in sealed and someone["name"].encode() not in sealed
    assert out.stat().st_mode & 0o777 == 0o600
    with unsealed(out, county_site) as plain, zipfile.ZipFile(plain) as zf:
        names = set(zf.namelist())
        assert {"manifest.json", "manifest.sha256", package.WORKBOOK, "records/visits.jsonl"} <= names
        first = json.loads(zf.open("records/persons.jsonl").readline())
        wb = load_workbook(zf.open(package.WORKBOOK), read_only=True)
    assert first["site_id"] and first["region_code"].startswith("340223")
    assert manifest["site_id"] == first["site_id"] and manifest["range"]["changes"][0] == 1
    persons = wb["人员"]
    assert next(persons.iter_rows(max_row=1, values_only=True))[:5] == ("记录编号", "家庭编号", "姓名", "证件类型", "证件号码")
    assert sum(1 for _ in persons.iter_rows(values_only=True)) == mine["persons"] + 1
    assert "报送站点" in [r[0] for r in wb["说明"].iter_rows(values_only=True)]


def test_the_next_package_holds_only_what_changed_since(township, county_site, tmp_path):
    packages.export_package(township, tmp_path / "1.jzpkg")
    person = _uncategorised(township)
    registry.set_category(township, person, "低保对象", "2025-01-01", None, "民政")
    manifest = packages.export_package(township, tmp_path / "2.jzpkg")
    counts = {t: n for t, n in manifest["counts"].items() if n}
    assert counts["category_periods"] == 1 and "households" not in counts and "persons" not in counts
    assert counts["audit_log"] >= 1
    assert packages.pending_export(township) == 0
    again = packages.export_package(township, tmp_path / "all.jzpkg", everything=True)
    assert again["counts"]["persons"] == local_counts(township)["persons"]  # redoing a lost package


def test_importing_at_the_county_twice_keeps_one_copy(township, county_site, county_url, tmp_path):
    out = tmp_path / "p.jzpkg"
    packages.export_package(township, out)
    first = packages.import_to_county(county_site, out, county_url)
    there = county_counts(county_url)
    assert {t: there[t] for t in TABLES} == local_counts(township)
    second = packages.import_to_county(county_site, out, county_url)
    assert county_counts(county_url) == there
    assert any("导入过" in line for line in second.lines())
    assert first.county["visits"].written == there["visits"] and second.county["visits"].written == 0
    with psycopg.connect(county_url) as conn:
        assert conn.execute("SELECT count(*) FROM packages").fetchone()[0] == 1


def test_an_older_package_imported_again_does_not_put_back_what_the_site_changed_since(township, county_site,
                                                                                       county_url, tmp_path):
    packages.export_package(township, tmp_path / "1.jzpkg")
    packages.import_to_county(county_site, tmp_path / "1.jzpkg", county_url)
    clerk = Session(township.store, users.find_user(township.conn, "xiang"))
    person = township.conn.execute(
        "SELECT p.id, p.id_number, p.relation_to_head FROM persons p JOIN households h ON h.id = p.household_id "
        "WHERE p.relation_to_head != '户主' AND p.site_id IS NULL AND h.region_code LIKE ? || '%' ORDER BY p.id LIMIT 1",
        (clerk.user.jurisdiction,)).fetchone()
    registry.update_person(clerk, person["id"], registry.PersonInput("改正后", person["id_number"],
                                                                     person["relation_to_head"]))
    packages.export_package(township, tmp_path / "2.jzpkg")
    packages.import_to_county(county_site, tmp_path / "2.jzpkg", county_url)
    again = packages.import_to_county(county_site, tmp_path / "1.jzpkg", county_url)
    assert any("没有再写入" in line for line in again.lines())
    with psycopg.connect(county_url) as conn:
        assert conn.execute("SELECT name FROM persons WHERE id = %s", (person["id"],)).fetchone()[0] == "改正后"


def test_a_missing_earlier_package_is_pointed_out(township, county_site, county_url, tmp_path):
    packages.export_package(township, tmp_path / "1.jzpkg")
    packages.import_to_county(county_site, tmp_path / "1.jzpkg", county_url)
    person = _uncategorised(township)
    registry.set_category(township, person, "低保对象", "2025-01-01", None, "民政")
    packages.export_package(township, tmp_path / "2.jzpkg")  # lost on the way
    registry.set_category(township, person, "特困人员", "2026-01-01", None, "民政")
    packages.export_package(township, tmp_path / "3.jzpkg")
    result = packages.import_to_county(county_site, tmp_path / "3.jzpkg", county_url)
    assert any("中间的包尚未导入" in line for line in result.lines())


def test_importing_at_another_site_is_idempotent(township, county_site, tmp_path):
    out = tmp_path / "p.jzpkg"
    packages.export_package(township, out)
    first = packages.import_here(county_site, out)
    assert local_counts(county_site) == local_counts(township)
    assert first.applied["persons"].added == local_counts(township)["persons"]
    second = packages.import_here(county_site, out)
    assert local_counts(county_site) == local_counts(township)
    assert second.applied["persons"].added == 0 and second.applied["persons"].same == local_counts(township)["persons"]
    with pytest.raises(StoreError, match="本站自己导出"):
        packages.import_here(township, out)


def _rewrite(src, dst, change, sender, to):
    """Edit the package inside a sealed file and seal it again as its (registered) sender: only the checks
    inside the envelope can catch the edit."""
    inner = dst.with_name(dst.name + ".zip")
    with unsealed(src, to) as plain, zipfile.ZipFile(plain) as zin, zipfile.ZipFile(inner, "w") as zout:
        for item in zin.infolist():
            data = change(item.filename, zin.read(item.filename))
            if data is not None:
                zout.writestr(item.filename, data)
    reseal(inner, dst, sender, to)


@pytest.mark.parametrize("how, message", [
    ("truncated", "文件不完整"),
    ("record changed", "persons.jsonl 的校验值不符"),
    ("record added", "persons.jsonl 的校验值不符"),
    ("manifest edited", "清单的校验值不符"),
    ("file removed", "缺少文件 records/visits.jsonl"),
    ("file added", "清单之外的文件"),
    ("not a package", "不是救助通的交换包"),
])
def test_a_damaged_or_altered_package_is_refused_whole(township, county_site, county_url, tmp_path, how, message):
    good = tmp_path / "good.jzpkg"
    packages.export_package(township, good)
    bad = tmp_path / "bad.jzpkg"
    if how == "truncated":
        bad.write_bytes(good.read_bytes()[: good.stat().st_size * 2 // 3])
    elif how == "not a package":
        bad.write_text("这不是交换包", encoding="utf-8")
    elif how == "record changed":
        _rewrite(good, bad, lambda n, d: d.replace(b'"name":"', '"name":"伪'.encode(), 1) if n.endswith("persons.jsonl")
                 else d, township, county_site)
    elif how == "record added":
        _rewrite(good, bad, lambda n, d: d + d.splitlines(keepends=True)[0] if n.endswith("persons.jsonl") else d, township, county_site)
    elif how == "manifest edited":
        _rewrite(good, bad, lambda n, d: d.replace(b'"persons": ', b'"persons": 1') if n == "manifest.json" else d, township, county_site)
    elif how == "file removed":
        _rewrite(good, bad, lambda n, d: None if n == "records/visits.jsonl" else d, township, county_site)
    elif how == "file added":
        _rewrite(good, bad, lambda n, d: d, township, county_site)
        with unsealed(bad, county_site) as plain:
            with zipfile.ZipFile(plain, "a") as zf:
                zf.writestr("records/extra.jsonl", b"{}\n")
            reseal(plain, bad, township, county_site)
    before_here = local_counts(county_site)
    with pytest.raises(StoreError, match=message):
        packages.import_here(county_site, bad)
    assert local_counts(county_site) == before_here
    with pytest.raises(StoreError, match=message):
        packages.import_to_county(county_site, bad, county_url)
    assert all(n == 0 for n in county_counts(county_url).values())


def test_the_cli_exports_and_imports(township, county_site, county_url, tmp_path):
    from tests.faults.killing import AS_ADMIN, cli

    db = str(township.store.path)
    township.store.close()
    code, out, err = cli("export-package", str(tmp_path), "--db", db)
    assert code == 2 and "--user" in err and not list(tmp_path.glob("*.jzpkg")), "exporting signs in first"
    code, out, err = cli("export-package", *AS_ADMIN, str(tmp_path), "--db", db)
    assert code == 0 and "已导出" in out, err
    made = next(tmp_path.glob("*.jzpkg"))
    county = str(county_site.store.path)  # the county's installation opens what is sealed to the county
    code, out, err = cli("import-package", str(made), "--county-url", county_url, "--db", county)
    assert code == 2 and "--user" in err
    code, out, err = cli("import-package", *AS_ADMIN, str(made), "--county-url", county_url, "--db", county)
    assert code == 0 and "写入县级数据库" in out, err
    code, out, err = cli("import-package", *AS_ADMIN, str(made), "--county-url", county_url, "--db", db)
    assert code == 2 and "不是县级数据库登记的县级站点" in err
    (tmp_path / "bad.jzpkg").write_bytes(made.read_bytes()[:1000])
    code, out, err = cli("import-package", *AS_ADMIN, str(tmp_path / "bad.jzpkg"), "--county-url", county_url,
                         "--db", county)
    assert code == 2 and "文件不完整" in err


def test_a_household_whose_people_are_already_registered_here_is_set_aside(township, county_site, tmp_path):
    from app.services import sync

    person = township.conn.execute("SELECT p.id, p.name, p.id_number, h.region_code FROM persons p JOIN households h "
                                   "ON h.id = p.household_id WHERE p.relation_to_head = '户主' AND (SELECT count(*) "
                                   "FROM persons q WHERE q.household_id = h.id) = 1 LIMIT 1").fetchone()
    registry.register_household(county_site, person["region_code"], "县里先登记的一户",
                                registry.PersonInput(person["name"], person["id_number"]))
    out = tmp_path / "p.jzpkg"
    packages.export_package(township, out)
    result = packages.import_here(county_site, out)
    assert result.applied["persons"].conflicts >= 1
    orphans = county_site.conn.execute("SELECT count(*) FROM households h WHERE NOT EXISTS "
                                       "(SELECT 1 FROM persons p WHERE p.id = h.head_person_id)").fetchone()[0]
    assert orphans == 0
    reasons = [c["reason"] for c in sync.conflicts(county_site)]
    assert any("这一户未导入" in r for r in reasons) and any("证件号码" in r for r in reasons)


def test_a_newer_copy_that_collides_here_is_kept_aside_not_stopping_the_import(township, county_site, tmp_path):
    from app.services import sync

    packages.export_package(township, tmp_path / "1.jzpkg")
    packages.import_here(county_site, tmp_path / "1.jzpkg")
    # The county registers someone; the township then corrects one of its people to that same ID number.
    taken = "340223199001010011"
    registry.register_household(county_site, "340223100201", "县里登记的一户", registry.PersonInput("赵六", taken))
    person = township.conn.execute("SELECT id FROM persons WHERE relation_to_head <> '户主' LIMIT 1").fetchone()["id"]
    township.conn.execute("UPDATE persons SET id_number = ?, updated_at = '2099-01-01T00:00:00.000+00:00' WHERE id = ?",
                          (taken, person))
    packages.export_package(township, tmp_path / "2.jzpkg")
    result = packages.import_here(county_site, tmp_path / "2.jzpkg")
    assert result.applied["persons"].conflicts == 1
    assert any("同一证件号码" in c["reason"] for c in sync.conflicts(county_site))


def test_a_package_carrying_another_sites_records_is_refused(township, county_site, county_url, tmp_path):
    good = tmp_path / "good.jzpkg"
    packages.export_package(township, good)
    bad = tmp_path / "bad.jzpkg"
    # Re-signed by hand: the manifest recomputed for the edited file, so only the owner check can catch it.
    import hashlib

    with unsealed(good, county_site) as plain, zipfile.ZipFile(plain) as zin:
        files = {n: zin.read(n) for n in zin.namelist()}
    site = json.loads(files["manifest.json"])["site_id"]
    files["records/persons.jsonl"] = files["records/persons.jsonl"].replace(site.encode(), b"someone-else", 1)
    manifest = json.loads(files["manifest.json"])
    data = files["records/persons.jsonl"]
    manifest["files"]["records/persons.jsonl"].update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
    files["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
    files["manifest.sha256"] = hashlib.sha256(files["manifest.json"]).hexdigest().encode()
    inner = tmp_path / "bad.zip"
    with zipfile.ZipFile(inner, "w") as zout:
        for n, d in files.items():
            zout.writestr(n, d)
    reseal(inner, bad, township, county_site)
    with pytest.raises(StoreError, match="不属于导出的站点"):
        packages.import_to_county(county_site, bad, county_url)
    assert all(n == 0 for n in county_counts(county_url).values())


def test_the_readable_copy_takes_the_first_rows_while_every_row_goes_on_to_the_package(tmp_path):
    header = {"range": {"changes": [1, 3], "audit": [1, 1]}}
    readable = package.Readable(tmp_path / "r.xlsx", header, [("人员", ["编号", "姓名"])], limit=2)
    rows = [("a", "张三"), ("b", b"\x00\x01"), ("c", "王五")]
    assert list(readable.tee(0, iter(rows))) == rows
    wb = load_workbook(readable.close(), read_only=True)
    assert list(wb["人员"].iter_rows(values_only=True)) == [
        ("编号", "姓名"), ("a", "张三"), ("b", None), ("（超过 2 行，其余见包内 JSON 行文件）", None)]
