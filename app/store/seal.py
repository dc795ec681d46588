"""Seals: which columns of each audited record are evidence, and their values as the audit log records them.

The audit entry that last wrote a record holds the record's sealed values (`after`, JSON made by SQLite's own
json_object from the row as stored), covered by the entry's chained digest, and marks itself a sealing entry in
`row_hash`. A change made to the row by other means than the program (plain SQL, a hex editor) no longer matches,
and `check` names the record and the field. Until schema 12 `row_hash` held the sha256 of `after`; it only repeated
what `after` holds (64 bytes an entry, 4% of a county's file), so entries written since hold OF_AFTER there. Because the same SQL expression makes the entry and checks the row, `check` runs
inside SQLite, not row by row in Python (the benchmark county has millions of rows).

The columns are listed rather than taken as "all": a later migration that adds a column must not break every seal,
and one that changes a sealed column must re-seal what it changed, on purpose, with its own audit entries.
"""

from __future__ import annotations

import hashlib
import sqlite3

# The audited tables and their sealed columns: everything that holds or decides money, identity or authority.
SEALED: dict[str, tuple[str, ...]] = {
    "households": ("region_code", "address", "head_person_id", "site_id"),
    "persons": ("household_id", "name", "id_type", "id_number", "birth_date", "sex", "relation_to_head", "site_id"),
    "category_periods": ("person_id", "category", "valid_from", "valid_to", "certified_by", "site_id"),
    "enrollments": ("person_id", "year", "insurance", "site_id"),
    "visits": ("person_id", "hospital", "hospital_level", "admitted_on", "discharged_on", "kind", "total_cost",
               "policy_covered", "basic_paid", "serious_illness_paid", "invoice_number", "referred", "in_province",
               "major_disease", "site_id", "status", "void_reason", "voided_by", "corrects_id", "emergency",
               "in_insured_area", "filed_remote"),
    # Not `steps`: the explanation's own amounts are those sealed beside it, and digesting two million of them would
    # double check's time. A changed explanation is not caught (the README says so).
    "settlements": ("visit_id", "person_id", "year", "policy_id", "policy_version", "applied_category", "basic_paid",
                    "serious_illness_paid", "assistance_paid", "tilt_assistance_paid", "personal_pay", "site_id"),
    "annual_settlements": ("person_id", "year", "policy_id", "policy_version", "applied_category", "totals",
                           "warnings", "site_id"),
    "applications": ("person_id", "household_id", "region_code", "year", "state", "state_since", "annual_income",
                     "low_income_standard", "passes_asset_check", "computed_amount", "approved_amount",
                     "amount_reason", "notice_start", "notice_end", "created_by", "site_id"),
    "application_steps": ("application_id", "seq", "state", "action", "to_state", "user_id", "username",
                          "display_name", "role", "at", "opinion", "details", "site_id"),
    "attachments": ("application_id", "kind", "filename", "sha256", "size", "added_by", "site_id"),
    # Money that moved (the hospital's one-stop amounts, 发放, 补付 and 追回) and the batches that paid it.
    "payment_lines": ("person_id", "visit_id", "year", "tier", "line_type", "payer", "old_amount", "new_amount", "amount",
                      "reason", "batch_id", "paid_at", "paid_by", "site_id"),
    "disbursement_batches": ("jurisdiction", "year", "title", "line_count", "total", "state", "created_by",
                             "confirmed_by", "confirmed_at", "site_id", "cancelled_by", "cancelled_at",
                             "cancel_reason"),
    # A county's local value from a date: it decides every amount settled on or after that date.
    "local_values": ("region_code", "key", "valid_from", "value", "set_by", "site_id"),
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

# Sealed by their digest rather than their text: a password hash stays out of the log (which travels to the county).
DIGESTED = {("users", "password_hash")}

# Names of fields as a caseworker or auditor reads them in `check`'s report.
LABELS: dict[str, str] = {
    "households": "家庭", "persons": "人员", "category_periods": "身份类别", "enrollments": "参保",
    "visits": "就诊（费用单据）", "settlements": "结算", "annual_settlements": "年度结算", "applications": "依申请救助",
    "application_steps": "依申请救助办理记录", "attachments": "附件",
    "payment_lines": "支付与补付追回", "disbursement_batches": "发放批次",
    "local_values": "自某日起的地方参数", "users": "用户", "settings": "设置",
}


def sha256_text(value: str | bytes | None) -> str | None:
    """Hex sha256 of a text (UTF-8) or bytes; registered in SQLite as jz_sha256 so SQL can seal and check."""
    if value is None:
        return None
    return hashlib.sha256(value if isinstance(value, bytes) else str(value).encode("utf-8")).hexdigest()


def register(conn: sqlite3.Connection) -> None:
    """Make jz_sha256 available to SQL on this connection (every connection that writes or checks records)."""
    conn.create_function("jz_sha256", 1, sha256_text, deterministic=True)


def sealed_json(table: str, alias: str = "t", columns: tuple[str, ...] | None = None, blobs: bool = True) -> str:
    """The SQL expression giving a row's sealed values as JSON text (what the audit entry's `after` holds).

    `columns`: a migration seals what the table held at its version (see present_columns), not today's list.
    `blobs=False` leaves out the guard against a BLOB (a third faster; SQLite then refuses a row holding one, and
    the caller asks again with the guard)."""
    parts = []
    for col in SEALED[table] if columns is None else columns:
        value = f"{alias}.{col}"
        if (table, col) in DIGESTED:
            value = f"'sha256:' || jz_sha256({value})"
        elif not blobs:
            pass
        else:
            # json_object refuses a BLOB; the program never stores one in a sealed column, so one put there by other
            # means must show as a changed value, not stop the check.
            value = f"CASE WHEN typeof({value}) = 'blob' THEN 'blob:' || hex({value}) ELSE {value} END"
        parts.append(f"'{col}', {value}")
    return f"json_object({', '.join(parts)})"


def present_columns(conn: sqlite3.Connection, table: str) -> tuple[str, ...] | None:
    """The sealed columns a table has in this database (None if the table is not there yet).

    A migration that seals records runs before later migrations have added their tables and columns."""
    have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
    return tuple(c for c in SEALED[table] if c in have) if have else None


def sealed_text(conn: sqlite3.Connection, table: str, key: str) -> str:
    """A stored row's sealed values as JSON text (what its audit entry's `after` holds)."""
    return conn.execute(f"SELECT {sealed_json(table)} FROM {table} t WHERE t.{KEYS[table]} = ?", (key,)).fetchone()[0]


def sealed_after(conn: sqlite3.Connection, table: str, key: str) -> tuple[str, str]:
    """A stored row's sealed values as JSON text, and their sha256."""
    text = sealed_text(conn, table, key)
    return text, sha256_text(text)


# The `row_hash` of an entry that wrote a record, from schema 12: "the sha256 of this entry's `after`", which the
# entry would otherwise repeat. `check` compares a row with the `after` itself; the entry's digest covers both.
OF_AFTER = "="


# The column of every audited table holding the number of the audit entry that sealed the row as it stands (from
# schema 15). `check` then reads that entry by its number instead of searching the log for each record's last one,
# and proves the numbers are the last ones by a count and a sum per table (app/store/seal_check.py). It is not
# sealed itself (it names the seal) and it does not travel: each site's log numbers its own entries.
POINTER = "sealed_by"


# The seal of a record deleted through the program: its last entry says so, and a row found again is reported.
DELETED = "deleted"
