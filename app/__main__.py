"""Entry point for `python -m app`."""

from app.cli import main

# Guarded: `check` starts worker processes, which import the main module again (as __mp_main__).
if __name__ == "__main__":
    raise SystemExit(main())
