"""Shared test set-up: the core is tested without a display."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
