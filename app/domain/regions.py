"""Township and village names of a county (统计用区划代码), read from the bundled NBS list in resources/regions."""

from __future__ import annotations

import csv

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
