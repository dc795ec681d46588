"""Limits on files from outside (identity lists, packages), checked before their content is read: uncompressed
size, compression ratio, a worksheet's dimensions, line length. Beyond them a file is refused whole, with a
Chinese message naming the limit, so that no file can make the app allocate without bound.

Sizes a zip declares are checked first (that refuses a zip bomb before a byte is inflated); then the members are
inflated with a counter that stops at the limit, because a declared size is the attacker's word and the reader
that comes after (calamine, for workbooks) does not check it."""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from app.exchange import workbook_parts

MAX_ROWS = 1_048_576
MAX_COLUMNS = 64
# The reader holds a worksheet's whole bounding box (32 bytes a cell), so its area is bounded too: 512 MB at most.
MAX_CELLS = 16_777_216
MAX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_RATIO = 200          # for members above RATIO_FROM; real workbooks and packages compress 5–30 times
RATIO_FROM = 1024 * 1024
MAX_MEMBERS = 10_000
MAX_LINE = 1024 * 1024   # one record of a package; the largest real one is a few KB
_MB = 1024 * 1024


class TooLarge(ValueError):
    """A file beyond a limit; the message (Chinese) names the limit."""


class Damaged(ValueError):
    """A zip whose structure does not hold together (a member cannot be found or inflated as declared)."""


class ErrorCells(ValueError):
    """A workbook whose formula-error cells cannot be told apart from empty ones where the list is read."""


def _mb(n: int) -> str:
    return f"{n / _MB:,.0f} MB" if n >= _MB else f"{n:,} 字节"


def check_zip(zf: zipfile.ZipFile, label: str, limit: int = MAX_UNCOMPRESSED) -> list[zipfile.ZipInfo]:
    """Refuse a zip whose declared member count, total uncompressed size or compression ratio is beyond the limits."""
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise TooLarge(f"{label}包含 {len(infos):,} 个文件，超过上限 {MAX_MEMBERS:,} 个")
    total = sum(i.file_size for i in infos)
    if total > limit:
        raise TooLarge(f"{label}解压后有 {_mb(total)}，超过上限 {_mb(limit)}")
    for i in infos:
        if i.file_size > RATIO_FROM and i.file_size > MAX_RATIO * max(i.compress_size, 1):
            raise TooLarge(f"{label}{i.filename} 压缩比为 {i.file_size // max(i.compress_size, 1):,} 倍，"
                           f"超过上限 {MAX_RATIO} 倍（疑似“压缩炸弹”）")
        if i.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise Damaged(f"{label}{i.filename} 使用了不支持的压缩方式")
    return infos


def inflate(path: Path, info: zipfile.ZipInfo, label: str, budget: int) -> Iterator[bytes]:
    """A member's bytes as the compressed data really inflates, in chunks, refused past `budget` or its declared size.

    Read from the raw deflate stream (not through zipfile, which trusts the declared size and stops there)."""
    limit = min(budget, info.file_size)
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        header = f.read(30)
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            raise Damaged(f"{label}{info.filename} 的位置不对")
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        f.seek(name_len + extra_len, 1)
        left = info.compress_size
        inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
        seen = 0
        while left > 0 or (inflater is not None and inflater.unconsumed_tail):
            raw = b""
            if inflater is None or not inflater.unconsumed_tail:
                raw = f.read(min(left, 1 << 20))
                if not raw:
                    break
                left -= len(raw)
            try:
                out = raw if inflater is None else inflater.decompress(inflater.unconsumed_tail + raw, 1 << 20)
            except zlib.error as exc:
                raise Damaged(f"{label}{info.filename} 无法解压") from exc
            seen += len(out)
            if seen > limit:
                if seen > budget:
                    raise TooLarge(f"{label}解压后超过上限 {_mb(MAX_UNCOMPRESSED)}")
                raise Damaged(f"{label}{info.filename} 实际解压大小超过它声明的 {_mb(info.file_size)}")
            yield out
            if inflater is not None and inflater.eof:
                break


