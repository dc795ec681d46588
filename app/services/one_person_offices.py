"""Offices with a single caseworker: where the county administrator lets one person take two local workflow steps."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from app.domain.errors import FieldError
from app.store import records
from app.store.db import transaction
from app.workflow import duties

if TYPE_CHECKING:  # the session asks this module, so it is not imported at run time
    from app.services.session import Session

SETTING = duties.ONE_PERSON_SETTING


def offices(store) -> list[str]:
    """The township (9-digit) and village (12-digit) codes the county has so marked."""
    return list(store.setting(SETTING, []) or [])


def set_offices(session: Session, codes: list[str]) -> list[str]:
    """Replace the list (county administrator only; audited with who changed it and when)."""
    clean = checked(session, codes)
    with transaction(session.conn):
        records.put_setting(session.conn, session.user, SETTING, clean, "设置仅一名经办人的乡镇或村（可一人办理两个环节）")
    return clean


def checked(session: Session, codes: list[str]) -> list[str]:
    """The codes as they would be stored, or the refusal: lets a form check them before saving anything."""
    session.require("change_settings")
    clean: list[str] = []
    for raw in codes:
        code = str(raw).strip()
        if not code:
            continue
        if not re.fullmatch(r"\d{9}|\d{12}", code):
            raise FieldError("one_person_offices", f"“{code}”不是乡镇（9 位）或村（12 位）统计用区划代码")
        session.require_region(code.ljust(12, "0"), "one_person_offices")
        if code not in clean:
            clean.append(code)
    return clean
