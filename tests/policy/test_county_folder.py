"""The county policy folder in the data folder: its files override the bundled ones, and `policy install` fills it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.cli import main
from app.policy import install
from app.policy.loader import (
    BUNDLED,
    COUNTY,
    PolicyError,
    load_policy,
    policies_dir,
    policy_ids,
    policy_sources,
)
from app.services import bills, county, registry, users
from app.services.demo import DEMO_LOCAL
from app.services.session import SYSTEM, Session
from app.store.paths import county_policies_dir
from app.store.store import open_store

WUHU = (policies_dir() / "wuhu-2022.yaml").read_text(encoding="utf-8")
DIBAO_RATE = "        比例: {2022-01-01: {值: 75%, 依据: 芜医保〔2021〕76号 二(二)5}}\n"
assert WUHU.count(DIBAO_RATE) == 1
# The county raises the 低保 rate from 2023 by its own (made-up) document, keeping the old entry.
RAISED = WUHU.replace(DIBAO_RATE, "        比例:\n"
                      "          2022-01-01: {值: 75%, 依据: 芜医保〔2021〕76号 二(二)5}\n"
                      "          2023-01-01: {值: 80%, 依据: 测试县医保发〔2022〕1号 第三条}\n")
BROKEN = RAISED.replace("比例:\n          2022-01-01", "比列:\n          2022-01-01")


@pytest.fixture
def data(tmp_path, monkeypatch) -> Path:
    """A data folder of this test's own (platformdirs reads XDG_DATA_HOME on Linux); returns its policies/."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    folder = county_policies_dir()
    assert folder == tmp_path / "data" / "jiuzhu" / "policies"
    return folder


