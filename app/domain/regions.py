"""Township and village names of a county (统计用区划代码), read from the bundled NBS list in resources/regions."""

from __future__ import annotations

import csv
from functools import lru_cache

from app.resources import resource_path


def regions(county_code: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Township names by 9-digit code, and (village code, village name) pairs; FileNotFoundError when the county's
    list is not bundled."""
    path = resource_path("resources", "regions", f"{county_code}.csv")
    towns: dict[str, str] = {}
    villages: list[tuple[str, str]] = []
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["level"] == "4":
                towns[row["code"][:9]] = row["name"]
            elif row["level"] == "5":
                villages.append((row["code"], row["name"]))
    return towns, villages


@lru_cache(maxsize=8)
def county_regions(county_code: str) -> tuple[dict[str, str], dict[str, str]]:
    """Township names by 9-digit code and village names by 12-digit code; empty when the county is not bundled."""
    try:
        towns, villages = regions(county_code)
    except FileNotFoundError:
        return {}, {}
    return towns, dict(villages)


@lru_cache(maxsize=1 << 16)  # a list names each village thousands of times
def township_and_village(region_code: str) -> tuple[str, str]:
    """The names of a 12-digit code's township and village; the codes themselves where the list does not know them."""
    towns, villages = county_regions(region_code[:6])
    return towns.get(region_code[:9], region_code[:9]), villages.get(region_code, region_code)


def label(code: str) -> str:
    """A region code (6, 9 or 12 digits) with the names the bundled list gives it, for a message: 340223（全县）,
    340223100（籍山镇）, 340223100201（籍山镇春谷居委会）; the code alone where the list does not know it."""
    if len(code) < 9:
        return f"{code}（全县）"
    towns, villages = county_regions(code[:6])
    name = towns.get(code[:9], "") + (villages.get(code, "") if len(code) > 9 else "")
    return f"{code}（{name}）" if name and (len(code) == 9 or code in villages) else code
