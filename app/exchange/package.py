"""The exchange package carried by USB: a zip of JSON-lines records, a readable .xlsx and a checked manifest."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import zipfile
import zlib
from operator import itemgetter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson

from app.exchange import bounds
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
# A package is read a line at a time, never whole, so it may be larger than a workbook (whose reader holds it all):
# a whole county's records, sent again after a lost stick, come to about 1 GB.
MAX_PACKAGE = 4 * 1024 * 1024 * 1024
MAX_MANIFEST = 1024 * 1024
# An importer takes records in batches of at most this many, and of about this many bytes of lines: real batches
# (a visit's line is ~0.5 KB, an audit entry's ~1 KB) reach the count first; a forged file of long lines the bytes.
BATCH_ROWS = 20_000
BATCH_BYTES = 32 * 1024 * 1024
PRIVATE = 0o600


def _encode(columns: tuple[str, ...], binary: tuple[int, ...], row: tuple) -> bytes:
    """One record as its JSON line in UTF-8; `binary` are the positions of the columns carried as base64."""
    if binary:
        row = list(row)
        for i in binary:
            if row[i] is not None:
                row[i] = base64.b64encode(row[i]).decode("ascii")
    # orjson writes what json.dumps(ensure_ascii=False, separators=(",", ":")) writes for text, whole numbers and
    # null, byte for byte (tests/exchange/test_json_lines.py), in a third of the time.
    return orjson.dumps(dict(zip(columns, row)), option=orjson.OPT_APPEND_NEWLINE)


def _binary(columns: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(i for i, c in enumerate(columns) if c in BINARY)


def _decode(columns: tuple[str, ...], binary: tuple[int, ...], line: bytes, name: str, n: int) -> tuple:
    """Line `n` of member `name` back as the record's values in `columns` order; anything not of the format refuses
    the package."""
    try:
        # UTF-8 only, as the writer writes; nesting past 1,024 levels, NaN and a lone surrogate are refused by the
        # parser. A number with a fraction or beyond 64 bits (a 5,000-digit one) comes out a float: refused below.
        record = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise damaged(f"{name} 第 {n} 行不是有效的 JSON 或含有本格式不用的值") from exc
    # As many keys as columns, and every column among them: the same keys (taken in C, a million lines a package).
    try:
        if record.__class__ is not dict or len(record) != len(columns):
            raise KeyError
        values = itemgetter(*columns)(record)
    except KeyError:
        raise damaged(f"{name} 第 {n} 行的字段与本程序的记录格式不符") from None
    # The types are looked at in C (a set of a row's few types); a value of another kind is then found and named.
    if not _VALUE_TYPES.issuperset(map(type, values)):
        for v in values:
            if v is not None and v.__class__ not in _FIELD_TYPES:
                raise damaged(f"{name} 第 {n} 行不是有效的 JSON 或含有本格式不用的值" if v.__class__ is float
                              else f"{name} 第 {n} 行的字段值只能是文字、整数或空")
    if not binary:
        return values
    values = list(values)
    try:
        for i in binary:
            if values[i] is not None:
                values[i] = base64.b64decode(values[i], validate=True)
    except (ValueError, TypeError) as exc:
        raise damaged(f"{name} 第 {n} 行的二进制字段不是有效的 base64") from exc
    return tuple(values)


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > 20:
        raise ValueError("number too long")
    return int(text)


def _not_allowed(text: str):
    raise ValueError(f"not allowed: {text[:20]}")


# What a line's fields may be: text and whole numbers (true and false are ints to Python, and were always let through).
_FIELD_TYPES = frozenset({str, int, bool})
_VALUE_TYPES = _FIELD_TYPES | {type(None)}
# Deflate's fastest level: JSON lines of records still shrink about five times, at a third of level 6's time.
_LEVEL = 1
# Lines are handed to the zip stream (and its deflate) in blocks of about this many bytes, not one by one.
_BLOCK = 1 << 20


def damaged(detail: str) -> StoreError:
    return StoreError(f"交换包已损坏或被改动，未导入任何记录（{detail}）。请让报送方重新导出一份")


@dataclass
class Part:
    """One file of a package: records of one kind, or the audit entries."""

    name: str  # path inside the zip
    table: str
    columns: tuple[str, ...]
    rows: Iterable[tuple]


@contextmanager
def written(path: Path) -> Iterator[Path]:
    """A new file (0600) to write, which takes `path`'s name, flushed to disk, only when the block ends well.

    A partial file never carries the final name; a failed write leaves nothing behind."""
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    try:
        tmp.unlink(missing_ok=True)
        tmp.touch(mode=PRIVATE)  # every ID number of the site is in it: its owner's to read only
        os.chmod(tmp, PRIVATE)
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"写不了交换包 {path}：{exc.strerror or exc}。请检查 U 盘是否插好、是否写保护、空间是否够") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write(path: Path, header: dict, parts: list[Part], workbook: Path | Callable[[], Path]) -> dict:
    """Write the package atomically (see written); returns its manifest.

    `workbook` may be a function that finishes the readable copy once the parts are written (Readable.close)."""
    files, counts = {}, {}
    with written(path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=_LEVEL) as zf:
            for part in parts:
                digest, size, n = hashlib.sha256(), 0, 0
                binary = _binary(part.columns)
                with zf.open(part.name, "w", force_zip64=True) as out:
                    block, held = [], 0
                    for row in part.rows:
                        line = _encode(part.columns, binary, row)
                        block.append(line)
                        held += len(line)
                        n += 1
                        if held >= _BLOCK:
                            size += _put(out, digest, block)
                            block, held = [], 0
                    size += _put(out, digest, block)
                files[part.name] = {"table": part.table, "columns": list(part.columns), "rows": n,
                                    "bytes": size, "sha256": digest.hexdigest()}
                counts[part.table] = n
            if callable(workbook):
                workbook = workbook()
            # An .xlsx is a zip already: deflating it again costs time and gains nothing, so it is stored as it is.
            zf.write(workbook, WORKBOOK, compress_type=zipfile.ZIP_STORED)
            files[WORKBOOK] = {"bytes": workbook.stat().st_size, "sha256": _file_sha256(workbook)}
            manifest = {"format": FORMAT, **header, "counts": counts, "files": files}
            text = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
            zf.writestr(MANIFEST, text)
            zf.writestr(MANIFEST_SUM, hashlib.sha256(text).hexdigest())
    return manifest


def _put(out, digest, block: list[bytes]) -> int:
    """Write a block of lines to the zip stream and the checksum; its size in bytes."""
    data = b"".join(block)
    digest.update(data)
    out.write(data)
    return len(data)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Package:
    """An opened, fully verified package: its manifest and its records, read again on demand."""

    def __init__(self, path: Path, manifest: dict, upfront: bool = True):
        self.path = path
        self.manifest = manifest
        self.upfront = upfront  # False: each records file is checked against the manifest as it is read

    def records(self, table: str) -> Iterator[tuple]:
        """The records of one kind; each must be the exporting site's own (a package carries nothing else)."""
        for batch in self.batches(table):
            yield from batch

    def batches(self, table: str, size: int = BATCH_ROWS, budget: int = BATCH_BYTES) -> Iterator[list[tuple]]:
        """The records of one kind in lists of at most `size` records and about `budget` bytes of lines, so that a
        package of long lines (each up to bounds.MAX_LINE) cannot make an importer hold gigabytes at once."""
        batch: list[tuple] = []
        spent = 0
        for row, length in self._rows(table):
            batch.append(row)
            spent += length
            if len(batch) >= size or spent >= budget:
                yield batch
                batch, spent = [], 0
        if batch:
            yield batch

    def _rows(self, table: str) -> Iterator[tuple[tuple, int]]:
        site = self.manifest["site_id"]
        for name, info in self.manifest["files"].items():
            if info.get("table") != table:
                continue
            columns = tuple(info["columns"])
            binary = _binary(columns)
            owner = columns.index("site_id") if "site_id" in columns else None
            try:
                # Read through a C buffered reader: ZipExtFile's own readline is Python, a call per line.
                with zipfile.ZipFile(self.path) as zf, zf.open(name) as member:
                    raw = member if self.upfront else _Digested(member)
                    n = 0
                    with io.BufferedReader(raw, _BLOCK) as f:
                        for n, line in enumerate(bounds.lines(f, name), 1):
                            row = _decode(columns, binary, line, name, n)
                            if owner is not None and row[owner] != site:
                                raise damaged(f"{name} 第 {n} 行的记录不属于导出的站点")
                            yield row, len(line)
                    if not self.upfront:
                        _matches(name, info, raw.digest.hexdigest(), raw.size, n)
            except bounds.TooLarge as exc:
                if self.upfront:  # the stick went bad between the check and the import
                    raise damaged(f"{name} 读取失败") from exc
                raise _overlong(name) from None
            except _UNREADABLE as exc:
                raise damaged(f"{name} 读取失败") from exc


