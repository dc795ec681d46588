"""resource_path: the checkout's files from source, the bundle's in a frozen build, for every module that reads them."""

from __future__ import annotations

import ast
import shutil
import sys
from pathlib import Path

import pytest

from app.resources import base_dir, resource_path

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"


def test_from_a_checkout_the_files_are_at_the_repository_root():
    assert base_dir() == ROOT
    assert resource_path("policies") == ROOT / "policies"
    assert resource_path("resources", "fonts", "wqy-microhei.ttc").is_file()


@pytest.fixture
def bundle(tmp_path, monkeypatch):
    """A stand-in for PyInstaller's _internal folder, with a village renamed so a test can tell it was read."""
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    (tmp_path / "resources" / "fonts").mkdir(parents=True)
    (tmp_path / "resources" / "fonts" / "wqy-microhei.ttc").symlink_to(ROOT / "resources" / "fonts" / "wqy-microhei.ttc")
    shutil.copytree(ROOT / "resources" / "regions", tmp_path / "resources" / "regions")
    csv = tmp_path / "resources" / "regions" / "340223.csv"
    text = csv.read_text(encoding="utf-8")
    first_village = next(line.split(",")[1] for line in text.splitlines() if line.endswith(",5"))
    csv.write_text(text.replace(first_village, "打包测试村", 1), encoding="utf-8")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    return tmp_path


def test_frozen_the_files_come_from_the_bundle(bundle):
    assert base_dir() == bundle
    assert resource_path("resources", "regions", "340223.csv") == bundle / "resources" / "regions" / "340223.csv"


def test_frozen_policies_come_from_the_bundle(bundle):
    from app.policy.loader import load_policy, policies_dir

    assert policies_dir() == bundle / "policies"
    assert load_policy("wuhu-2022", policies_dir()).path == bundle / "policies" / "wuhu-2022.yaml"


def test_frozen_demo_regions_come_from_the_bundle(bundle):
    """The region lists were once looked for beside the source files only, which a frozen build does not have."""
    from app.domain.regions import regions

    _, villages = regions("340223")
    assert "打包测试村" in [name for _, name in villages]


def test_frozen_pdf_font_comes_from_the_bundle(bundle, monkeypatch):
    from app.documents import layout

    # reportlab keeps the first font registered under a name for the whole process, so look at what
    # register_font asks for rather than at what reportlab ends up holding.
    opened = []
    monkeypatch.setattr(layout, "TTFont", lambda name, path, **kw: opened.append(Path(path)))
    monkeypatch.setattr(layout.pdfmetrics, "registerFont", lambda font: None)
    layout.register_font.cache_clear()
    try:
        layout.register_font()
    finally:
        layout.register_font.cache_clear()  # later tests register the real font again
    assert opened == [bundle / "resources" / "fonts" / "wqy-microhei.ttc"]


def test_only_app_resources_knows_where_the_files_are():
    """Every module asks resource_path: none works out the base folder from __file__ or sys._MEIPASS itself."""
    offenders = []
    for path in APP.rglob("*.py"):
        if path == APP / "resources.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Name) and node.id == "__file__" or (
                    isinstance(node, ast.Constant) and node.value == "_MEIPASS"):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
