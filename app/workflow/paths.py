"""The order one case follows: where its 公示 falls is the case's own, not today's setting.

A county may move 公示 (公示安排: after 村评议 or after 乡镇审核) while cases are open. Had each step taken its next
state from the setting of the day, a case waiting at 乡镇审核 when 公示 moved before it would go straight to 县级审批
with no 公示, and a case in 公示 when 公示 moved after 乡镇审核 would close it straight into 县级审批 with no 乡镇审核.
So a case keeps the order it started under: its submission records the setting of that day, and once the village
has passed the case, where that pass led (公示, or 乡镇审核) shows the order for good. Older submissions recorded
nothing; such a case takes the setting until the village passes it, which is when the order first matters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

# The steps 公示 may follow (rules.sequence's `notice_after`).
PLACES = ("village_review", "township_review")


def _recorded(step: Mapping) -> str | None:
    try:
        carried = json.loads(step.get("details") or "{}")
    except (TypeError, ValueError):
        return None
    place = carried.get("notice_after") if isinstance(carried, dict) else None
    return place if place in PLACES else None


def placed(steps: Sequence[Mapping]) -> str | None:
    """Where this case's 公示 falls, as its steps (in seq order) show; None while they do not show it."""
    for step in steps:
        if step["state"] == "village_review" and step["action"] == "pass":
            return "village_review" if step["to_state"] == "public_notice" else "township_review"
    for step in steps:
        if step["action"] == "submit" and _recorded(step):
            return _recorded(step)
    return None


def notice_ran(steps: Sequence[Mapping], place: str | None) -> bool:
    """Whether a 公示 ran its course after the last time the step it follows (`place`) passed the case: a 公示
    closed before the case went back and passed that step again was about what the case was then, not now."""
    if place not in PLACES:
        return False
    last = max((i for i, s in enumerate(steps) if s["state"] == place and s["action"] == "pass"), default=None)
    return last is not None and any(s["action"] == "close_notice" for s in steps[last + 1:])
