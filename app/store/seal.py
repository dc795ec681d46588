"""Seals: which columns of each audited record are evidence, and the hash of their values as written.

A record's seal is carried by the audit entry that last wrote it (audit_log.row_hash), so a change made to the row
by other means than the program (plain SQL, a hex editor) no longer matches, and `check` names the record and the
field. The columns are listed rather than taken as "all": a later migration that adds a column must not break every
seal, and one that changes a sealed column must re-seal what it changed, on purpose, with its own audit entries.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

# The audited tables and their sealed columns: everything that holds or decides money, identity or authority.
SEALED: dict[str, tuple[str, ...]] = {
    "households": ("region_code", "address", "head_person_id", "site_id"),
    "persons": ("household_id", "name", "id_type", "id_number", "birth_date", "sex", "relation_to_head", "site_id"),
    "category_periods": ("person_id", "category", "valid_from", "valid_to", "certified_by", "site_id"),
    "enrollments": ("person_id", "year", "insurance", "site_id"),
    "visits": ("person_id", "hospital", "hospital_level", "admitted_on", "discharged_on", "kind", "total_cost",
               "policy_covered", "basic_paid", "serious_illness_paid", "invoice_number", "referred", "in_province",
               "major_disease", "site_id"),
    "settlements": ("visit_id", "person_id", "year", "policy_id", "policy_version", "applied_category", "basic_paid",
                    "serious_illness_paid", "assistance_paid", "tilt_assistance_paid", "personal_pay", "steps",
                    "site_id"),
    "annual_settlements": ("person_id", "year", "policy_id", "policy_version", "applied_category", "totals",
                           "warnings", "site_id"),
    "applications": ("person_id", "household_id", "region_code", "year", "state", "state_since", "annual_income",
                     "low_income_standard", "passes_asset_check", "computed_amount", "approved_amount",
                     "amount_reason", "notice_start", "notice_end", "created_by", "site_id"),
    "application_steps": ("application_id", "seq", "state", "action", "to_state", "user_id", "username",
                          "display_name", "role", "at", "opinion", "details", "site_id"),
    "attachments": ("application_id", "kind", "filename", "sha256", "size", "added_by", "site_id"),
    "users": ("username", "display_name", "role", "jurisdiction", "password_hash", "active"),
    "settings": ("value",),
}

# Settings that are positions in the exchange with the county, not decisions: every sync and export moves them. An
# audit entry for each move would itself be a new entry to send, so the exchange would never be done. They are
# written by the same path, unaudited and unsealed; the county's record of this site's audit head (anchors) is what
# shows a sync that was rolled back.
POSITIONS = frozenset({"sync", "export"})

# The key column of each audited table (the audit entry's entity_id).
KEYS: dict[str, str] = {table: "id" for table in SEALED} | {"settings": "key"}

# Sealed by their digest rather than their text: a password hash stays out of the log, and a settlement's
# compressed explanation would double the log's size.
DIGESTED = {("users", "password_hash"), ("settlements", "steps")}

# Names of fields as a caseworker or auditor reads them in `check`'s report.
LABELS: dict[str, str] = {
    "households": "家庭", "persons": "人员", "category_periods": "身份类别", "enrollments": "参保",
    "visits": "就诊（费用单据）", "settlements": "结算", "annual_settlements": "年度结算", "applications": "依申请救助",
    "application_steps": "依申请救助办理记录", "attachments": "附件", "users": "用户", "settings": "设置",
}


def _digest_of(value: Any) -> str:
    data = value if isinstance(value, bytes) else str(value).encode("utf-8")
    return "sha256:" + hashlib.sha256(data).hexdigest()


def sealed_values(table: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """The sealed columns of a row as the audit entry records them (digests in place of secrets and blobs)."""
    out: dict[str, Any] = {}
    for col in SEALED[table]:
        value = row[col] if col in row.keys() else None
        if value is not None and (table, col) in DIGESTED:
            value = _digest_of(value)
        elif isinstance(value, bytes):
            value = value.hex()
        out[col] = value
    return out


def row_hash(table: str, row: Mapping[str, Any]) -> str:
    """The seal of a row: sha256 of its sealed values, in column order, as canonical JSON."""
    values = sealed_values(table, row)
    text = json.dumps([values[c] for c in SEALED[table]], ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# The seal of a record deleted through the program: its last entry says so, and a row found again is reported.
DELETED = "deleted"