class _Digested(io.RawIOBase):
    """A member's stream that digests and counts the bytes read through it."""

    def __init__(self, member):
        self.member = member
        self.digest = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.member.readinto(buffer)
        if n:
            self.digest.update(memoryview(buffer)[:n])
            self.size += n
        return n


def _matches(name: str, info: dict, digest: str, size: int, rows: int | None) -> None:
    """Refuse the package if a member is not what the manifest says (`rows`: its line count, if it has lines)."""
    if digest != info.get("sha256") or size != info.get("bytes"):
        raise damaged(f"{name} 的校验值不符")
    if "rows" in info and rows != info["rows"]:
        raise damaged(f"{name} 的行数与清单不符")


def open_package(path: Path, entities: list[Entity], upfront: bool = True) -> Package:
    """Open a package and check every byte against its manifest; refuse it whole if anything is off.

    Sizes are checked before anything is inflated (bounds.py), each line's length while checksums are computed,
    and every manifest field the import uses is checked here, so that nothing fails half-way through the import.

    `upfront=False` leaves each records file's checksum, size and line count to be checked as the import reads it
    (Package.records), for an import that is one transaction undone whole by the refusal (the county's): every
    file is then inflated once, not twice, which is a fifth of that import's time. Its lines are bounded as read."""
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"找不到交换包 {path}，请检查路径")
    try:
        zf = zipfile.ZipFile(path)
    except _UNREADABLE as exc:
        raise damaged("文件不是完整的交换包，可能没有拷完或已损坏") from exc
    with zf:
        try:
            bounds.check_zip(zf, "包内 ", MAX_PACKAGE)
        except bounds.TooLarge as exc:
            raise StoreError(f"交换包未导入：{exc}") from None
        except bounds.Damaged as exc:
            raise damaged(str(exc)) from None
        names = set(zf.namelist())
        if MANIFEST not in names or MANIFEST_SUM not in names:
            raise damaged("缺少清单 manifest.json")
        try:
            with zf.open(MANIFEST) as f:
                text = bounds.read_capped(f, "清单 manifest.json ", MAX_MANIFEST)
            with zf.open(MANIFEST_SUM) as f:
                stated = bounds.read_capped(f, "清单校验值 ", 1024).decode("ascii").strip()
        except bounds.TooLarge as exc:
            raise damaged(str(exc)) from None
        except _UNREADABLE as exc:
            raise damaged("清单无法读取") from exc
        if hashlib.sha256(text).hexdigest() != stated:
            raise damaged("清单的校验值不符")
        try:
            manifest = json.loads(text, parse_int=_integer, parse_float=_not_allowed, parse_constant=_not_allowed)
        except (ValueError, RecursionError) as exc:
            raise damaged("清单不是有效的 JSON") from exc
        files = manifest.get("files") if isinstance(manifest, dict) else None
        if not isinstance(files, dict) or not all(isinstance(i, dict) for i in files.values()):
            raise damaged("清单的格式不对")
        missing = [k for k in ("package_id", "site_id", "site_name", "county", "created_at", "created_by", "range", "counts")
                   if k not in manifest]
        if missing:
            raise damaged(f"清单缺少 {'、'.join(missing)}")
        if manifest.get("format") != FORMAT:
            raise StoreError(f"交换包格式为 {str(manifest.get('format'))[:40]}，本程序只认识 {FORMAT}；请升级救助通")
        problem = manifest_problem(manifest)
        if problem:
            raise damaged(f"清单中的{problem}")
        extra = names - set(files) - {MANIFEST, MANIFEST_SUM}
        if extra:
            raise damaged(f"包里有清单之外的文件：{'、'.join(sorted(extra))[:200]}")
        expected = {e.table: e.wire for e in entities} | {"audit_log": AUDIT_COLUMNS}
        for name, info in files.items():
            if name not in names:
                raise damaged(f"缺少文件 {name}")
            if "table" in info and tuple(info.get("columns", ())) != expected.get(info["table"]):
                raise damaged(f"{name} 的字段与本程序的记录格式不符（可能由不同版本导出）")
            if "table" in info and not upfront:
                continue
            _matches(name, info, *_measure(zf, name, "table" in info))
    return Package(path, manifest, upfront)


