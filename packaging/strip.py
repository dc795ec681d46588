"""Stripped copies of the bundle's shared libraries (Linux), leaving the ones wheels vendor in `*.libs/` as they are.

PyInstaller's own strip (`strip=True`) strips every library, and that left numpy's OpenBLAS unloadable
("ELF load command address/offset not page-aligned"): auditwheel rewrites a wheel's vendored libraries with
patchelf, whose layout binutils' strip does not keep. Those libraries sit in `<package>.libs/` and come stripped
already (all of them together carry 2 MB of symbols, OpenBLAS's), so only the others are stripped: libpython, Python's
modules, Qt's, the extension modules (40 MB of symbols and debug data).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def vendored(dest: str) -> bool:
    """Whether a bundled file (by its path in the bundle) is a library a wheel vendors (numpy.libs/…)."""
    return any(part.endswith(".libs") for part in Path(dest).parts[:-1])


def _elf(path: str) -> bool:
    with open(path, "rb") as file:
        return file.read(4) == b"\x7fELF"


def stripped(binaries: list[tuple[str, str, str]], workdir: Path) -> list[tuple[str, str, str]]:
    """The TOC `binaries` with each library but the vendored ones replaced by a stripped copy under `workdir`."""
    out = []
    for dest, src, kind in binaries:
        # SYMLINK entries (the links at the bundle's top to Qt's libraries) name their target, not a file
        if kind in ("BINARY", "EXTENSION") and not vendored(dest) and _elf(src):
            copy = workdir / dest
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, copy)
            subprocess.run(["strip", str(copy)], check=True)
            src = str(copy)
        out.append((dest, src, kind))
    return out
