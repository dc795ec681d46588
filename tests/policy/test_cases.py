"""Hand-worked golden cases: every YAML file under tests/cases/<policy>/ is settled through the CLI contract."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from app.domain.case import CaseError
from app.policy.settle import error_line, settle_json

CASES = Path(__file__).resolve().parents[1] / "cases"
FILES = sorted(CASES.glob("*/*.yaml"))


def _load(path: Path) -> list[dict]:
    docs = yaml.safe_load(path.read_text(encoding="utf-8"))
    return docs if isinstance(docs, list) else [docs]


PARAMS = [pytest.param(path, i, id=f"{path.parent.name}/{path.stem}#{i + 1}")
          for path in FILES for i in range(len(_load(path)))]


def test_every_policy_has_cases():
    policies = {p.stem for p in (Path(__file__).resolve().parents[2] / "policies").glob("*.yaml")}
    assert policies <= {p.parent.name for p in FILES}


@pytest.mark.parametrize("path,index", PARAMS)
def test_case(path: Path, index: int):
    spec = _load(path)[index]
    assert spec.get("arithmetic"), "every golden case shows its hand arithmetic"
    if "error" in spec:
        with pytest.raises(CaseError) as info:
            settle_json(spec["case"])
        assert spec["error"] in error_line(info.value)
        return
    out = settle_json(spec["case"]).to_json()
    expect = spec["expect"]
    if "applied_category" in expect:
        assert out["applied_category"] == expect["applied_category"]
    by_id = {v["id"]: v for v in out["visits"]}
    for vid, fields in (expect.get("visits") or {}).items():
        for key, value in fields.items():
            assert by_id[vid][key] == value, f"{vid}.{key}"
    for key, value in (expect.get("totals") or {}).items():
        assert out["totals"][key] == value, f"totals.{key}"
    for key, value in (expect.get("annual") or {}).items():
        assert out["annual"][key] == value, f"annual.{key}"
    if "warnings" in expect:
        assert sorted(w["code"] for w in out["warnings"]) == sorted(expect["warnings"])
    for v in out["visits"]:
        for key in ("basic_paid", "serious_illness_paid", "assistance_paid", "tilt_assistance_paid"):
            if v[key] != "0.00":
                assert any(s["amount"] != "0.00" for s in v["steps"]), f"{v['id']}.{key} has no step"