# Row and cell start tags and the references they may carry, matched over whole chunks in C (a county roster has
# millions of cells, too many to look at one by one in Python). Excel, WPS and the libraries that write rosters use
# no namespace prefix on these elements; a sheet that does is refused rather than scanned slowly.
_ROW_REF = re.compile(rb'<row(?=\s)[^>]*?\sr="(\d+)"')
_CELL_COLUMN = re.compile(rb'<c(?=\s)[^>]*?\sr="([A-Za-z]+)\d')
_ROW_SPLIT = re.compile(rb"<row[\s/>]")
_PREFIXED = re.compile(rb"<[A-Za-z_][\w.-]*:(?:row|c)[\s/>]")
_DIMENSION = re.compile(rb'<dimension\s+ref="(?:[A-Za-z]+\d+:)?([A-Za-z]+)(\d+)"')
# A cell holding a formula's error (#N/A, #REF! …). calamine reads it as an empty cell, and an empty optional amount
# means "not filled", so where it is matters: collected here, where every worksheet's XML is scanned anyway.
_ERROR_CELL = re.compile(rb'<c(?=\s)[^>]*?\st\s*=\s*(["\'])e\1[^>]*?(/?)>')
_CELL_REF = re.compile(rb'\sr\s*=\s*["\']([A-Za-z]{1,3})(\d{1,7})["\']')
_ERROR_VALUE = re.compile(rb'<v>(#[^<]{1,20})</v>')
# More error cells than this in the sheet a list is read from is no list to import cell by cell.
MAX_ERROR_CELLS = 10_000
# How far past an error cell's start its value is looked for (a formula of a few KB comes first).
ERROR_VALUE_WITHIN = 16 * 1024

# (row, column), both from 0, and the error's text (#N/A …; "" when the file does not say it where it was looked for).
ErrorCell = tuple[int, int, str]


def _tags(data: bytes, name: bytes) -> int:
    return data.count(b"<" + name + b" ") + data.count(b"<" + name + b">") + data.count(b"<" + name + b"/")


def _column(letters: bytes) -> int:
    if len(letters) > 3:
        return 10 ** 9
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def _cell_name(rows: int, cols: int) -> str:
    name, n = "", cols
    while n:
        n, r = divmod(n - 1, 26)
        name = chr(65 + r) + name
    return f"{name}{rows}"


def _within(rows: int, cols: int, label: str, where: str) -> None:
    if rows > MAX_ROWS:
        raise TooLarge(f"{label}{where}到第 {rows:,} 行，超过上限 {MAX_ROWS:,} 行")
    if cols > MAX_COLUMNS:
        raise TooLarge(f"{label}{where}到第 {cols:,} 列（{_cell_name(rows, cols)}），超过上限 {MAX_COLUMNS} 列")
    if rows * cols > MAX_CELLS:
        raise TooLarge(f"{label}{where}的范围为 {rows:,} 行 × {cols:,} 列，超过上限 {MAX_CELLS:,} 个单元格")


def check_workbook(path: Path, label: str) -> list[ErrorCell]:
    """Refuse an .xlsx beyond the limits: declared sizes and ratio, real inflated sizes, each worksheet's declared
    dimension and the furthest row and column its cells really reach. Reads the file once, in bounded chunks.

    Returns the cells of the first worksheet (the one a list is read from) holding a formula's error."""
    path = Path(path)
    if path.stat().st_size > MAX_UNCOMPRESSED:
        raise TooLarge(f"{label}有 {_mb(path.stat().st_size)}，超过上限 {_mb(MAX_UNCOMPRESSED)}")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = check_zip(zf, label)
            sheets = workbook_parts.worksheets(zf)
    except NotImplementedError as exc:  # a zip feature Python's reader lacks (e.g. "zip file version 8.8")
        raise Damaged(f"{label}使用了不支持的 zip 格式（{exc}）") from None
    budget = MAX_UNCOMPRESSED
    errors: list[ErrorCell] = []
    # Part names compared as calamine finds them: regardless of case.
    named = {s.lower() for s in sheets}
    first = sheets[0].lower() if sheets else None
    if first not in {i.filename.lower() for i in infos}:
        first = None  # which sheet is read cannot be told: every sheet's error cells count (see below)
    for info in infos:
        used = 0
        mine = first is None or info.filename.lower() == first
        for chunk in _sheet_checked(inflate(path, info, label, budget), info.filename, label, named,
                                    errors if mine else None):
            used += len(chunk)
        budget -= used
    if errors and first is None:
        raise ErrorCells(f"{label}有单元格是公式的错误值（如 #N/A），而工作簿的目录看不出名单在哪一张工作表；请在 Excel 或"
                         f" WPS 中修正公式（或复制后“选择性粘贴 → 数值”），另存为 .xlsx 再导入")
    return errors


def _sheet_checked(chunks: Iterator[bytes], name: str, label: str, sheets: set[str],
                   errors: list[ErrorCell] | None) -> Iterator[bytes]:
    """The chunks passed through, a worksheet's extent checked on the way (and its error cells collected into
    `errors`, if given). A worksheet is any the workbook names as one (`sheets`, lower case), wherever stored, or a
    part where Excel stores them."""
    if name.lower() not in sheets and not re.fullmatch(r"xl/worksheets/[^/]+\.xml", name, re.IGNORECASE):
        return chunks
    return _extent(chunks, label, f"工作表 {name.rsplit('/', 1)[-1]} ", errors)


