"""The settlement list reader remembers what each distinct cell means, and never mistakes one cell for another."""

from __future__ import annotations

from app.exchange.bill_lists import _Cells


def test_equal_keys_of_other_types_are_read_each_as_itself():
    # 1, 1.0 and True are one key to a dict; read as text they are "1", "1.0" and "True".
    cells = _Cells()
    assert [cells.cell("text", v) for v in (1, 1.0, True, "1")] == ["1", "1.0", "True", "1"]
    assert [cells.cell("emergency", v) for v in (True, 1, "否")] == [True, True, False]


def test_a_refused_cell_is_refused_again_each_time_it_is_met():
    cells = _Cells()
    reasons = []
    for _ in range(2):
        try:
            cells.cell("kind", "体检")
        except ValueError as exc:
            reasons.append(str(exc))
    assert reasons == ["就诊类别“体检”无法识别（应为 住院、门诊慢特病 或 普通门诊）"] * 2
    assert cells.cell("kind", "门诊") == "普通门诊"
