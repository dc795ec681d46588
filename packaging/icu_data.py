"""Qt's ICU data library cut down to what Qt calls (collation, codecs, time zones) for the Linux bundle.

PySide6's Linux wheel carries ICU's whole data (libicudata, 32 MB: every language's names, units, currencies,
transliterators, word-break dictionaries). Qt Core calls ICU for four things only (`nm -D --undefined-only
libQt6Core.so.6`): collation (ucol_*: QCollator, and so the file dialog's name order), codecs other than UTF and
Latin-1 (ucnv_*: QStringDecoder), time-zone names (ucal_*) and case mapping (u_strTo*, whose tables are compiled
into libicuuc). This module reads the data package out of the library (ICU's "common data" format: a table of
named items), keeps the items those calls read, for Chinese and English and the root locale every other one
falls back to, and writes a library of the same name and symbol with binutils (`as`, `ld`), so nothing else in
the bundle changes. A locale without its data falls back to root, as ICU does for any locale it does not know.
"""

from __future__ import annotations

import re
import struct
import subprocess
import tempfile
from pathlib import Path

# Whole trees of locale data Qt never reads: display names of languages, regions, currencies and units,
# spelled-out numbers, transliteration, and the word-break rules with their dictionaries (Qt breaks text itself).
DROPPED_TREES = {"brkitr", "unit", "curr", "lang", "region", "translit", "rbnf"}
# Locale bundles kept (with every script and region under them, zh_Hans_CN …): the app's language, the
# English that ICU and Qt use for C and POSIX, and root, which every other locale falls back to.
KEPT_LANGUAGES = {"root", "zh", "en"}
# Codecs kept: Chinese ones a county's files may come in (GB18030, GBK/CP936 on its base table ibm-1386,
# GB2312/EUC-CN, Big5 on its base ibm-1373) and Windows-1252. UTF-8/16/32, Latin-1 and ASCII are built into ICU's
# code, not data; cnvalias.icu (the table of codec names) stays.
KEPT_CODECS = {"gb18030.cnv", "windows-936-2000.cnv", "ibm-1386_P100-2001.cnv", "ibm-1383_P110-1999.cnv",
               "windows-950-2000.cnv", "ibm-1373_P100-2002.cnv", "ibm-5348_P100-1997.cnv"}
# Character names (u_charName) and spoofing checks (uspoof): ICU APIs Qt does not call.
DROPPED_ITEMS = {"unames.icu", "confusables.cfu", "confusablesWholeScript.cfu"}
_LOCALE_BUNDLE = re.compile(r"(root|[a-z]{2,3})(_[A-Za-z0-9]+)*\.res")
_HEADER = struct.Struct("<HBB")  # headerSize, magic1 0xda, magic2 0x27
_ALIGN = 16  # ICU reads every item in place and needs it aligned
_PAD = b"\xaa"  # what ICU's packager fills the gaps with


def wanted(name: str) -> bool:
    """Whether Qt can read the item `name` (its path inside the package, e.g. "coll/zh.res")."""
    parts = name.split("/")
    if len(parts) > 1 and parts[0] in DROPPED_TREES:
        return False
    leaf = parts[-1]
    if leaf in DROPPED_ITEMS:
        return False
    if leaf.endswith(".cnv"):
        return leaf in KEPT_CODECS
    match = _LOCALE_BUNDLE.fullmatch(leaf)
    if match and leaf not in {"res_index.res", "pool.res"}:
        return match.group(1) in KEPT_LANGUAGES
    return True


def read_package(blob: bytes) -> tuple[bytes, str, list[tuple[str, bytes]]]:
    """A common-data package: (its header, the items' name prefix such as "icudt73l", [(name, bytes), …])."""
    header_size, magic1, magic2 = _HEADER.unpack_from(blob)
    if (magic1, magic2) != (0xDA, 0x27) or blob[12:16] != b"CmnD":
        raise ValueError("not an ICU common data package")
    count = struct.unpack_from("<I", blob, header_size)[0]
    entries = [struct.unpack_from("<II", blob, header_size + 4 + 8 * i) for i in range(count)]
    names = [blob[header_size + n:blob.index(b"\0", header_size + n)].decode("ascii") for n, _ in entries]
    ends = [offset for _, offset in entries[1:]] + [len(blob) - header_size]
    items = [(name, blob[header_size + offset:header_size + end]) for name, (_, offset), end in zip(names, entries, ends)]
    prefix = names[0].split("/")[0] if count else ""
    return blob[:header_size], prefix, [(name.removeprefix(prefix + "/"), data) for name, data in items]