def _overlong(name: str) -> StoreError:
    return StoreError(f"交换包未导入：{name} 中有一行超过每行上限 {bounds.MAX_LINE:,} 字节"
                      f"（一条记录不会这么长，包可能是人为构造的）")


def _measure(zf: zipfile.ZipFile, name: str, lines: bool) -> tuple[str, int, int]:
    """A member's sha256, size and line count, read in bounded chunks; a records file's lines are refused beyond
    bounds.MAX_LINE as soon as one is seen."""
    digest, size, rows, run = hashlib.sha256(), 0, 0, 0
    try:
        with zf.open(name) as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
                rows += chunk.count(b"\n")
                if not lines:
                    continue
                parts = chunk.split(b"\n")
                longest = max(run + len(parts[0]), 0, *map(len, parts[1:-1])) if len(parts) > 1 else run + len(chunk)
                run = len(parts[-1]) if len(parts) > 1 else run + len(chunk)
                if max(longest, run) > bounds.MAX_LINE:
                    raise _overlong(name)
    except _UNREADABLE as exc:
        raise damaged(f"{name} 无法解压") from exc
    return digest.hexdigest(), size, rows


def _text_field(value: object, limit: int = 200) -> bool:
    return isinstance(value, str) and 0 < len(value) <= limit


def manifest_problem(m: dict) -> str | None:
    """What in a manifest the import could not use (a field of the wrong kind), or None."""
    from app.store import clock

    for key in ("package_id", "site_id", "created_at"):
        if not _text_field(m.get(key), 64):
            return f"{key} 不对"
    for key in ("site_name", "county", "created_by"):
        if not isinstance(m.get(key), str) or len(m[key]) > 200:
            return f"{key} 不对"
    try:
        at = clock.local_time(m["created_at"])
    except (ValueError, TypeError, OverflowError):
        return f"导出时间 created_at（{m['created_at'][:40]}）不是有效的时间"
    if at.year < 2000:
        return f"导出时间 created_at（{m['created_at'][:40]}）不是有效的时间"
    r = m.get("range")
    if not (isinstance(r, dict) and all(isinstance(r.get(k), list) and len(r[k]) == 2
                                        and all(type(n) is int and n >= 0 for n in r[k]) for k in ("changes", "audit"))):
        return "记录范围 range 不对"
    counts = m.get("counts")
    if not isinstance(counts, dict) or not all(isinstance(k, str) and type(v) is int and v >= 0
                                               for k, v in counts.items()):
        return "条数 counts 不对"
    return None


