"""Running the real command line in a subprocess and killing it with SIGKILL a seeded delay after one of its own
progress lines.

A kill is placed by what the process has done, never by the time since it started: interpreter start-up and
imports take from a fraction of a second to several on a loaded machine, so a timer from the start lands anywhere
from "nothing opened yet" to "all done". The process prints a line per unit of work (flushed); the test waits for
line K and kills a small seeded delay after it, so the kill lands inside the work however slow the machine is.
"""

from __future__ import annotations

import contextlib
import io
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CAN_KILL = hasattr(signal, "SIGKILL")
# How long to wait for the next line before calling the process stuck: generous, since it waits for an event.
PATIENCE = 600
LINE_END = re.compile(rb"[\r\n]")  # a terminal's progress line is rewritten with \r; a log's ends with \n
# A command that changes records signs in: as the demo county's administrator, the password on standard input.
AS_ADMIN = ("--user", "admin", "--password-stdin")


def password_input(argv) -> str | None:
    """What a run's standard input holds: the demo password when it signs in with --password-stdin."""
    from app.services.demo import DEMO_PASSWORD

    return DEMO_PASSWORD + "\n" if "--password-stdin" in argv else None


class Watched:
    """A started process whose merged output is copied to a log file and read line by line as it comes."""

    def __init__(self, argv: list[str], log: Path) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"}
        self.started = time.perf_counter()
        given = password_input(argv)
        self.proc = subprocess.Popen([sys.executable, *argv], cwd=ROOT, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=env,
                                     stdin=subprocess.DEVNULL if given is None else subprocess.PIPE)
        if given is not None:
            self.proc.stdin.write(given.encode("utf-8"))
            self.proc.stdin.close()
        self.log = log
        self.lines: queue.Queue[tuple[float, str] | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        pending = b""
        with self.log.open("wb") as out:
            while chunk := os.read(self.proc.stdout.fileno(), 65536):
                out.write(chunk)
                out.flush()
                pending += chunk
                *whole, pending = LINE_END.split(pending)
                seen = time.perf_counter()
                for line in whole:
                    if line.strip():
                        self.lines.put((seen, line.decode("utf-8", errors="replace").strip()))
        if pending.strip():
            self.lines.put((time.perf_counter(), pending.decode("utf-8", errors="replace").strip()))
        self.lines.put(None)

    def next_line(self) -> tuple[float, str] | None:
        """The next output line and when it was read; None once the process has closed its output."""
        try:
            return self.lines.get(timeout=PATIENCE)
        except queue.Empty:
            raise AssertionError(f"no output for {PATIENCE} s: the process is stuck ({self.log})") from None

    def finish(self) -> str:
        """Wait for the process and its output to end; everything it printed."""
        self.proc.wait(timeout=PATIENCE)
        self._reader.join(timeout=PATIENCE)
        self.proc.stdout.close()
        return self.log.read_text(encoding="utf-8", errors="replace")


def app(*args: str) -> list[str]:
    """The argv of `python -m app ARGS`."""
    return ["-m", "app", *args]


@dataclass
class Reference:
    """An uninterrupted run: its wall time, output, and when each progress line came (seconds after the first)."""

    took: float
    output: str
    marks: list[float]  # the progress lines' times, then the time the output ended

    def gap_after(self, k: int) -> float:
        """How long the work ran from progress line k (from 1) to the next line, or to its end after the last."""
        return self.marks[k] - self.marks[k - 1]


def run_to_end(argv: list[str], log: Path, progress: re.Pattern | None = None) -> Reference:
    """Run `argv` uninterrupted, noting when each line matching `progress` came. Fails the test unless it exits 0."""
    run = Watched(argv, log)
    marks = []
    while (item := run.next_line()) is not None:
        if progress and progress.search(item[1]):
            marks.append(item[0])
    marks.append(time.perf_counter())
    output = run.finish()
    took = time.perf_counter() - run.started
    assert run.proc.returncode == 0, f"{' '.join(argv)} exited {run.proc.returncode}:\n{output}"
    return Reference(took, output, [m - marks[0] for m in marks])


@dataclass
class Kill:
    """Where one kill landed: after which progress line and delay, whether the process had finished first, and
    everything it printed (so a test can tell which step it had reached)."""

    line: int
    delay: float
    finished: bool
    returncode: int
    output: str


def kill_after_line(argv: list[str], progress: re.Pattern, line: int, delay: float, log: Path) -> Kill:
    """Run `argv`; `delay` seconds after its `line`-th line matching `progress`, SIGKILL it (unless it ended first).

    The delay is the only timed step, and it is measured from the line: how slowly the process started, or how
    loaded the machine is, does not move the kill out of the work."""
    run = Watched(argv, log)
    seen = 0
    while seen < line and (item := run.next_line()) is not None:
        seen += bool(progress.search(item[1]))
    if seen == line:
        try:
            run.proc.wait(timeout=delay)  # places the kill; returns at once should the process end first
        except subprocess.TimeoutExpired:
            run.proc.send_signal(signal.SIGKILL)
    output = run.finish()
    return Kill(line, delay, run.proc.returncode != -signal.SIGKILL, run.proc.returncode, output)


def cli(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    """Run the command line in this process (no interpreter start-up): exit code, stdout, stderr. Standard input
    holds `stdin`, or the demo password when the command signs in with --password-stdin."""
    from app.cli import main

    out, err = io.StringIO(), io.StringIO()
    given = stdin if stdin is not None else password_input(args) or ""
    stdin, sys.stdin = sys.stdin, io.StringIO(given)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    finally:
        sys.stdin = stdin
    return code, out.getvalue(), err.getvalue()