def _error_cells(data: bytes, label: str, where: str, found: list[ErrorCell]) -> None:
    """Add the error cells of a piece of a worksheet (whole tags only) to `found`; refuse a sheet of too many, or one
    whose error cell carries no reference (its place could only be counted, and calamine would read it empty)."""
    for m in _ERROR_CELL.finditer(data):
        ref = _CELL_REF.search(m.group(0))
        if ref is None:
            raise ErrorCells(f"{label}{where}中有公式错误值的单元格没有标明位置，本程序无法确定是哪一格；请在 Excel 或 WPS 中"
                             f"修正公式（或复制后“粘贴为数值”），另存为 .xlsx 再导入")
        value = b""
        if not m.group(2):  # <c …>…</c>: its value is before the cell's end, when this piece holds it
            end = data.find(b"</c>", m.end(), m.end() + ERROR_VALUE_WITHIN)
            shown = _ERROR_VALUE.search(data, m.end(), end) if end >= 0 else None
            value = shown.group(1) if shown else b""
        found.append((_number(ref.group(2)) - 1, _column(ref.group(1)) - 1, value.decode("utf-8", "replace")))
        if len(found) > MAX_ERROR_CELLS:
            raise ErrorCells(f"{label}{where}中超过 {MAX_ERROR_CELLS:,} 个单元格是公式错误值（如 #N/A），不是可以导入的名单；"
                             f"请修正公式后再导入")


def _extent(chunks: Iterator[bytes], label: str, where: str, errors: list[ErrorCell] | None) -> Iterator[bytes]:
    """Pass a worksheet's XML through, refusing it once its declared dimension, or the furthest row or column its
    cells really reach (by reference, or by position where a cell carries none), is beyond the limits; its error
    cells are added to `errors`, if given."""
    rows = cols = row_tags = open_row = 0
    tail = b""
    first = True
    for chunk in chunks:
        yield chunk
        data = tail + chunk
        open_at = data.rfind(b"<")
        if open_at >= 0 and b">" not in data[open_at:]:  # a tag cut by the chunk: look at it with the next one
            data, tail = data[:open_at], data[open_at:]
            if len(tail) > MAX_LINE:
                raise TooLarge(f"{label}{where}中有一个超过 {_mb(MAX_LINE)} 的标记，文件已损坏或被人为构造")
        else:
            tail = b""
        if first:
            declared = _DIMENSION.search(data[:4096])
            if declared:
                _within(_number(declared.group(2)), _column(declared.group(1)), label, f"{where}声明的范围")
            first = False
        if (b":row" in data or b":c" in data) and _PREFIXED.search(data):
            raise TooLarge(f"{label}{where}的行或单元格标记带有命名空间前缀，本程序不读这种写法；"
                           f"请在 Excel 或 WPS 中打开后另存为 .xlsx 再导入")
        if errors is not None and (b'"e"' in data or b"'e'" in data):
            _error_cells(data, label, where, errors)
        refs = _ROW_REF.findall(data)
        row_tags += _tags(data, b"row")
        rows = max(rows, row_tags, *(_number(r) for r in set(refs)))
        letters = _CELL_COLUMN.findall(data)
        cols = max(cols, 0, *(_column(c) for c in set(letters)))
        if _tags(data, b"c") > len(letters):  # cells placed by position: count them row by row
            counts = [_tags(seg, b"c") for seg in _ROW_SPLIT.split(data)]
            counts[0] += open_row
            open_row = counts[-1]
            cols = max(cols, *counts)
        _within(rows, cols, label, where)


def _number(digits: bytes) -> int:
    return int(digits) if len(digits) <= 9 else 10 ** 9


def lines(f: IO[bytes], label: str, cap: int = MAX_LINE) -> Iterator[bytes]:
    """The lines of a stream, each refused if longer than `cap` (never one unbounded read)."""
    n = 0
    while line := f.readline(cap + 1):
        n += 1
        if len(line) > cap:
            raise TooLarge(f"{label} 第 {n} 行超过 {_mb(cap)}，超过每行的上限")
        yield line


def read_capped(f: IO[bytes], label: str, cap: int) -> bytes:
    """All of a stream, refused if longer than `cap`."""
    data = f.read(cap + 1)
    if len(data) > cap:
        raise TooLarge(f"{label}超过上限 {_mb(cap)}")
    return data
