"""A package whose checksums are right but one record line is not of the format is refused whole, nothing written.

The manifest is made again by hand for the edited file (as an adversary who knows the format would), so only the
line checks of the reader can catch it: the JSON, the fields, their kinds, the binary column and the encoding.
"""

from __future__ import annotations

import hashlib
import json
import zipfile

import pytest

from app.exchange import package
from app.services import packages
from app.store.errors import StoreError
from tests.exchange.conftest import reseal, unsealed
from tests.exchange.test_sync import county_counts, local_counts


def _resigned(good, bad, name: str, change, sender, reader, manifest_too: bool = True) -> None:
    """Copy the package with `change` applied to the first line of member `name`, its manifest made to match (unless
    not `manifest_too`), sealed again by its sender (a registered site gone bad: only the line checks inside can
    refuse it)."""
    with unsealed(good, reader) as plain, zipfile.ZipFile(plain) as zin:
        files = {n: zin.read(n) for n in zin.namelist()}
    first, rest = files[name].split(b"\n", 1)
    files[name] = change(first) + b"\n" + rest
    manifest = json.loads(files["manifest.json"])
    if manifest_too:
        manifest["files"][name].update(sha256=hashlib.sha256(files[name]).hexdigest(), bytes=len(files[name]))
    files["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
    files["manifest.sha256"] = hashlib.sha256(files["manifest.json"]).hexdigest().encode()
    inner = bad.with_name(bad.name + ".inner")
    with zipfile.ZipFile(inner, "w", compression=zipfile.ZIP_DEFLATED) as zout:
        for n, d in files.items():
            zout.writestr(n, d)
    reseal(inner, bad, sender, reader)


def _field(line: bytes, key: str, value) -> bytes:
    record = json.loads(line)
    record[key] = value
    return json.dumps(record, ensure_ascii=False).encode()


def _without(line: bytes, key: str) -> bytes:
    record = json.loads(line)
    del record[key]
    return json.dumps(record, ensure_ascii=False).encode()


@pytest.mark.parametrize("name, change, message", [
    ("records/persons.jsonl", lambda line: line[:-5], "不是有效的 JSON"),
    ("records/persons.jsonl", lambda line: _field(line, "name", 1.5), "不是有效的 JSON 或含有本格式不用的值"),
    ("records/persons.jsonl", lambda line: _field(line, "sex", 10 ** 25), "不是有效的 JSON 或含有本格式不用的值"),
    ("records/persons.jsonl", lambda line: line.replace(b"}", b',"x":NaN}'), "不是有效的 JSON 或含有本格式不用的值"),
    ("records/persons.jsonl", lambda line: _field(line, "name", {"nested": ["张三"]}), "字段值只能是文字、整数或空"),
    ("records/persons.jsonl", lambda line: _field(line, "name", ["张三"]), "字段值只能是文字、整数或空"),
    ("records/persons.jsonl", lambda line: _without(line, "name"), "字段与本程序的记录格式不符"),
    ("records/persons.jsonl", lambda line: _field(line, "extra", "x"), "字段与本程序的记录格式不符"),
    ("records/persons.jsonl", lambda line: b"[" + line + b"]", "字段与本程序的记录格式不符"),
    ("records/persons.jsonl", lambda line: line.decode().encode("utf-16"), "不是有效的 JSON"),
    ("records/settlements.jsonl", lambda line: _field(line, "steps", "不是base64!"), "二进制字段不是有效的 base64"),
])
def test_a_forged_line_refuses_the_whole_package(township, county_site, county_url, tmp_path, name, change, message):
    good, bad = tmp_path / "good.jzpkg", tmp_path / "bad.jzpkg"
    packages.export_package(township, good)
    _resigned(good, bad, name, change, township, county_site)
    before = local_counts(county_site)
    with pytest.raises(StoreError, match=message):
        packages.import_here(county_site, bad)
    assert local_counts(county_site) == before
    # At the county the files are checked as they are read, and the batches before the line are already copied in:
    # the refusal undoes them.
    with pytest.raises(StoreError, match=message):
        packages.import_to_county(county_site, bad, county_url)
    assert all(n == 0 for n in county_counts(county_url).values())


def test_the_resigned_copy_of_a_good_package_is_taken(township, county_site, tmp_path):
    """The forging above changes only the line it means to: unchanged, the same copy imports."""
    good, same = tmp_path / "good.jzpkg", tmp_path / "same.jzpkg"
    packages.export_package(township, good)
    _resigned(good, same, "records/persons.jsonl", lambda line: line, township, county_site)
    packages.import_here(county_site, same)
    assert local_counts(county_site) == local_counts(township)


@pytest.mark.parametrize("change", [
    lambda line: _field(line, "name", "张\u0000三"),         # PostgreSQL text cannot hold NUL
    lambda line: _field(line, "birth_date", "2024-13-45"),  # nor a date that does not exist
])
def test_a_line_the_county_database_refuses_is_told_in_chinese(township, county_site, county_url, tmp_path, change):
    """Lines of the format that the county's columns cannot take: the officer reads why in Chinese (not the driver's
    error), and nothing of the package is kept."""
    good, bad = tmp_path / "good.jzpkg", tmp_path / "bad.jzpkg"
    packages.export_package(township, good)
    _resigned(good, bad, "records/persons.jsonl", change, township, county_site)
    with pytest.raises(StoreError, match="交换包未导入：县级数据库拒绝了包内的记录（.+）。县级数据库没有任何改动"):
        packages.import_to_county(county_site, bad, county_url)
    assert all(n == 0 for n in county_counts(county_url).values())


def test_a_changed_line_the_county_refuses_before_its_checksum_is_reached_is_named_changed(
        township, county_site, county_url, tmp_path, monkeypatch):
    """The county checks a file's checksum when it has read it to the end; a changed line the database refuses
    earlier is still reported as the package changed, the plainer truth."""
    # Batches of one record, so the changed first line reaches the database before its file is read to the end
    # (in a county's package, a batch of 20,000 before the rest of a file).
    whole = package.Package.batches
    monkeypatch.setattr(package.Package, "batches", lambda self, table: whole(self, table, size=1))
    good, bad = tmp_path / "good.jzpkg", tmp_path / "bad.jzpkg"
    packages.export_package(township, good)
    _resigned(good, bad, "records/persons.jsonl", lambda line: _field(line, "name", "张\u0000三"), township,
              county_site, manifest_too=False)
    with pytest.raises(StoreError, match="persons.jsonl 的校验值不符"):
        packages.import_to_county(county_site, bad, county_url)
    assert all(n == 0 for n in county_counts(county_url).values())
