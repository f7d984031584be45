"""Geometry of the pictures the pages draw as inline SVG (templates/charts.html renders it).

Drawn on the server: a picture needs no script, prints, and its numbers are also in the
table beside it for those who cannot see it.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

BAR_WIDTH = 18
CHART_HEIGHT = 160
NODE_W, NODE_H, GAP_X, GAP_Y = 190, 46, 30, 70


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    height: float
    label: str
    value: int


@dataclass(frozen=True)
class BarChart:
    title: str
    width: float
    height: float
    bars: list[Bar]
    maximum: int


def bar_chart(title: str, values: Iterable[tuple[str, int]]) -> BarChart:
    items = list(values)
    top = max((v for _, v in items), default=0) or 1
    bars = [Bar(40 + n * (BAR_WIDTH + 8), CHART_HEIGHT - v / top * (CHART_HEIGHT - 20),
                v / top * (CHART_HEIGHT - 20), label, v) for n, (label, v) in enumerate(items)]
    return BarChart(title, 40 + len(items) * (BAR_WIDTH + 8) + 20, CHART_HEIGHT + 90, bars, top)


def share_text(share: Mapping[str, Any] | None) -> str:
    """The ownership service's own wording ("more than 25 %"), or '60 %' / '25–50 %'."""
    if not share:
        return "control"
    if share.get("text"):
        return str(share["text"])
    low, high = share["min"], share["max"]
    if low == high:
        return f"{low:g} %"
    return f"{low:g}–{high:g} %"


@dataclass(frozen=True)
class Node:
    id: int
    name: str
    kind: str
    x: float
    y: float
    subject: bool


@dataclass(frozen=True)
class Link:
    x1: float
    y1: float
    x2: float
    y2: float
    label: str


@dataclass
class Diagram:
    width: float
    height: float
    nodes: list[Node] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)


def _layers(subject: int, interests: list[dict[str, Any]], upward: bool) -> dict[int, int]:
    """Distance of each party from the subject, walking owners (up) or holdings (down)."""
    step: dict[int, set[int]] = defaultdict(set)
    for edge in interests:
        owner, owned = edge["owner"], edge["owned"]
        if owner is not None and owned is not None:
            step[owned if upward else owner].add(owner if upward else owned)
    depth, queue = {subject: 0}, deque([subject])
    while queue:
        node = queue.popleft()
        for nxt in sorted(step[node]):
            if nxt not in depth:
                depth[nxt] = depth[node] + 1
                queue.append(nxt)
    return depth


def ownership_diagram(subject: Mapping[str, Any], parties: Mapping[int, Mapping[str, Any]],
                      interests: list[dict[str, Any]], upward: bool) -> Diagram:
    """Owners drawn above the subject (upward) or holdings below it, one row per link away.
    Declarations the service did not use (another reporter's, for one company) are listed
    in the tables, not drawn: the picture shows the network the shares were computed on."""
    interests = [edge for edge in interests if edge.get("used", True)]
    depth = _layers(subject["id"], interests, upward)
    rows: dict[int, list[int]] = defaultdict(list)
    for party, level in depth.items():
        rows[level].append(party)
    widest = max(len(r) for r in rows.values())
    width = widest * (NODE_W + GAP_X) + GAP_X
    levels = max(rows) + 1
    diagram = Diagram(width, levels * (NODE_H + GAP_Y) + GAP_X)
    where: dict[int, tuple[float, float]] = {}
    for level, members in rows.items():
        members.sort(key=lambda p: str(parties.get(p, {}).get("name", p)))
        offset = (width - len(members) * (NODE_W + GAP_X) + GAP_X) / 2
        row = (levels - 1 - level) if upward else level
        for n, party in enumerate(members):
            x, y = offset + n * (NODE_W + GAP_X), GAP_X / 2 + row * (NODE_H + GAP_Y)
            where[party] = (x, y)
            info = parties.get(party, {})
            diagram.nodes.append(Node(party, str(info.get("name", f"party {party}")),
                                      str(info.get("kind", "")), x, y, party == subject["id"]))
    for edge in interests:
        if edge["owner"] in where and edge["owned"] in where:
            (ox, oy), (tx, ty) = where[edge["owner"]], where[edge["owned"]]
            down = oy < ty  # owners are drawn above what they own, save in a cycle
            diagram.links.append(Link(ox + NODE_W / 2, oy + (NODE_H if down else 0),
                                      tx + NODE_W / 2, ty + (0 if down else NODE_H),
                                      share_text(edge.get("share"))))
    return diagram
