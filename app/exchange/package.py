"""The exchange package carried by USB: a zip of JSON-lines records, a readable .xlsx and a checked manifest."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from app.exchange.records import AUDIT_COLUMNS, BINARY, NAMES, Entity
from app.store.errors import StoreError

FORMAT = "jiuzhu-package/1"
# What a damaged zip raises, in whichever layer breaks first: the archive, the compressed stream, or the file.
_UNREADABLE = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error, NotImplementedError,
               UnicodeDecodeError, ValueError)
SUFFIX = ".jzpkg"
MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.sha256"
WORKBOOK = "记录一览.xlsx"


def _encode(columns: tuple[str, ...], row: tuple) -> bytes:
    record = {c: (base64.b64encode(v).decode("ascii") if c in BINARY and v is not None else v)
              for c, v in zip(columns, row)}
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def _decode(columns: tuple[str, ...], line: bytes, where: str) -> tuple:
    try:
        record = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise damaged(f"{where} 不是有效的 JSON") from exc
    if not isinstance(record, dict) or set(record) != set(columns):
        raise damaged(f"{where} 的字段与本程序的记录格式不符")
    return tuple(base64.b64decode(record[c]) if c in BINARY and record[c] is not None else record[c] for c in columns)


def damaged(detail: str) -> StoreError:
    return StoreError(f"交换包已损坏或被改动，未导入任何记录（{detail}）。请让报送方重新导出一份")


@dataclass
class Part:
    """One file of a package: records of one kind, or the audit entries."""

    name: str  # path inside the zip
    table: str
    columns: tuple[str, ...]
    rows: Iterable[tuple]


def write(path: Path, header: dict, parts: list[Part], workbook: Path) -> dict:
    """Write the package atomically (a partial file never carries the final name); returns its manifest."""
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    files, counts = {}, {}
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            for part in parts:
                digest, size, n = hashlib.sha256(), 0, 0
                with zf.open(part.name, "w", force_zip64=True) as out:
                    for row in part.rows:
                        line = _encode(part.columns, row)
                        digest.update(line)
                        size += len(line)
                        n += 1
                        out.write(line)
                files[part.name] = {"table": part.table, "columns": list(part.columns), "rows": n,
                                    "bytes": size, "sha256": digest.hexdigest()}
                counts[part.table] = n
            zf.write(workbook, WORKBOOK)
            files[WORKBOOK] = {"bytes": workbook.stat().st_size, "sha256": _file_sha256(workbook)}
            manifest = {"format": FORMAT, **header, "counts": counts, "files": files}
            text = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
            zf.writestr(MANIFEST, text)
            zf.writestr(MANIFEST_SUM, hashlib.sha256(text).hexdigest())
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"写不了交换包 {path}：{exc.strerror or exc}。请检查 U 盘是否插好、是否写保护、空间是否够") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return manifest


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Package:
    """An opened, fully verified package: its manifest and its records, read again on demand."""

    def __init__(self, path: Path, manifest: dict):
        self.path = path
        self.manifest = manifest

    def records(self, table: str) -> Iterator[tuple]:
        """The records of one kind; each must be the exporting site's own (a package carries nothing else)."""
        site = self.manifest["site_id"]
        for name, info in self.manifest["files"].items():
            if info.get("table") != table:
                continue
            columns = tuple(info["columns"])
            owner = columns.index("site_id") if "site_id" in columns else None
            try:
                with zipfile.ZipFile(self.path) as zf, zf.open(name) as f:
                    for n, line in enumerate(f, 1):
                        row = _decode(columns, line, f"{name} 第 {n} 行")
                        if owner is not None and row[owner] != site:
                            raise damaged(f"{name} 第 {n} 行的记录不属于导出的站点")
                        yield row
            except _UNREADABLE as exc:  # the stick went bad between the check and the import
                raise damaged(f"{name} 读取失败") from exc


