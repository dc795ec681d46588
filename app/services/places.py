"""Township and village names for 统计用区划代码, from the bundled lists in resources/regions."""

from __future__ import annotations

from app.domain.regions import county_regions, township_and_village  # noqa: F401 - named here by callers


def place_name(scope: str, county: dict) -> str:
    """A jurisdiction by name: 南陵县, 南陵县籍山镇, 南陵县籍山镇春谷居委会 (the county's name from its settings)."""
    county_name = county.get("name") or scope[:6]
    if len(scope) < 9:
        return county_name or "全部地区"
    towns, villages = county_regions(scope[:6])
    name = county_name + towns.get(scope[:9], scope[:9])
    return name + villages.get(scope, scope) if len(scope) >= 12 else name


def jurisdiction_choices(county_code: str, county_name: str, digits: int) -> list[tuple[str, str]]:
    """(code, name) of the county itself (6 digits), its townships (9) or its villages (12, with the township)."""
    if digits == 6:
        return [(county_code, county_name or county_code)]
    towns, villages = county_regions(county_code)
    if digits == 9:
        return sorted(towns.items())
    return [(code, towns.get(code[:9], "") + name) for code, name in sorted(villages.items())]
