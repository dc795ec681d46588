"""Running the real command line in a subprocess and killing it with SIGKILL after a seeded random delay."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CAN_KILL = hasattr(signal, "SIGKILL")


def spawn(argv: list[str], log: Path) -> subprocess.Popen:
    """Start `argv` (a script path or `-m app …`) under this Python; its output goes unbuffered to `log`.

    Unbuffered, so that the output read after a kill is everything the process had said when it died."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"}
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, *argv], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)


def app(*args: str) -> list[str]:
    """The argv of `python -m app ARGS`."""
    return ["-m", "app", *args]


@dataclass
class Kill:
    """Where one kill landed: after how long, whether the process had already finished, what it had printed."""

    delay: float
    finished: bool
    returncode: int
    output: str


def kill_after(argv: list[str], delay: float, log: Path) -> Kill:
    """Run `argv`, SIGKILL it `delay` seconds after it starts (unless it has finished by then)."""
    proc = spawn(argv, log)
    try:
        proc.wait(timeout=delay)
        finished = True
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        finished = False
    return Kill(delay, finished, proc.returncode, log.read_text(encoding="utf-8", errors="replace"))


def run_to_end(argv: list[str], log: Path, timeout: float = 600) -> tuple[float, str]:
    """Run `argv` uninterrupted; its wall time and output. Fails the test if it does not exit 0."""
    started = time.perf_counter()
    proc = spawn(argv, log)
    returncode = proc.wait(timeout=timeout)
    elapsed = time.perf_counter() - started
    output = log.read_text(encoding="utf-8", errors="replace")
    assert returncode == 0, f"{' '.join(argv)} exited {returncode}:\n{output}"
    return elapsed, output


def cli(*args: str) -> tuple[int, str, str]:
    """Run the command line in this process (no interpreter start-up): exit code, stdout, stderr."""
    from app.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()