def open_package(path: Path, entities: list[Entity]) -> Package:
    """Open a package and check every byte against its manifest; refuse it whole if anything is off."""
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"找不到交换包 {path}，请检查路径")
    try:
        zf = zipfile.ZipFile(path)
    except _UNREADABLE as exc:
        raise damaged("文件不是完整的交换包，可能没有拷完或已损坏") from exc
    with zf:
        names = set(zf.namelist())
        if MANIFEST not in names or MANIFEST_SUM not in names:
            raise damaged("缺少清单 manifest.json")
        try:
            text = zf.read(MANIFEST)
            stated = zf.read(MANIFEST_SUM).decode("ascii").strip()
        except _UNREADABLE as exc:
            raise damaged("清单无法读取") from exc
        if hashlib.sha256(text).hexdigest() != stated:
            raise damaged("清单的校验值不符")
        try:
            manifest = json.loads(text)
        except json.JSONDecodeError as exc:
            raise damaged("清单不是有效的 JSON") from exc
        files = manifest.get("files") if isinstance(manifest, dict) else None
        if not isinstance(files, dict) or not all(isinstance(i, dict) for i in files.values()):
            raise damaged("清单的格式不对")
        missing = [k for k in ("package_id", "site_id", "site_name", "county", "created_at", "created_by", "range", "counts")
                   if k not in manifest]
        if missing:
            raise damaged(f"清单缺少 {'、'.join(missing)}")
        if manifest.get("format") != FORMAT:
            raise StoreError(f"交换包格式为 {manifest.get('format')}，本程序只认识 {FORMAT}；请升级救助通")
        extra = names - set(files) - {MANIFEST, MANIFEST_SUM}
        if extra:
            raise damaged(f"包里有清单之外的文件：{'、'.join(sorted(extra))}")
        expected = {e.table: e.wire for e in entities} | {"audit_log": AUDIT_COLUMNS}
        for name, info in files.items():
            if name not in names:
                raise damaged(f"缺少文件 {name}")
            if "table" in info and tuple(info.get("columns", ())) != expected.get(info["table"]):
                raise damaged(f"{name} 的字段与本程序的记录格式不符（可能由不同版本导出）")
            digest, size, rows = hashlib.sha256(), 0, 0
            try:
                with zf.open(name) as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        digest.update(chunk)
                        size += len(chunk)
                        rows += chunk.count(b"\n")
            except _UNREADABLE as exc:
                raise damaged(f"{name} 无法解压") from exc
            if digest.hexdigest() != info.get("sha256") or size != info.get("bytes"):
                raise damaged(f"{name} 的校验值不符")
            if "rows" in info and rows != info["rows"]:
                raise damaged(f"{name} 的行数与清单不符")
    return Package(path, manifest)


def workbook(header: dict, sheets: list[tuple[str, list[str], Iterable[tuple]]], out: Path,
             limit: int = 200_000) -> Path:
    """The readable copy, written to `out`: a summary sheet, then one sheet per kind of record (first `limit` rows)."""
    from app.documents import xlsx

    with xlsx.Book(out) as book:
        summary = book.sheet("说明", max_width=90)
        for key, label in (("site_name", "报送站点"), ("site_id", "站点编号"), ("created_at", "导出时间"),
                           ("created_by", "导出人"), ("package_id", "交换包编号")):
            summary.row([label, str(header.get(key, ""))])
        summary.row(["记录范围", f"变更序号 {header['range']['changes'][0]}–{header['range']['changes'][1]}，"
                                f"审计序号 {header['range']['audit'][0]}–{header['range']['audit'][1]}"])
        summary.row(["说明", "本表供人查阅；导入以包内 JSON 行文件和清单为准，改动本表不影响导入"])
        for title, headers, rows in sheets:
            sheet = book.sheet(title, headers, frozen_columns=0)
            for n, row in enumerate(rows):
                if n == limit:
                    sheet.note(f"（超过 {limit} 行，其余见包内 JSON 行文件）")
                    break
                sheet.row([None if isinstance(v, bytes) else v for v in row])
    return Path(out)


def sheet_title(table: str) -> str:
    return NAMES.get(table, table)
