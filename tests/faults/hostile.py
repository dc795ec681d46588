"""Hostile files for the bounded importers, built by hand: a zip written byte by byte (so that it may lie about its
sizes), a deflate stream of a gigabyte made in a second, and the two workbooks of issue 14."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet '
              b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
SHEET_TAIL = b"</sheetData></worksheet>"
ROW = b'<row><c t="inlineStr"><is><t>a</t></is></c></row>'


def deflated(head: bytes, block: bytes, count: int, tail: bytes) -> tuple[bytes, int, int]:
    """head + block * count + tail as one raw deflate stream, its CRC-32 and size, without compressing count blocks:
    after a full flush the compressor starts afresh, so every copy of the block compresses to the same bytes."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    one = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    end = c.compress(tail) + c.flush(zlib.Z_FINISH)
    crc = zlib.crc32(head)
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(tail, crc)
    return start + one * count + end, crc, len(head) + len(block) * count + len(tail)


def write_zip(path: Path, members: dict[str, tuple[bytes, int, int]], lie: dict[str, int] | None = None) -> None:
    """A zip of already deflated members (data, crc, size); `lie` declares another size for some of them."""
    lie = lie or {}
    out, central = io.BytesIO(), []
    for name, (data, crc, size) in members.items():
        raw = name.encode()
        declared = lie.get(name, size)
        offset = out.tell()
        out.write(struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(data), declared, len(raw), 0))
        out.write(raw + data)
        central.append(struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(data), declared,
                                   len(raw), 0, 0, 0, 0, 0, offset) + raw)
    start = out.tell()
    for entry in central:
        out.write(entry)
    out.write(struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, len(central), len(central), out.tell() - start, start, 0))
    Path(path).write_bytes(out.getvalue())


def _frame() -> dict[str, tuple[bytes, int, int]]:
    """The parts of a minimal workbook other than its sheet, deflated."""
    parts = {
        "[Content_Types].xml": b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                               b'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
                               b'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
                               b'"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
                               b'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/'
                               b'worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                               b'spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                       b'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                       b'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
                           b'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
                           b'relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
                                      b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type='
                                      b'"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"'
                                      b' Target="worksheets/sheet1.xml"/></Relationships>',
    }
    return {name: deflated(b"", data, 1, b"") for name, data in parts.items()}


def workbook(path: Path, sheet_body: bytes, dimension: str | None = None) -> None:
    """A minimal .xlsx whose first sheet's data is `sheet_body` (rows of cells)."""
    head = SHEET_HEAD if dimension is None else SHEET_HEAD.replace(
        b"<sheetData>", f'<dimension ref="{dimension}"/><sheetData>'.encode())
    write_zip(path, {**_frame(), "xl/worksheets/sheet1.xml": deflated(head, sheet_body, 1, SHEET_TAIL)})


def far_cell(path: Path) -> None:
    """Issue 14's 1.6 KB workbook: one cell, at XFD1048576."""
    workbook(path, b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')


def bomb(path: Path, size: int = 1 << 30, lie: bool = False) -> None:
    """A workbook whose sheet inflates to `size` bytes of rows; with `lie`, it declares a small size."""
    block = ROW * ((1 << 20) // len(ROW))
    sheet = deflated(SHEET_HEAD, block, size // len(block), SHEET_TAIL)
    name = "xl/worksheets/sheet1.xml"
    write_zip(path, {**_frame(), name: sheet}, {name: 4 * len(sheet[0])} if lie else None)


def is_zip(path: Path) -> bool:
    with zipfile.ZipFile(path) as zf:
        return zf.testzip() is None
