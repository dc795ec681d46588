"""The frozen build's start script: the same entry point as the `jiuzhu` console script (app.cli:main)."""

import multiprocessing
import os
import sys

from app.cli import main

if __name__ == "__main__":
    # `check` runs its pieces in worker processes: in a frozen build each worker is this executable started again,
    # which must become the worker instead of the app.
    multiprocessing.freeze_support()
    # The windowed jiuzhu.exe on Windows has no console: sys.stdout and sys.stderr are None there, and a
    # message written to them (a refused database, a progress line) would crash the app instead.
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))
    sys.exit(main())
