"""The bundle's stand-in for numpy's OpenBLAS (packaging/numpy_blas.py) gives numpy the same answers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "packaging"))
import numpy_blas  # noqa: E402

# Each product and decomposition numpy hands to BLAS or LAPACK, in real and complex, single and double precision,
# on row- and column-major operands and transposed views (the CBLAS layer turns row-major calls around).
PROGRAM = r"""
import sys
import numpy as np

rng = np.random.default_rng(7)
out = {}
for dtype in (np.float32, np.float64, np.complex64, np.complex128):
    def arr(*shape):
        a = rng.standard_normal(shape)
        if np.issubdtype(dtype, np.complexfloating):
            a = a + 1j * rng.standard_normal(shape)
        return a.astype(dtype)
    a, b, v, w = arr(7, 5), arr(5, 6), arr(5), arr(7)
    sq = arr(6, 6) + 6 * np.eye(6, dtype=dtype)
    hermitian = sq @ sq.conj().T
    k = np.dtype(dtype).name
    out[f"{k} gemm"] = a @ b
    out[f"{k} gemm F-order"] = np.asfortranarray(a) @ np.asfortranarray(b)
    out[f"{k} gemm transposed"] = b.T @ a.T
    out[f"{k} gemm strided"] = a[::2] @ b[:, ::2]
    out[f"{k} gemv"] = a @ v
    out[f"{k} gemv transposed"] = a.T @ w
    out[f"{k} gemv F-order"] = np.asfortranarray(a) @ v
    out[f"{k} dot"] = np.dot(v, v[::-1])
    out[f"{k} vdot"] = np.vdot(v, v[::-1])
    out[f"{k} syrk"] = a @ a.T
    out[f"{k} syrk transposed"] = a.T @ a
    out[f"{k} syrk F-order"] = np.asfortranarray(a).T @ np.asfortranarray(a)
    out[f"{k} solve"] = np.linalg.solve(sq, arr(6, 2))
    out[f"{k} inv"] = np.linalg.inv(sq)
    out[f"{k} det"] = np.linalg.det(sq)
    out[f"{k} cholesky"] = np.linalg.cholesky(hermitian)
    out[f"{k} eigvalsh"] = np.linalg.eigvalsh(hermitian)
    out[f"{k} eigvals"] = np.sort_complex(np.linalg.eigvals(sq))
    out[f"{k} svd"] = np.linalg.svd(a, compute_uv=False)
    out[f"{k} lstsq"] = np.linalg.lstsq(a, w, rcond=None)[0]
    out[f"{k} qr"] = np.abs(np.linalg.qr(a, mode="r"))
    out[f"{k} pinv"] = np.linalg.pinv(a)
out["int matmul"] = np.arange(12).reshape(3, 4) @ np.arange(8).reshape(4, 2)
np.savez(sys.argv[1], **out)
# which library answered: the test checks it is the one it built
print(next(line.split()[-1] for line in open("/proc/self/maps") if "openblas" in line))
"""


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    if not shutil.which("gcc") or not shutil.which("strip"):
        pytest.skip("no C compiler")
    wheel = next(Path(np.__file__).parent.parent.glob("numpy.libs/libscipy_openblas64_-*.so"), None)
    if wheel is None:
        pytest.skip("this numpy does not come with the wheel's OpenBLAS")
    out = tmp_path_factory.mktemp("numpy_blas") / wheel.name
    numpy_blas.build(out, wheel.name)
    return out


def test_numpy_answers_the_same_on_it(library, tmp_path):
    expected, got = tmp_path / "expected.npz", tmp_path / "got.npz"
    subprocess.run([sys.executable, "-c", PROGRAM, str(expected)], check=True, capture_output=True)
    # The loader takes an already loaded library for numpy's dependency of the same soname, so numpy runs on ours.
    run = subprocess.run([sys.executable, "-c", PROGRAM, str(got)], check=True, capture_output=True, text=True,
                         env={**os.environ, "LD_PRELOAD": str(library)})
    assert run.stdout.strip() == str(library)
    with np.load(expected) as want, np.load(got) as have:
        assert sorted(want.files) == sorted(have.files)
        for name in want.files:
            tolerance = 1e-3 if "float32" in name or "complex64" in name else 1e-9
            np.testing.assert_allclose(have[name], want[name], rtol=tolerance, atol=tolerance, err_msg=name)


def test_it_has_every_routine_numpy_asks_for(library):
    def symbols(path, flag):
        out = subprocess.run(["nm", "-D", flag, str(path)], capture_output=True, text=True, check=True).stdout
        return {line.split()[-1] for line in out.splitlines() if "scipy_" in line}

    numpy_dir = Path(np.__file__).parent
    asked = set().union(*(symbols(ext, "--undefined-only") for ext in numpy_dir.rglob("*.so")))
    assert asked, "numpy's extension modules name no scipy_ routine"
    assert asked <= symbols(library, "--defined-only")
    assert not {name for name in symbols(library, "--undefined-only")}, "it must not call back into numpy"


def test_the_swap_drops_openblas_and_its_fortran_runtime(tmp_path, monkeypatch):
    built = []
    monkeypatch.setattr(numpy_blas, "build", lambda out, soname: built.append((out, soname)) or 1)
    wheel = tmp_path / "wheel.so"
    wheel.write_bytes(b"\x7fELF")
    toc = [("numpy.libs/libscipy_openblas64_-32a4b2a6.so", str(wheel), "BINARY"),
           ("numpy.libs/libgfortran-040039e1-0352e75f.so.5.0.0", "/wheel/gfortran", "BINARY"),
           ("numpy.libs/libquadmath-96973f99-934c22de.so.0.0.0", "/wheel/quadmath", "BINARY"),
           ("numpy/_core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so", "/wheel/umath.so", "EXTENSION"),
           ("libgfortran.so.5", "/usr/lib/libgfortran.so.5", "BINARY")]
    out = numpy_blas.swapped(toc, tmp_path / "work")
    assert [dest for dest, _, _ in out] == ["numpy.libs/libscipy_openblas64_-32a4b2a6.so",
                                            "numpy/_core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so",
                                            "libgfortran.so.5"]
    library = tmp_path / "work" / "libscipy_openblas64_-32a4b2a6.so"
    assert out[0][1] == str(library)
    assert built == [(library, "libscipy_openblas64_-32a4b2a6.so")]