def write_package(header: bytes, prefix: str, items: list[tuple[str, bytes]]) -> bytes:
    """The package holding `items` in the given order, laid out as ICU's own packager (icupkg) lays it out."""
    names = b"".join(f"{prefix}/{name}".encode("ascii") + b"\0" for name, _ in items)
    table_size = 4 + 8 * len(items)
    offset = table_size + len(names)
    offset += -offset % _ALIGN
    entries, body, name_offset = [], bytearray(), table_size
    for name, data in items:
        entries.append(struct.pack("<II", name_offset, offset + len(body)))
        name_offset += len(prefix) + 2 + len(name)
        body += data + _PAD * (-len(data) % _ALIGN)
    pad = _PAD * (-(table_size + len(names)) % _ALIGN)
    return header + struct.pack("<I", len(items)) + b"".join(entries) + names + pad + bytes(body)


def _symbol(library: Path) -> tuple[str, int, int]:
    """The data symbol of an ICU data library (icudtNN_dat) with its address and size, by binutils' nm."""
    out = subprocess.run(["nm", "-D", "-S", "--defined-only", str(library)], check=True, capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 4 and re.fullmatch(r"icudt\d+_dat", fields[3]):
            return fields[3], int(fields[0], 16), int(fields[1], 16)
    raise ValueError(f"{library.name} holds no ICU data symbol")


def _file_offset(image: bytes, address: int) -> int:
    """Where the byte loaded at `address` sits in a 64-bit little-endian ELF file (its PT_LOAD segments)."""
    if image[:4] != b"\x7fELF" or image[4] != 2 or image[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF file")
    phoff, = struct.unpack_from("<Q", image, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", image, 0x36)
    for i in range(phnum):
        kind, _, offset, vaddr, _, filesz = struct.unpack_from("<IIQQQQ", image, phoff + i * phentsize)
        if kind == 1 and vaddr <= address < vaddr + filesz:
            return offset + address - vaddr
    raise ValueError(f"address {address:#x} is in no loaded segment")


def package_of(library: Path) -> tuple[str, bytes]:
    """The data symbol's name and the package it holds, read out of an ICU data library."""
    symbol, address, size = _symbol(library)
    image = library.read_bytes()
    start = _file_offset(image, address)
    return symbol, image[start:start + size]


def link(package: bytes, symbol: str, soname: str, out: Path) -> None:
    """Write a shared library named `soname` that exports `package` as `symbol`, as ICU's own build does."""
    with tempfile.TemporaryDirectory() as tmp:
        data, source, obj = Path(tmp, "data.dat"), Path(tmp, "data.s"), Path(tmp, "data.o")
        data.write_bytes(package)
        source.write_text(
            f'\t.section .rodata\n\t.globl {symbol}\n\t.type {symbol}, @object\n\t.balign {_ALIGN}\n'
            f'{symbol}:\n\t.incbin "{data}"\n\t.size {symbol}, . - {symbol}\n'
            '\t.section .note.GNU-stack,"",@progbits\n', encoding="ascii")
        subprocess.run(["as", "-o", str(obj), str(source)], check=True)
        subprocess.run(["ld", "-shared", "-soname", soname, "-o", str(out), str(obj)], check=True)


def trim(library: Path, out: Path) -> tuple[int, int]:
    """Write the cut-down copy of `library` to `out` (same soname); its package's size before and after."""
    symbol, package = package_of(library)
    header, prefix, items = read_package(package)
    trimmed = write_package(header, prefix, [(name, data) for name, data in items if wanted(name)])
    link(trimmed, symbol, library.name, out)
    return len(package), len(trimmed)