class Readable:
    """The readable copy (记录一览.xlsx) filled as the records stream into the package, so each is read once.

    A summary sheet, then one sheet per kind of record (its first `limit` rows). Sheets are made up front, in the
    order given; tee() passes a part's rows on to the package while copying them into the sheet."""

    def __init__(self, out: Path, header: dict, sheets: list[tuple[str, list[str]]], limit: int = 200_000):
        from app.documents import xlsx

        self.out, self.limit = Path(out), limit
        self._book = book = xlsx.Book(out)
        summary = book.sheet("说明", max_width=90)
        for key, label in (("site_name", "报送站点"), ("site_id", "站点编号"), ("created_at", "导出时间"),
                           ("created_by", "导出人"), ("package_id", "交换包编号")):
            summary.row([label, str(header.get(key, ""))])
        summary.row(["记录范围", f"变更序号 {header['range']['changes'][0]}–{header['range']['changes'][1]}，"
                                f"审计序号 {header['range']['audit'][0]}–{header['range']['audit'][1]}"])
        summary.row(["说明", "本表供人查阅；导入以包内 JSON 行文件和清单为准，改动本表不影响导入"])
        self._sheets = [book.sheet(title, headers, frozen_columns=0) for title, headers in sheets]

    def tee(self, index: int, rows: Iterable[tuple]) -> Iterator[tuple]:
        """The rows, each also written to sheet `index` until the limit (bytes stay out of the sheet)."""
        sheet, limit = self._sheets[index], self.limit
        for n, row in enumerate(rows):
            if n < limit:
                sheet.row([None if v.__class__ is bytes else v for v in row])
            elif n == limit:
                sheet.note(f"（超过 {limit} 行，其余见包内 JSON 行文件）")
            yield row

    def close(self) -> Path:
        """Write the workbook out; its path."""
        return self._book.close()

    def discard(self) -> None:
        self._book.discard()


def workbook(header: dict, sheets: list[tuple[str, list[str], Iterable[tuple]]], out: Path,
             limit: int = 200_000) -> Path:
    """The readable copy, written to `out` on its own (Readable, for the rows of each sheet in turn)."""
    readable = Readable(out, header, [(title, headers) for title, headers, _ in sheets], limit)
    try:
        for index, (_, _, rows) in enumerate(sheets):
            for _ in readable.tee(index, rows):
                pass
    except BaseException:
        readable.discard()
        raise
    return readable.close()


def sheet_title(table: str) -> str:
    return NAMES.get(table, table)
