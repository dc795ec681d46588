"""Qt's ICU data cut down for the bundle (packaging/icu_data.py): the package is rewritten exactly, and Qt sorts,
names time zones, maps case and opens the Chinese codecs from the cut-down library as from the whole one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "packaging"))
import icu_data  # noqa: E402


def qt_icu_library() -> Path:
    """PySide6's ICU data library (its Linux wheels carry one), or skip where it has none (Windows, macOS)."""
    from PySide6 import QtCore

    found = sorted((Path(QtCore.__file__).parent / "Qt" / "lib").glob("libicudata.so.*"))
    if not found or not all(shutil.which(tool) for tool in ("nm", "as", "ld")):
        pytest.skip("no ICU data library in this PySide6, or no binutils")
    return found[0]


def test_what_is_kept():
    for name in ("coll/zh.res", "coll/zh_Hans.res", "coll/root.res", "coll/ucadata.icu", "coll/res_index.res",
                 "zone/zh.res", "zone/en.res", "zone/pool.res", "zh_Hans_CN.res", "root.res", "pool.res",
                 "res_index.res", "supplementalData.res", "likelySubtags.res", "metaZones.res", "zoneinfo64.res",
                 "timezoneTypes.res", "cnvalias.icu", "gb18030.cnv", "windows-936-2000.cnv", "ibm-1386_P100-2001.cnv",
                 "nfkc.nrm", "uprops.icu"):
        assert icu_data.wanted(name), name
    for name in ("coll/de.res", "coll/ja.res", "zone/fr.res", "de_AT.res", "yue.res", "brkitr/cjdict.dict",
                 "brkitr/root.res", "lang/zh.res", "curr/zh.res", "unit/en.res", "region/zh.res", "translit/root.res",
                 "rbnf/zh.res", "ibm-943_P15A-2003.cnv", "euc-tw-2014.cnv", "unames.icu"):
        assert not icu_data.wanted(name), name


def test_the_package_is_written_back_byte_for_byte():
    symbol, package = icu_data.package_of(qt_icu_library())
    header, prefix, items = icu_data.read_package(package)
    assert symbol.startswith("icudt") and prefix.startswith("icudt") and len(items) > 1000
    assert icu_data.write_package(header, prefix, items) == package


def test_a_package_of_some_items_reads_back_as_those_items():
    _, package = icu_data.package_of(qt_icu_library())
    header, prefix, items = icu_data.read_package(package)
    some = items[::97]
    again = icu_data.read_package(icu_data.write_package(header, prefix, some))
    assert again[1] == prefix
    # each item comes back padded to 16 bytes, as ICU aligns them
    assert [(name, data[:len(old)]) for (name, data), (_, old) in zip(again[2], some)] == some


def test_refuses_what_is_not_a_package():
    with pytest.raises(ValueError):
        icu_data.read_package(b"\x20\x00\xda\x27" + b"\0" * 8 + b"ResB" + b"\0" * 100)


PROBE = """
import json, sys
from PySide6.QtCore import QCollator, QLocale, QStringDecoder, QTimeZone, qInstallMessageHandler
warnings = []
qInstallMessageHandler(lambda kind, context, message: warnings.append(message))
names = ["张三", "李四", "王五", "阿强", "赵六", "单田芳", "曾国藩", "吕布", "欧阳", "Zoe", "adam", "文件10", "文件9"]
out = {}
for locale in ("zh_CN", "en_US", "de_DE"):
    collator = QCollator(QLocale(locale))
    out[locale] = sorted(names, key=collator.sortKey)
    collator.setNumericMode(True)
    out[locale + " numeric"] = sorted(names, key=collator.sortKey)
out["codecs"] = {c: QStringDecoder(c).name() for c in ("GB18030", "GBK", "CP936", "GB2312", "EUC-CN", "Big5",
                                                          "windows-1252")}
zone = QTimeZone(b"Asia/Shanghai")
out["zone"] = [zone.displayName(QTimeZone.TimeType.StandardTime, kind, QLocale(locale))
               for kind in (QTimeZone.NameType.LongName, QTimeZone.NameType.ShortName) for locale in ("zh_CN", "en_US")]
out["case"] = [QLocale("zh_CN").toUpper("abc ß"), QLocale("tr_TR").toUpper("i"), QLocale("zh_CN").toLower("ÀB")]
out["warnings"] = warnings
out["loaded"] = sorted({line.split()[-1] for line in open("/proc/self/maps") if "libicudata" in line})
print(json.dumps(out, ensure_ascii=False))
"""


def probe(library_dir: Path | None) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    if library_dir:
        env["LD_LIBRARY_PATH"] = str(library_dir)  # Qt finds ICU by RUNPATH, which LD_LIBRARY_PATH overrides
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_qt_reads_the_same_from_the_cut_down_library(tmp_path):
    library = qt_icu_library()
    before, after = icu_data.trim(library, tmp_path / library.name)
    assert after < before / 5
    whole, cut = probe(None), probe(tmp_path)
    assert cut.pop("loaded") == [str(tmp_path / library.name)]
    assert whole.pop("loaded") == [str(library)]
    assert cut == whole
    assert cut["warnings"] == []
    # in pinyin order (a collation from the data, not code points), 曾 as zēng in a name
    assert cut["zh_CN"][:3] == ["阿强", "曾国藩", "单田芳"] and cut["zh_CN numeric"][7:9] == ["文件9", "文件10"]
    assert None not in cut["codecs"].values() and cut["zone"][0] == "中国标准时间"
