"""One call from raw settle-json input to the result: parse, load the policy, build the engine, settle."""

from __future__ import annotations

from app.domain.case import CaseError, parse_case
from app.domain.errors import FieldError
from app.policy.engine import Engine
from app.policy.loader import PolicyError, UnknownPolicy, load_policy
from app.policy.result import SettleResult


def settle_json(data: object, explain: bool = True) -> SettleResult:
    """Settle a settle-json case object; raises CaseError (bad case) or PolicyError (bad policy file)."""
    case = parse_case(data)
    try:
        loaded = load_policy(case.policy)
    except UnknownPolicy as exc:
        raise CaseError(exc.field, exc.message, exc.label) from None
    return Engine(loaded, case.local).settle(case, explain=explain)


def error_line(exc: CaseError | PolicyError) -> str:
    """The one line settle-json.md promises on standard error: the field's key first (scripts match on it), its
    Chinese label, then what to fix — e.g. "visits[0].total_cost（第 1 次就诊的医疗费用总额）：“abc”不是金额…"."""
    if isinstance(exc, FieldError):
        return f"{exc.field}（{exc.label}）：{exc.message}"
    return str(exc)  # a policy file that cannot be used: its message names the file and the key
