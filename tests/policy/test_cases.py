"""Hand-worked golden cases: every YAML file under tests/cases/<policy>/ is run as `jiuzhu policy test` runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.policy.cases import load_cases, run_case
from app.policy.loader import load_policy

CASES = Path(__file__).resolve().parents[1] / "cases"
FILES = sorted(CASES.glob("*/*.yaml"))

PARAMS = [pytest.param(path, i, id=f"{path.parent.name}/{path.stem}#{i + 1}")
          for path in FILES for i in range(len(load_cases(path)))]


def test_every_policy_has_cases():
    policies = {p.stem for p in (Path(__file__).resolve().parents[2] / "policies").glob("*.yaml")}
    assert policies <= {p.parent.name for p in FILES}


@pytest.mark.parametrize("path,index", PARAMS)
def test_case(path: Path, index: int):
    spec = load_cases(path)[index]
    assert spec.get("arithmetic"), "every golden case shows its hand arithmetic"
    outcome = run_case(load_policy(spec["case"]["policy"]), spec, index + 1)
    assert outcome.agrees, outcome.differences
