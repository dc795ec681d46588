"""Shared test set-up: the core is tested without a display."""

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# QSettings (window layout) must not write into the developer's own configuration.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="jiuzhu-test-config-")
