"""Comparing a site's records with the county's for the site's jurisdiction, kind by kind, by id."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.exchange import county_db, held
from app.exchange.records import NAMES, entities, jurisdiction_ids, site_id

if TYPE_CHECKING:
    import psycopg

SHOWN = 3  # ids named per finding: enough to look one up, not a wall of UUIDs


@dataclass
class KindDiff:
    """One kind of record here and at the county: how many each holds, and which ids only one side has."""

    table: str
    here: int = 0
    county: int = 0
    missing: list[str] = field(default_factory=list)  # others' records the county has and this site lacks
    waiting: list[str] = field(default_factory=list)  # of those, held here until their parent arrives
    refused: list[str] = field(default_factory=list)  # of those, refused here (see sync_conflicts)
    extra: list[str] = field(default_factory=list)  # others' records this site has and the county does not
    unsent: list[str] = field(default_factory=list)  # this site's records not at the county yet
    # this site's records the county's checks did not take (a county step from a township, money against the
    # rules …): sending them again changes nothing; the latest reason of one of them, to show
    aside: list[str] = field(default_factory=list)
    aside_reason: str = ""
    lost: list[str] = field(default_factory=list)  # this site's records the county has and this site does not

    @property
    def name(self) -> str:
        return NAMES[self.table]

    @property
    def agrees(self) -> bool:
        return not (self.missing or self.waiting or self.refused or self.extra or self.unsent or self.aside
                    or self.lost)

    def lines(self, ids: bool = True) -> list[str]:
        why = (f"。原因如：{self.aside_reason}（每条的原因记在县级数据库的未采用记录中；再次同步也不会采用，"
               f"请与县信息员核对）")
        said = [(self.missing, "县里有、本站没有", ""), (self.waiting, "县里有、本站暂存待上级记录", ""),
                (self.refused, "县里有、本站未能合并（见“同步冲突”）", ""),
                (self.extra, "本站有、县里没有（其他站点的记录）", ""), (self.unsent, "本站的记录尚未送到县里", ""),
                (self.aside, "本站的记录县里核对后未采用", why),
                (self.lost, "县里有本站的记录而本机没有（可能恢复过旧备份）", "")]
        return [f"{self.name}：{what} {len(found)} 条" + (f"（如 {'、'.join(sorted(found)[:SHOWN])}）" if ids else "")
                + after for found, what, after in said if found]


@dataclass
class Comparison:
    """The whole comparison: the regions compared and one KindDiff per kind, parents first."""

    regions: list[str]
    kinds: list[KindDiff]

    @property
    def agrees(self) -> bool:
        return all(k.agrees for k in self.kinds)

    def lines(self, ids: bool = True) -> list[str]:
        """The finding, then one line per difference (naming a few ids of each, unless ids is False)."""
        where = ("全部地区" if self.regions == [""] else "、".join(self.regions)) if self.regions else \
            "仅本站记录（还没有取回过其他站点的记录）"
        if self.agrees:
            held_counts = "、".join(f"{k.name} {k.here}" for k in self.kinds if k.here)
            return [f"与县级数据库核对一致（辖区 {where}）：{held_counts or '双方都没有记录'}"]
        return [f"与县级数据库核对不一致（辖区 {where}）："] + [line for k in self.kinds for line in k.lines(ids)]


def compare(conn: sqlite3.Connection, pg: psycopg.Connection, regions: list[str]) -> Comparison:
    """Every travelling kind compared: this site's own records anywhere, others' within `regions`."""
    me = site_id(conn)
    regions = sorted(r for r in set(regions) if not any(r != o and r.startswith(o) for o in regions))
    out = Comparison(regions, [])
    for e in entities(conn):
        here = jurisdiction_ids(conn, e.table, regions)
        there = county_db.jurisdiction_ids(pg, e.table, me, regions)
        waiting = held.ids(conn, e.table)
        refused = {r[0] for r in conn.execute("SELECT entity_id FROM sync_conflicts WHERE entity = ? "
                                              "AND resolved_at IS NULL", (e.table,))}
        k = KindDiff(e.table, len(here), len(there))
        for rid, own in there.items():
            if rid not in here:
                found = k.lost if own else k.waiting if rid in waiting else k.refused if rid in refused else k.missing
                found.append(rid)
        for rid, own in here.items():
            if rid not in there:
                (k.unsent if own else k.extra).append(rid)
        turned_down = county_db.kept_aside(pg, e.table, me, k.unsent)
        if turned_down:
            k.unsent = [rid for rid in k.unsent if rid not in turned_down]
            k.aside = sorted(turned_down)
            k.aside_reason = turned_down[k.aside[0]]
        out.kinds.append(k)
    return out
