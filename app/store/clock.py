"""Timestamps and ids for records: UTC ISO-8601 with milliseconds, and UUID4 text."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone


def now() -> str:
    """The current time, as stored in created_at / updated_at / audit entries."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def new_id() -> str:
    """A new record id that stays unique when records from many laptops meet at the county."""
    return str(uuid.uuid4())
