"""The frozen bundle: its size in bytes, its largest parts, and how long it takes to start (CPU and wall).

    python bench/bench_bundle.py                  # the bundle packaging/build.sh last built (dist/jiuzhu)
    python bench/bench_bundle.py --build          # build it first (3 minutes of wall on a busy machine)
    python bench/bench_bundle.py --dist /tmp/old/jiuzhu --runs 9     # another build, to compare

Start is timed twice, each the median of --runs fresh processes: `jiuzhu --version` (the frozen Python, the
bootloader unpacking nothing, the command line) and `jiuzhu gui --smoke` on a fresh data folder (Qt, the
first-run page, then exit). CPU is the child's user+system time, which machine load barely moves; wall is
what a caseworker waits for on this machine at the time of the run.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import emit  # noqa: E402

TARGET = 150_000_000  # bytes, `du -sb dist/jiuzhu` (issue 17, item 7)


def size(folder: Path) -> int:
    """Bytes of every file in the folder, as `du -sb` counts them (symbolic links by their own size)."""
    return sum(p.lstat().st_size for p in folder.rglob("*")) + folder.lstat().st_size


def largest(folder: Path, count: int) -> list[tuple[str, int]]:
    """The biggest entries one level inside the bundle's _internal folder."""
    inner = folder / "_internal"
    parts = [(p.name, size(p) if p.is_dir() else p.lstat().st_size) for p in inner.iterdir()]
    return sorted(parts, key=lambda part: -part[1])[:count]


def timed(cmd: list[str], env: dict) -> tuple[float, float]:
    """CPU seconds (user+system of the child) and wall seconds of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, wall


def start(exe: Path, args: list[str], runs: int) -> tuple[float, float]:
    """Median CPU and wall seconds of `runs` starts, each with a data folder of its own."""
    cpu, wall = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as home:
            env = {**os.environ, "HOME": home, "XDG_DATA_HOME": f"{home}/data", "XDG_CONFIG_HOME": f"{home}/config",
                   "QT_QPA_PLATFORM": "offscreen"}
            c, w = timed([str(exe), *args], env)
        cpu.append(c)
        wall.append(w)
    return statistics.median(cpu), statistics.median(wall)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dist", type=Path, default=ROOT / "dist" / "jiuzhu")
    ap.add_argument("--build", action="store_true", help="run packaging/build.sh first")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.build:
        subprocess.run([str(ROOT / "packaging" / "build.sh")], check=True)  # from .venv, as CI builds it
    exe = args.dist / "jiuzhu"
    if not exe.exists():
        print(f"no bundle at {args.dist}: build it with packaging/build.sh (or pass --build)", file=sys.stderr)
        return 1
    total = size(args.dist)
    rows = [("frozen bundle (du -sb)", f"{total:,} bytes ({total / 1e6:.1f} MB)", f"≤ {TARGET / 1e6:.0f} MB")]
    for name, bytes_ in largest(args.dist, 8):
        rows.append((f"  of which _internal/{name}", f"{bytes_ / 1e6:.1f} MB", ""))
    for label, cmd in (("--version", ["--version"]), ("gui --smoke, first run", ["gui", "--smoke"])):
        cpu, wall = start(exe, cmd, args.runs)
        rows.append((f"frozen start, {label} (median of {args.runs})", f"{cpu:.2f} s CPU, {wall:.2f} s wall", "no worse"))
    emit(rows, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
