"""The bundle's libraries are stripped (packaging/strip.py), all but the ones wheels vendor in `*.libs/`."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "packaging"))
import strip  # noqa: E402


def test_the_wheels_vendored_libraries_are_the_ones_left_alone():
    assert strip.vendored("numpy.libs/libscipy_openblas64_-32a4b2a6.so")
    assert strip.vendored("psycopg_binary.libs/libpq-e9b5c9ac.so.5.18")
    assert not strip.vendored("PySide6/Qt/lib/libQt6Core.so.6")
    assert not strip.vendored("libpython3.11.so.1.0")
    assert not strip.vendored("numpy/_core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so")


def symbols(path: Path) -> bool:
    return ".symtab" in subprocess.run(["readelf", "-S", "-W", str(path)], capture_output=True, text=True,
                                       check=True).stdout


def test_strips_a_copy_and_keeps_it_loadable(tmp_path):
    if not all(shutil.which(tool) for tool in ("strip", "readelf")):
        pytest.skip("no binutils")
    import _json

    module = Path(getattr(_json, "__file__", "") or "/nonexistent")
    if not module.is_file() or not symbols(module):
        pytest.skip("this Python's _json is built in or comes stripped already")
    source = tmp_path / "src" / module.name
    source.parent.mkdir()
    shutil.copyfile(module, source)
    vendored = tmp_path / "src" / "libx.so"
    shutil.copyfile(module, vendored)
    toc = [(f"python3.11/lib-dynload/{module.name}", str(source), "EXTENSION"),
           ("x.libs/libx.so", str(vendored), "BINARY"),
           ("libQt6Core.so.6", "PySide6/Qt/lib/libQt6Core.so.6", "SYMLINK")]
    out = strip.stripped(toc, tmp_path / "work")
    copy = tmp_path / "work" / "python3.11" / "lib-dynload" / module.name
    assert out == [(toc[0][0], str(copy), "EXTENSION"), toc[1], toc[2]]
    assert not symbols(copy) and symbols(source) and symbols(vendored)
    assert copy.stat().st_size < source.stat().st_size
    ctypes.CDLL(str(copy))  # still a library the loader takes
