"""The PyInstaller spec and the installer script, read without building: nothing the app reads is left out."""

from __future__ import annotations

import ast
import glob
import tomllib
from pathlib import Path

import app

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"
SPEC = ROOT / "packaging" / "jiuzhu.spec"


def spec_literal(name: str):
    """A top-level list the spec assigns as a plain literal (DATAS, QT_EXCLUDES …)."""
    for node in ast.parse(SPEC.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == [name]:
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} is not a literal in {SPEC.name}")


def shipped_paths_the_code_reads() -> set[tuple[str, ...]]:
    """The constant leading parts of every resource_path(...) call in app/, e.g. ("resources", "regions")."""
    found = set()
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "resource_path":
                parts = []
                for arg in node.args:
                    if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                        break
                    parts.append(arg.value)
                assert parts, f"{path}: resource_path needs a constant first folder"
                found.add(tuple(parts))
    return found


def bundled_files() -> dict[str, str]:
    """Every file DATAS puts in the bundle, by its path in the checkout, with the folder it goes to."""
    out = {}
    for pattern, dest in spec_literal("DATAS"):
        matches = glob.glob(str(ROOT / pattern))
        assert matches, f"DATAS entry {pattern} matches no file"
        for match in matches:
            out[Path(match).relative_to(ROOT).as_posix()] = dest
    return out


def test_every_file_the_code_reads_is_bundled_where_the_code_looks():
    bundled = bundled_files()
    reads = shipped_paths_the_code_reads()
    assert {("policies",), ("resources", "fonts", "wqy-microhei.ttc"), ("resources", "icons", "jiuzhu.png")} <= reads
    for parts in reads:
        target = ROOT.joinpath(*parts)
        assert target.exists(), f"the code reads {'/'.join(parts)}, which the checkout does not have"
        files = [target] if target.is_file() else [p for p in target.iterdir() if p.is_file()]
        for file in files:
            rel = file.relative_to(ROOT).as_posix()
            if target.is_dir() and target.name == "policies" and file.suffix != ".yaml":
                continue  # loader reads *.yaml only
            assert bundled.get(rel) == file.parent.relative_to(ROOT).as_posix(), f"{rel} is not bundled where read"


def test_the_font_licence_travels_with_the_font():
    bundled = bundled_files()
    assert bundled.get("resources/fonts/wqy-microhei.LICENSE") == "resources/fonts"


def test_no_excluded_module_is_one_the_app_imports():
    imported = set()
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module)
                imported.update(f"{node.module}.{a.name}" for a in node.names)
    excluded = (spec_literal("QT_EXCLUDES") + spec_literal("DEV_EXCLUDES") + spec_literal("PIL_EXCLUDES")
                + spec_literal("STDLIB_EXCLUDES") + spec_literal("NUMPY_EXCLUDES"))
    clashes = {m for m in imported for x in excluded if m == x or m.startswith(x + ".")}
    assert clashes == set()
    assert {"PySide6.QtCharts", "PySide6.QtPdf", "PySide6.QtPrintSupport"} <= imported  # the scan does see Qt


def test_the_qt_translation_theme_loads_is_kept():
    assert spec_literal("KEEP_QT_TRANSLATIONS") == ["qtbase_zh_CN.qm"]
    theme = (APP / "gui" / "theme.py").read_text(encoding="utf-8")
    assert '"qtbase"' in theme and "QLocale.Country.China" in theme


def test_the_demo_locale_is_kept():
    demo = ast.parse((APP / "services" / "demo.py").read_text(encoding="utf-8"))
    locales = {node.args[0].value for node in ast.walk(demo)
               if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Faker"}
    assert locales and locales <= set(spec_literal("KEEP_FAKER_LOCALES"))


def test_one_version_for_the_app_the_spec_and_the_installer():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert app.__version__ == project["version"]  # `jiuzhu --version` and the installer must agree
    assert "tomllib" in SPEC.read_text(encoding="utf-8")


def test_installer_keeps_its_identity_and_never_touches_the_data_folder():
    raw = (ROOT / "packaging" / "jiuzhu.iss").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Inno Setup reads a script without BOM as ANSI and garbles 救助通"
    text = raw.decode("utf-8-sig")
    directives = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith(";")]
    # Changing the AppId would make an upgrade install beside the old version instead of replacing it.
    assert "AppId={{9264D36C-8AF9-4A79-9C60-21F25950BBD8}" in directives
    assert "PrivilegesRequired=lowest" in directives
    assert "[UninstallDelete]" not in directives
    assert not any("localappdata" in line.lower() or "userappdata" in line.lower() for line in directives)