def put(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def dibao_rate(loaded) -> list[str]:
    pool = loaded.policy.assistance[0]
    treatment = next(t for t in pool.treatments if t.categories == ["低保对象"])
    return [str(entry.value) for _, entry in treatment.rate.entries()]


def test_without_county_files_the_bundled_ones_are_used(data):
    assert not data.exists()
    assert policy_ids() == ["hunan-2022", "liupanshui-2017", "qiannan-2021", "wuhu-2022", "zhanjiang-2019"]
    assert {s.origin for s in policy_sources().values()} == {BUNDLED}
    assert load_policy("wuhu-2022").path == policies_dir() / "wuhu-2022.yaml"


def test_county_file_overrides_the_bundled_one_of_its_id(data):
    path = put(data, "wuhu-2022.yaml", RAISED)
    loaded = load_policy("wuhu-2022")
    assert loaded.path == path
    assert len(dibao_rate(loaded)) == 2
    assert loaded.version != load_policy("wuhu-2022", policies_dir()).version  # the test folder still reads bundled
    assert policy_sources()["wuhu-2022"].origin == COUNTY
    assert policy_sources()["hunan-2022"].origin == BUNDLED


def test_county_file_with_a_new_id_is_added(data):
    put(data, "wuhu-2024.yaml", RAISED.replace("编号: wuhu-2022", "编号: wuhu-2024"))
    assert "wuhu-2024" in policy_ids() and "wuhu-2022" in policy_ids()
    assert load_policy("wuhu-2024").path == data / "wuhu-2024.yaml"
    assert policy_sources()["wuhu-2024"].origin == COUNTY


def test_broken_county_file_is_reported_by_name_not_replaced_by_the_bundled_one(data):
    path = put(data, "wuhu-2022.yaml", BROKEN)
    with pytest.raises(PolicyError) as info:
        load_policy("wuhu-2022")
    message = str(info.value)
    assert str(path) in message and "比列" in message and "本县修改" in message
    assert load_policy("hunan-2022").path == policies_dir() / "hunan-2022.yaml"  # the others still load


def test_list_shows_each_origin_and_still_lists_around_a_broken_file(data, capsys):
    put(data, "wuhu-2022.yaml", RAISED)
    assert main(["policy", "list"]) == 0
    lines = dict(line.split("\t", 1) for line in capsys.readouterr().out.splitlines())
    assert lines["wuhu-2022"].endswith(f"本县修改（{data / 'wuhu-2022.yaml'}）")
    assert lines["hunan-2022"].endswith(f"内置（{policies_dir() / 'hunan-2022.yaml'}）")

    broken = put(data, "qiannan-2021.yaml", "编号: qiannan-2021\n")
    assert main(["policy", "list"]) == 0
    lines = dict(line.split("\t", 1) for line in capsys.readouterr().out.splitlines())
    assert len(lines) == 5
    assert "文件有误" in lines["qiannan-2021"] and str(broken) in lines["qiannan-2021"]
    assert "本县修改" in lines["wuhu-2022"]


def test_show_names_the_origin_and_fails_on_a_broken_county_file(data, capsys):
    assert main(["policy", "show", "wuhu-2022"]) == 0
    assert capsys.readouterr().out.startswith(f"来源：内置（{policies_dir() / 'wuhu-2022.yaml'}）")
    path = put(data, "wuhu-2022.yaml", RAISED)
    assert main(["policy", "show", "wuhu-2022"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"来源：本县修改（{path}）") and "测试县医保发〔2022〕1号" in out
    path.write_text(BROKEN, encoding="utf-8")
    assert main(["policy", "show", "wuhu-2022"]) == 2
    assert str(path) in capsys.readouterr().err


def test_install_refuses_a_broken_file_and_leaves_the_folder_alone(data, tmp_path, capsys):
    installed = put(data, "wuhu-2022.yaml", RAISED)
    source = put(tmp_path / "edit", "wuhu-2022.yaml", BROKEN)
    assert main(["policy", "install", str(source)]) == 2
    err = capsys.readouterr().err
    assert str(source) in err and "比列" in err
    assert installed.read_text(encoding="utf-8") == RAISED
    assert sorted(os.listdir(data)) == ["wuhu-2022.yaml"]  # no temporary file left behind


def test_install_puts_the_checked_file_in_the_county_folder(data, tmp_path, capsys):
    source = put(tmp_path / "edit", "wuhu-2022.yaml", RAISED)
    assert main(["policy", "install", str(source)]) == 0
    out = capsys.readouterr().out
    target = data / "wuhu-2022.yaml"
    assert str(target) in out and "代替内置" in out
    assert target.read_bytes() == source.read_bytes()
    assert sorted(os.listdir(data)) == ["wuhu-2022.yaml"]
    assert load_policy("wuhu-2022").path == target
    assert main(["policy", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(data)


def test_install_fails_whole_when_the_write_is_interrupted(data, tmp_path, monkeypatch):
    installed = put(data, "wuhu-2022.yaml", WUHU)
    source = put(tmp_path / "edit", "wuhu-2022.yaml", RAISED)

    def power_cut(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(install.os, "replace", power_cut)
    with pytest.raises(PolicyError, match="无法写入"):
        install.install_policy(source)
    assert installed.read_text(encoding="utf-8") == WUHU  # the old file whole
    assert sorted(os.listdir(data)) == ["wuhu-2022.yaml"]


def test_install_refuses_a_file_whose_name_is_not_its_id(data, tmp_path, capsys):
    source = put(tmp_path / "edit", "wuhu-2022 副本.yaml", RAISED)
    assert main(["policy", "install", str(source)]) == 2
    assert "编号" in capsys.readouterr().err
    assert not data.exists() or os.listdir(data) == []


def test_the_sessions_engine_settles_under_the_county_file(data, tmp_path):
    store = open_store(tmp_path / "t.sqlite3", daily_backup=False)
    try:
        admin = users.create_user(Session(store, SYSTEM), "admin", "管理员", "管理员", "340223", "correct-horse")
        session = Session(store, admin)
        county.configure_county(session, "340223", "南陵县", "wuhu-2022", DEMO_LOCAL)
        _, head = registry.register_household(session, "340223100201", "籍山镇某村 1 号",
                                              registry.PersonInput("张三", "11010519491231002X"))
        registry.set_category(session, head, "低保对象", "2020-01-01", None, "民政")
        # Bills are entered by the township's caseworker (no county role or administrator records bills).
        clerk = users.create_user(session, "xiang", "乡镇经办", "乡镇经办", "340223100", "correct-horse")
        bill = dict(hospital="南陵县医院", kind="住院", total_cost="10000", policy_covered="9000",
                    hospital_level="县级", basic_paid="5000", serious_illness_paid="0")
        # Bundled: self-pay 9000 − 5000 = 4000 × 75% (芜医保〔2021〕76号 二(二)5).
        before = bills.record_bill(Session(store, clerk), head, bills.BillInput(admitted_on="2023-03-01", discharged_on="2023-03-05",
                                                                  invoice_number="A1", **bill))
        assert before["assistance_paid"] == "3000.00"

        install.install_policy(put(tmp_path / "edit", "wuhu-2022.yaml", RAISED))
        fresh = Session(store, clerk)  # a new session builds its engine from the county's file
        assert county.engine(fresh).loaded.path == data / "wuhu-2022.yaml"
        # Each bill takes the rate of its own date: A2's self-pay 4000 × 80% by the county's entry from 2023-01-01.
        after = bills.record_bill(fresh, head, bills.BillInput(admitted_on="2023-06-01", discharged_on="2023-06-05",
                                                               invoice_number="A2", **bill))
        assert after["assistance_paid"] == "3200.00"
        assert any("测试县医保发〔2022〕1号" in s["reference"] for s in bills.unpack_steps(after["steps"]))
    finally:
        store.close()
