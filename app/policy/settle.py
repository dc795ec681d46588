"""One call from raw settle-json input to the result: parse, load the policy, build the engine, settle."""

from __future__ import annotations

from app.domain.case import CaseError, parse_case
from app.policy.engine import Engine
from app.policy.loader import PolicyError, load_policy
from app.policy.result import SettleResult


def settle_json(data: object, explain: bool = True) -> SettleResult:
    """Settle a settle-json case object; raises CaseError (bad case) or PolicyError (bad policy file)."""
    case = parse_case(data)
    try:
        loaded = load_policy(case.policy)
    except PolicyError as exc:
        if str(exc).startswith("policy："):
            raise CaseError(str(exc)) from None
        raise
    return Engine(loaded, case.local).settle(case, explain=explain)
