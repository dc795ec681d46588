"""Bounded importers: how fast, and in how much memory, the hostile files of issue 14 are refused, and what the
largest workbook the limits accept costs to read.

Each file is read in a child process of its own, which reports its wall time and peak resident memory (so one
case's memory is not another's). The files are built in a temporary folder first (outside the timings):
- the 1.6 KB workbook with one cell at XFD1048576;
- a zip-bomb workbook whose sheet inflates to 1 GB (declared honestly), and one that declares 4 times its
  compressed size and really inflates to 1 GB;
- the largest sheet the limits accept: a cell at A1 and one at P1048576 (1,048,576 rows × 16 columns, the
  16,777,216-cell ceiling), read whole;
- a package whose one record line is 3 MB;
- settle cases with a 5,000-digit number and 100,000-deep nesting.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import emit, machine  # noqa: E402
from tests.faults import hostile  # noqa: E402

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
t0 = time.perf_counter()
outcome = "accepted"
try:
{body}
except Exception as exc:
    outcome = str(exc)[:160]
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"seconds": seconds, "peak_mb": peak, "outcome": outcome}}, ensure_ascii=False))
"""


def measure(body: str) -> dict:
    """Run `body` (indented Python) in a fresh interpreter; its time, peak memory and outcome."""
    code = CHILD.format(root=str(ROOT), body="\n".join("    " + line for line in body.strip().splitlines()))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _long_line_package(folder: Path) -> Path:
    """A package from a fresh site, its person line padded to 3 MB of hex, checksums made right again."""
    from app.services import packages, registry
    from app.services.session import SYSTEM, Session
    from app.store.store import open_store
    from tests.exchange.sealing import export_inner
    from tests.faults.test_fuzz_bounds import _rewritten

    session = Session(open_store(folder / "site.sqlite3", daily_backup=False), SYSTEM)
    registry.register_household(session, "340223100201", "第一户", registry.PersonInput("张三", "340223198001010017"))
    good = folder / "good.jzpkg"
    export_inner(session, good)  # the package inside its envelope: the long line is refused by its own checks
    session.store.close()
    import hashlib
    import zipfile

    with zipfile.ZipFile(good) as zf:
        line = json.loads(zf.read("records/persons.jsonl").splitlines()[0])
    line["name"] = "".join(hashlib.sha256(str(i).encode()).hexdigest() for i in range((3 << 20) // 64))
    bad = folder / "long-line.jzpkg"
    _rewritten(good, bad, member="records/persons.jsonl",
               data=json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
    return bad


def run() -> list[tuple[str, dict]]:
    with tempfile.TemporaryDirectory(prefix="jiuzhu-bench-bounds-") as tmp:
        folder = Path(tmp)
        hostile.far_cell(folder / "far.xlsx")
        hostile.bomb(folder / "bomb.xlsx", size=1 << 30)
        hostile.bomb(folder / "lying.xlsx", size=1 << 30, lie=True)
        hostile.workbook(folder / "largest.xlsx", '<row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c>'
                                                  '<c r="B1" t="inlineStr"><is><t>身份证号</t></is></c></row>'
                                                  '<row r="1048576"><c r="P1048576"><v>1</v></c></row>'.encode())
        package = _long_line_package(folder)
        (folder / "digits.json").write_text('{"policy": "wuhu-2022", "visits": [{"total_cost": ' + "9" * 5000 + "}]}")
        (folder / "deep.json").write_text('{"policy": ' + "[" * 100_000 + "]" * 100_000 + "}")
        read = "from app.exchange.identity_lists import read_list\nread_list({!r})"
        cases = [
            (f"1.6 KB workbook, one cell at XFD1048576 ({(folder / 'far.xlsx').stat().st_size:,} bytes)",
             read.format(str(folder / "far.xlsx"))),
            (f"zip-bomb workbook, 1 GB inflated ({(folder / 'bomb.xlsx').stat().st_size / 2**20:.1f} MB file)",
             read.format(str(folder / "bomb.xlsx"))),
            ("zip-bomb workbook declaring a small size, 1 GB inflated", read.format(str(folder / "lying.xlsx"))),
            ("largest accepted sheet: 1,048,576 rows × 16 columns, read whole", read.format(str(folder / "largest.xlsx"))),
            ("package with one 3 MB line",
             "from app.exchange import package\nfrom app.exchange.county_db import local_entities\n"
             f"package.open_package({str(package)!r}, local_entities())"),
        ]
        out = [(name, measure(body)) for name, body in cases]
        for name, file in (("settle, a 5,000-digit number", "digits.json"), ("settle, nesting 100,000 deep", "deep.json")):
            out.append((name, measure("from app.cli import main\nimport contextlib, io\n"
                                      "with contextlib.redirect_stderr(io.StringIO()) as err:\n"
                                      f"    code = main(['settle', {str(folder / file)!r}])\n"
                                      "raise RuntimeError(f'exit {code}: {err.getvalue().strip()}')")))
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="PATH", help="also write the figures there (bench/run.py)")
    args = parser.parse_args()
    results = run()
    print(f"machine: {machine()}; each case in its own process")
    for name, r in results:
        print(f"{name}: {r['outcome']}")
    emit([(f"bounded import: {name}", f"{r['seconds']:.2f} s, peak {r['peak_mb']:,.0f} MB"
           + ("" if r["outcome"] != "accepted" else " (accepted)"),
           "< 1,024 MB" if r["outcome"] == "accepted" else "refused in < 10 s, < 1,024 MB")
          for name, r in results], args.json)


if __name__ == "__main__":
    main()
