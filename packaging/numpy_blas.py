"""numpy's OpenBLAS swapped for numpy's own reference BLAS and LAPACK (lapack_lite) in the Linux bundle.

numpy's Linux wheel links its core and linalg to OpenBLAS (numpy.libs/libscipy_openblas64_-*.so, 25 MB of kernels
for every x86 generation, with gfortran's runtime and libquadmath, 28.5 MB together). The batch path and 政策测算
call no BLAS routine (integer and float ufuncs, sorting, np.unique), but `import numpy` loads the library, so it
cannot simply be left out. numpy's sources carry lapack_lite, the f2c translation of the reference BLAS and of
every LAPACK routine numpy.linalg calls, which numpy builds itself from when no BLAS is found. The build takes
those files (and numpy's CBLAS header) from the source release of the pinned numpy on PyPI, checked against its
sha256, rather than keeping a copy here; `numpy_blas/` holds only what this project wrote: `cblas.c`, the CBLAS
routines numpy's core calls, and the config.h lapack_lite includes. This module compiles them with OpenBLAS's symbol names (prefix `scipy_`, suffix
`64_`, 64-bit integers, as numpy's wheel expects) into a library of the same file name and soname, so numpy loads
it unchanged: every numpy function works and gives the same results, matrix products and linalg more slowly.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.request
from pathlib import Path

OWN = Path(__file__).with_name("numpy_blas")
# The source release of the numpy in requirements.lock; a numpy upgrade changes all three together.
NUMPY = "2.4.6"
SDIST = ("https://files.pythonhosted.org/packages/d0/ad/fed0499ce6a338d2a03ebae59cd15093910c8875328855781952abf6c2fe/"
         f"numpy-{NUMPY}.tar.gz")
SDIST_SHA256 = "f3a3570c4a2a16746ac2c31a7c7c7b0c186b95ce902e33db6f28094ed7387dda"
# What is taken from it: lapack_lite's f2c sources, their names header and licence, numpy's CBLAS headers.
TAKEN = re.compile(rf"numpy-{re.escape(NUMPY)}/numpy/(linalg/lapack_lite/(f2c[a-z_]*\.[ch]|lapack_lite_names\.h|"
                   r"LICENSE\.txt)|_core/src/common/npy_cblas(_base)?\.h)")
# numpy's wheel names the routines as scipy-openblas64 does: scipy_dgesv_64_, scipy_cblas_dgemm64_.
DEFINES = ["-DHAVE_BLAS_ILP64", "-DBLAS_SYMBOL_PREFIX=scipy_", "-DBLAS_SYMBOL_SUFFIX=64_",
           "-DOPENBLAS_ILP64_NAMING_SCHEME"]
OPENBLAS = re.compile(r"libscipy_openblas64_-[0-9a-f]+\.so")
# OpenBLAS's own dependencies in numpy.libs: nothing else in the bundle links to them.
OPENBLAS_RUNTIME = re.compile(r"lib(gfortran|quadmath)-[0-9a-f-]+\.so[.0-9]*")


def sources(folder: Path) -> Path:
    """numpy's lapack_lite sources beside this project's own, in `folder/src`: the sdist downloaded once into
    `folder` (or found there), refused unless its sha256 is the pinned one."""
    import numpy

    if numpy.__version__ != NUMPY:
        raise RuntimeError(f"numpy_blas: the venv has numpy {numpy.__version__}, numpy_blas.py pins {NUMPY}: "
                           "update NUMPY, SDIST and SDIST_SHA256 together with requirements.lock")
    folder.mkdir(parents=True, exist_ok=True)
    sdist = folder / Path(SDIST).name
    if not sdist.exists() or hashlib.sha256(sdist.read_bytes()).hexdigest() != SDIST_SHA256:
        with urllib.request.urlopen(SDIST, timeout=300) as response:
            data = response.read()
        if hashlib.sha256(data).hexdigest() != SDIST_SHA256:
            raise RuntimeError(f"numpy_blas: {SDIST} does not have the pinned sha256; not building from it")
        sdist.write_bytes(data)
    src = folder / "src"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir()
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers() if m.isfile() and TAKEN.fullmatch(m.name)]
        for member in members:
            (src / Path(member.name).name).write_bytes(tar.extractfile(member).read())
    if not (src / "f2c_blas.c").exists() or not (src / "npy_cblas.h").exists():
        raise RuntimeError(f"numpy_blas: numpy {NUMPY}'s sdist no longer holds lapack_lite where expected")
    for own in OWN.iterdir():
        shutil.copy(own, src / own.name)
    return src


def build(out: Path, soname: str) -> int:
    """Compile the library into `out` with `soname`, stripped; its size in bytes."""
    import sysconfig

    import numpy

    source = sources(out.parent / "numpy-sdist")
    objects = out.parent / "objects"
    objects.mkdir(parents=True, exist_ok=True)
    flags = ["-O2", "-fPIC", "-fno-strict-aliasing", "-w", *DEFINES, f"-I{source}",
             f"-I{numpy.get_include()}", f"-I{sysconfig.get_paths()['include']}"]
    # Python.h comes in through lapack_lite's f2c.h, for types only: the library calls nothing of Python's.
    jobs = [subprocess.Popen(["gcc", "-c", *flags, str(src), "-o", str(objects / f"{src.stem}.o")])
            for src in sorted(source.glob("*.c"))]
    if any(job.wait() for job in jobs):
        raise RuntimeError("numpy_blas: a source file did not compile")
    exports = out.parent / "exports.map"
    exports.write_text("{ global: scipy_*; local: *; };\n")
    subprocess.run(["gcc", "-shared", "-o", str(out), *sorted(map(str, objects.glob("*.o"))), "-lm",
                    f"-Wl,-soname,{soname}", f"-Wl,--version-script={exports}"], check=True)
    subprocess.run(["strip", str(out)], check=True)
    return out.stat().st_size


def swapped(binaries: list[tuple[str, str, str]], workdir: Path) -> list[tuple[str, str, str]]:
    """The TOC `binaries` with numpy's OpenBLAS replaced by the library built here, and its runtime left out."""
    out = []
    for dest, src, kind in binaries:
        name = Path(dest).name
        if OPENBLAS_RUNTIME.fullmatch(name) and Path(dest).parent.name == "numpy.libs":
            continue
        if OPENBLAS.fullmatch(name):
            library = workdir / name
            library.parent.mkdir(parents=True, exist_ok=True)
            size = build(library, name)
            print(f"numpy BLAS: {Path(src).stat().st_size:,} bytes of OpenBLAS, {size:,} of lapack_lite",
                  file=sys.stderr)
            src = str(library)
        out.append((dest, src, kind))
    return out
