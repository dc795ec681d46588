"""Canonical names: identity categories, visit kinds, insurance schemes, hospital levels; pinyin initials of names."""

from __future__ import annotations

# The canonical identity categories of settle-json.md; a policy may add its own.
CANONICAL_CATEGORIES: tuple[str, ...] = (
    "特困人员", "孤儿", "事实无人抚养儿童", "低保对象", "低保边缘家庭成员",
    "返贫致贫人口", "监测对象", "脱贫不稳定人口", "边缘易致贫人口", "突发严重困难户",
    "重度残疾人", "建档立卡贫困人口", "因病致贫重病患者", "稳定脱贫人口", "普通参保居民",
)
ORDINARY = "普通参保居民"

VISIT_KINDS: tuple[str, ...] = ("住院", "门诊慢特病", "普通门诊")

INSURANCE_SCHEMES: tuple[str, ...] = ("城乡居民医保", "职工医保", "新农合", "城镇居民医保")
DEFAULT_INSURANCE = "城乡居民医保"

# Hospital levels as the documents speak of them (同级别医疗机构); aliases a bill may carry.
HOSPITAL_LEVELS: tuple[str, ...] = ("基层", "县级", "市级", "省级")
HOSPITAL_LEVEL_ALIASES: dict[str, str] = {
    "基层": "基层", "乡镇": "基层", "乡镇级": "基层", "乡镇卫生院": "基层", "社区": "基层", "村": "基层",
    "县级": "县级", "县": "县级", "县域": "县级",
    "市级": "市级", "市": "市级", "州级": "市级", "州": "市级", "地市级": "市级",
    "省级": "省级", "省": "省级",
}


# Surnames read otherwise than their everyday character: (pypinyin's usual initial, the surname's initial). Names are
# stored with the usual one (persons.name_initials), so a caseworker typing the surname's (zxx for 曾小贤) is also
# matched by search.person_match; tests/test_names.py pins the first letter against pypinyin.
SURNAME_INITIALS: dict[str, tuple[str, str]] = {
    "曾": ("c", "z"), "单": ("d", "s"), "解": ("j", "x"), "仇": ("c", "q"), "区": ("q", "o"), "查": ("c", "z"),
    "覃": ("t", "q"), "翟": ("d", "z"), "召": ("z", "s"), "种": ("z", "c"), "秘": ("m", "b"), "繁": ("f", "p"),
}


def initials(name: str) -> str:
    """Pinyin initials of a name, lower case: 张三 → zs (heteronyms take pypinyin's usual reading)."""
    # pypinyin loads its dictionaries on import (about a second on a slow machine): only when a name is first spelled,
    # not with the store every command and the GUI open.
    from pypinyin import Style, lazy_pinyin

    return "".join(p[0] for p in lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore") if p).lower()


# The separators written in transliterated names (阿依古丽·买买提): middle dot, bullet, katakana dot, hyphenation point.
_NAME_DOTS = str.maketrans({"•": "·", "・": "·", "‧": "·", "･": "·", "．": "·", ".": "·", "。": "·"})


def same_name(a: str, b: str) -> bool:
    """Whether two ways of writing a name are the same name: compared after NFKC (full-width letters), without
    whitespace (a list's reader drops it; the registry keeps what was typed), with one kind of middle dot."""
    import unicodedata

    def key(name: str) -> str:
        # The dots first: NFKC makes the full-width one an ASCII full stop.
        return "".join(unicodedata.normalize("NFKC", (name or "").translate(_NAME_DOTS)).split()).translate(_NAME_DOTS)

    return key(a) == key(b)
