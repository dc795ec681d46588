"""Which members of an .xlsx are its worksheets, in the workbook's own order (the first is the one a list is read
from), as xl/workbook.xml and its relationships say: by the relationship's type, wherever the part is stored."""

from __future__ import annotations

import posixpath
import zipfile
import zlib
from xml.etree import ElementTree

# The two parts are a few KB in real workbooks; larger is no workbook a list came in.
MAX_PART = 4 * 1024 * 1024


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _part(zf: zipfile.ZipFile, name: str) -> ElementTree.Element | None:
    try:
        info = zf.getinfo(name)
        if info.file_size > MAX_PART:
            return None
        with zf.open(info) as f:
            return ElementTree.fromstring(f.read(MAX_PART + 1))
    except (KeyError, OSError, zipfile.BadZipFile, ElementTree.ParseError, RuntimeError, EOFError, ValueError,
            zlib.error):
        # A damaged part: bounds inflates every member itself next and says what is wrong.
        return None


def worksheets(zf: zipfile.ZipFile) -> list[str]:
    """The worksheet members in the workbook's order (chart sheets and dialog sheets left out); empty if the
    workbook's parts do not say. Namespaces are matched by local name (transitional and strict workbooks differ)."""
    book, rels = _part(zf, "xl/workbook.xml"), _part(zf, "xl/_rels/workbook.xml.rels")
    if book is None or rels is None:
        return []
    targets = {}
    for r in rels.iter():
        if _local(r.tag) == "Relationship" and r.get("Type", "").endswith("/worksheet"):
            target = r.get("Target", "")
            targets[r.get("Id")] = target.lstrip("/") if target.startswith("/") else \
                posixpath.normpath(posixpath.join("xl", target))
    found = []
    for sheet in (e for e in book.iter() if _local(e.tag) == "sheet"):
        rid = next((v for k, v in sheet.attrib.items() if _local(k) == "id"), None)
        if rid in targets:
            found.append(targets[rid])
    return found
