"""Effective ownership arithmetic: hand-worked structures, then properties over random graphs
(hypothesis): shares stay within 0-100 % whatever the structure, cycles end and never inflate,
ranges bound every exact choice, and walking up and walking down agree.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path as FilePath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.ownership.graph import (
    Limits,
    Network,
    OwnershipGraph,
    Stake,
    chains_from,
    chains_to,
    holdings,
    owners,
)
from registry.ownership.interests import NOTHING, UNKNOWN, Edge, Interval

ROOT = FilePath(__file__).resolve().parents[2]


def e(owner: str, owned: str, low: float | None = None, high: float | None = None,
      *interests: str, direct: bool | None = True, voting: tuple[float, float] | None = None) -> Edge:
    share = None if low is None else Interval.of(low, low if high is None else high)
    return Edge(owner, owned, share, Interval.of(*voting) if voting else None, interests, direct)


def by_holder(network: Network) -> dict[str, Stake]:
    return {stake.holder: stake for stake in network.stakes}


def by_subject(network: Network) -> dict[str, Stake]:
    return {stake.subject: stake for stake in network.stakes}


def shares(network: Network, key: str = "holder") -> dict[str, tuple[float, float]]:
    return {getattr(s, key): (float(s.share.low), float(s.share.high)) for s in network.stakes}


def counted(stake: Stake) -> set[tuple[str, ...]]:
    return {path.nodes for path in stake.paths if path.counted}


# Hand-worked structures ------------------------------------------------------------------

def test_a_chain_multiplies() -> None:
    # X holds 50 % of A, which holds 60 % of T: X holds 30 % of T.
    graph = OwnershipGraph([e("X", "A", 50), e("A", "T", 60)])
    assert shares(owners(graph, "T")) == {"A": (60, 60), "X": (30, 30)}


def test_paths_add_up() -> None:
    # Q holds 50 % of D (30 % of X) and 80 % of E (25 % of X): 15 % + 20 % = 35 %.
    graph = OwnershipGraph([e("Q", "D", 50), e("D", "X", 30), e("Q", "E", 80), e("E", "X", 25)])
    network = owners(graph, "X")
    assert shares(network)["Q"] == (35, 35)
    assert counted(by_holder(network)["Q"]) == {("Q", "D", "X"), ("Q", "E", "X")}


def test_ranges_stay_ranges() -> None:
    # A PSC-style band of 25-50 % in a holding that owns 50-75 %: 12.5-37.5 %.
    graph = OwnershipGraph([e("P", "H", 25, 50), e("H", "T", 50, 75)])
    network = owners(graph, "T")
    assert shares(network) == {"H": (50, 75), "P": (12.5, 37.5)}
    assert by_holder(network)["P"].grounds == ("possible_share",)
    assert by_holder(network)["H"].grounds == ("share",)


def test_exact_fractions_do_not_drift() -> None:
    graph = OwnershipGraph([e("S", "M", 100), e("M", "K", 100), e("K", "G", 76.5), e("M", "G", 23.5)])
    assert shares(owners(graph, "G"))["S"] == (100, 100)
    assert by_holder(owners(graph, "G"))["S"].share == Interval.of(100, 100)


def test_a_cross_holding_is_not_walked_round() -> None:
    # A holds 50 % of T; A and B hold each other (B 50 % of A, A 30 % of B); X holds 70 % of B.
    # X's only chain is X-B-A-T: 0.7 * 0.5 * 0.5 = 17.5 %. A-B-A is never followed.
    graph = OwnershipGraph([e("A", "T", 50), e("B", "A", 50), e("A", "B", 30), e("X", "B", 70)])
    network = owners(graph, "T")
    assert shares(network) == {"A": (50, 50), "B": (25, 25), "X": (17.5, 17.5)}
    assert network.cyclic and not network.truncated
    assert counted(by_holder(network)["X"]) == {("X", "B", "A", "T")}


def test_everyone_holding_everyone_ends() -> None:
    # Six parties each holding 20 % of every other: the densest cycles there are. Each of the
    # five others reaches n0 by 1 + 4 + 12 + 24 + 24 = 65 chains of distinct parties.
    nodes = [f"n{i}" for i in range(6)]
    graph = OwnershipGraph([e(a, b, 20) for a in nodes for b in nodes if a != b])
    network = owners(graph, "n0")
    assert network.cyclic and not network.truncated
    assert [len(s.paths) for s in network.stakes] == [65] * 5
    # 20 % + 4 * 4 % + 12 * 0.8 % + 24 * 0.16 % + 24 * 0.032 %, and no more.
    assert {s.share for s in network.stakes} == {Interval.of("50.208", "50.208")}


def test_a_company_holding_its_own_shares_owns_nothing() -> None:
    graph = OwnershipGraph([e("T", "T", 10), e("P", "T", 90)])
    assert shares(owners(graph, "T")) == {"P": (90, 90)}


def test_two_interests_between_the_same_parties_are_refused() -> None:
    with pytest.raises(ValueError, match="two interests"):
        OwnershipGraph([e("P", "T", 10), e("P", "T", 20)])


def test_a_declared_indirect_interest_stands_in_for_the_chains() -> None:
    # BODS indirect-ownership example: P has an interest of unknown size in B, B holds 60 % of
    # A, and P declares 30 % of A held indirectly. Counting the chain too would count twice.
    graph = OwnershipGraph([e("B", "A", 60), e("P", "B"),
                            e("P", "A", 30, None, "shareholding", direct=False)])
    network = owners(graph, "A")
    p = by_holder(network)["P"]
    assert shares(network) == {"B": (60, 60), "P": (30, 30)}
    assert counted(p) == {("P", "A")}
    assert {path.nodes for path in p.paths if not path.counted} == {("P", "B", "A")}
    # Someone holding the declarant holds through the declaration, not through the chain.
    graph = OwnershipGraph([*graph.up["A"], *graph.up["B"], e("Y", "P", 100)])
    y = by_holder(owners(graph, "A"))["Y"]
    assert y.share == Interval.of(30, 30) and counted(y) == {("Y", "P", "A")}


def test_a_direct_and_a_declared_indirect_interest_both_count() -> None:
    # BODS mixed-direct-and-indirect example: P holds 50 % of A directly and declares 50 %
    # held through B (B holds 50 % of A; P an unstated interest in B): 100 %, and the chain
    # through B is what the declaration summarises, so it is listed, not counted.
    graph = OwnershipGraph([e("B", "A", 50), e("P", "B"), e("P", "A", 50, None, "shareholding"),
                            e("P", "A", 50, None, "shareholding", direct=False)])
    p = by_holder(owners(graph, "A"))["P"]
    assert p.share == Interval.of(100, 100)
    assert sorted(path.links[0].direct for path in p.paths if path.counted) == [False, True]
    assert {path.nodes for path in p.paths if not path.counted} == {("P", "B", "A")}
    down = by_subject(holdings(graph, "P"))["A"]
    assert (down.share, counted(down)) == (p.share, counted(p))


def test_exclusive_bounds_decide_at_the_threshold_and_the_majority() -> None:
    # "More than 50 %" is a majority: control passes through it. "Less than 25 %" never
    # reaches a 25 % threshold; "25 % or less" may.
    over_half = Interval.of(50, 75, low_open=True)
    graph = OwnershipGraph([Edge("X", "E", over_half), e("E", "T", 30),
                            Edge("Y", "T", Interval.of(0, 25, high_open=True)),
                            Edge("Z", "T", Interval.of(0, 25))])
    stakes = by_holder(owners(graph, "T"))
    assert stakes["X"].controls and stakes["X"].share == Interval.of(15, "22.5", low_open=True)
    assert stakes["Y"].grounds == () and stakes["Z"].grounds == ("possible_share",)
    assert stakes["X"].share.as_json()["text"] == "more than 15 % and at most 22.5 %"
    assert not Edge("W", "E", Interval.of(50, 75)).passes_control()


def test_exclusive_bounds_carry_through_products_and_sums() -> None:
    more_than_25 = Interval.of(25, 50, low_open=True, high_open=True)
    assert more_than_25.times(Interval.of(0, 0)) == Interval.of(0, 0)
    assert more_than_25.times(Interval.of(50, 50)) == Interval.of("12.5", 25, True, True)
    assert more_than_25.plus(Interval.of(10, 10)) == Interval.of(35, 60, True, True)
    assert Interval.of(60, 80, low_open=True).plus(Interval.of(50, 50)).capped() == Interval.of(100, 100)
    assert not more_than_25.contains(Fraction(25)) and more_than_25.contains(Fraction(26))
    with pytest.raises(ValueError, match="empty"):
        Interval.of(25, 25, low_open=True)


def test_shares_unknown_or_absent() -> None:
    assert e("P", "T").economic == UNKNOWN
    assert e("P", "T", None, None, "shareholding").economic == UNKNOWN
    assert e("P", "T", None, None, "unpublishedInterest").economic == UNKNOWN
    assert e("P", "T", None, None, "trustee", "settlor").economic == NOTHING
    assert e("P", "T", None, None, "boardMember").economic == NOTHING


def test_control_without_shares() -> None:
    graph = OwnershipGraph([e("Tr", "Trust", None, None, "trustee"),
                            e("N", "Co", None, None, "nominee"),
                            e("V", "Co", 5, 5, "shareholding", "votingRights", voting=(30, 30)),
                            e("W", "Co", 5, 5, "shareholding", "votingRights", voting=(20, 20))])
    assert by_holder(owners(graph, "Trust"))["Tr"].grounds == ("control",)
    co = by_holder(owners(graph, "Co"))
    assert co["N"].grounds == () and co["W"].grounds == ()
    assert co["V"].grounds == ("control",)
    # A lower threshold, for a high-risk case, catches W's votes too.
    assert by_holder(owners(graph, "Co", threshold=Fraction(10)))["W"].grounds == ("control",)


def test_control_through_a_majority_held_company() -> None:
    # 60 % of E, which holds 30 % of T: 18 % by multiplication, but X controls E, and E's
    # interest reaches the threshold, so X is treated as holding it.
    graph = OwnershipGraph([e("X", "E", 60), e("E", "T", 30), e("Y", "F", 50), e("F", "T", 30)])
    stakes = by_holder(owners(graph, "T"))
    assert stakes["X"].share == Interval.of(18, 18) and stakes["X"].grounds == ("control",)
    # A 50/50 holding is nobody's majority.
    assert stakes["Y"].grounds == ()


def test_control_is_lost_at_a_minority_link() -> None:
    graph = OwnershipGraph([e("X", "E", None, None, "appointmentOfBoard"), e("E", "T", 10)])
    x = by_holder(owners(graph, "T"))["X"]
    assert x.share == NOTHING and not x.controls and x.grounds == ()


def test_the_threshold_is_inclusive() -> None:
    graph = OwnershipGraph([e("P", "T", 25)])
    assert by_holder(owners(graph, "T"))["P"].grounds == ("share",)
    assert by_holder(owners(graph, "T", threshold=Fraction("25.01")))["P"].grounds == ()


def test_shares_over_a_hundred_are_capped() -> None:
    # Inconsistent reports: two owners of 80 % each, both held by P.
    graph = OwnershipGraph([e("A", "T", 80), e("B", "T", 80), e("P", "A", 100), e("P", "B", 100)])
    assert shares(owners(graph, "T"))["P"] == (100, 100)


def test_long_chains_stop_at_the_depth_limit_and_say_so() -> None:
    graph = OwnershipGraph([e(f"N{i + 1}", f"N{i}", 100) for i in range(15)])
    network = owners(graph, "N0", limits=Limits(max_depth=10))
    assert network.truncated
    assert max(len(p.links) for s in network.stakes for p in s.paths) == 10
    assert not owners(graph, "N0", limits=Limits(max_depth=20)).truncated


def test_dense_structures_stop_at_the_path_limit_and_say_so() -> None:
    layers = [[f"L{layer}-{i}" for i in range(4)] for layer in range(6)]
    edges = [e(a, b, 25) for upper, lower in itertools.pairwise(layers) for a in lower for b in upper]
    edges += [e(a, "T", 25) for a in layers[0]]
    network = owners(OwnershipGraph(edges), "T", limits=Limits(max_paths=100))
    assert network.truncated
    assert sum(len(s.paths) for s in network.stakes) == 100


def test_pure_modules_import_no_database_or_web_code() -> None:
    for name in ("graph.py", "interests.py", "reporters.py"):
        tree = ast.parse((ROOT / "registry" / "ownership" / name).read_text())
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not {m for m in imported if m.split(".")[0] in ("sqlalchemy", "flask", "psycopg")}
        assert "registry.models" not in imported


# Properties over random graphs ---------------------------------------------------------

NODES = [f"n{i}" for i in range(6)]
# Six parties give every shape that matters (chains, diamonds, cycles of 2 to 6, declarations
# covering chains) while brute force over their orderings stays cheap.
THOROUGH = settings(max_examples=200, deadline=None)
KINDS = ("shareholding", "votingRights", "trustee", "nominee", "otherInfluenceOrControl")


@st.composite
def intervals(draw: st.DrawFn, top: int = 100) -> Interval:
    low = draw(st.integers(0, top))
    high = draw(st.integers(low, top))
    # Exclusive bounds ("more than 25 %") where the interval leaves room for them.
    return Interval.of(low, high, low < high and draw(st.booleans()),
                       low < high and draw(st.booleans()))


@st.composite
def edges(draw: st.DrawFn, declared: bool = True) -> Edge:
    owner, owned = draw(st.lists(st.sampled_from(NODES), min_size=2, max_size=2, unique=True))
    return Edge(owner, owned, draw(st.none() | intervals()), draw(st.none() | intervals()),
                tuple(draw(st.sets(st.sampled_from(KINDS), max_size=2))),
                draw(st.sampled_from([True, None, False] if declared else [True, None])))


def graphs(declared: bool = True) -> st.SearchStrategy[list[Edge]]:
    return st.lists(edges(declared), max_size=14, unique_by=lambda x: (x.owner, x.owned))


@st.composite
def consistent_graphs(draw: st.DrawFn) -> list[Edge]:
    """Every entity's owners hold at most 100 % between them (upper bounds included)."""
    found = []
    for owned in NODES:
        owners_ = draw(st.lists(st.sampled_from([n for n in NODES if n != owned]), unique=True,
                                max_size=3))
        budget = 100
        for owner in owners_:
            share = draw(intervals(top=budget))
            budget -= int(share.high)
            found.append(Edge(owner, owned, share, direct=draw(st.sampled_from([True, None, False]))))
    return found


def simple_paths(graph: OwnershipGraph, start: str, end: str) -> Iterable[tuple[str, ...]]:
    """Brute force: every sequence of distinct parties joined by edges, from start to end."""
    middle = [n for n in NODES if n not in (start, end)]
    for size in range(len(middle) + 1):
        for inner in itertools.permutations(middle, size):
            nodes = (start, *inner, end)
            if all(any(x.owned == b for x in graph.holdings_of(a)) for a, b in itertools.pairwise(nodes)):
                yield nodes


def covered(graph: OwnershipGraph, nodes: tuple[str, ...]) -> bool:
    return any((nodes[i], nodes[j]) in graph.declared
               for i in range(len(nodes)) for j in range(i + 2, len(nodes)))


def uncapped_high(stake: Stake) -> Fraction:
    return sum((p.share.high for p in stake.paths if p.counted), Fraction(0))


@THOROUGH
@given(graphs(), st.sampled_from(NODES))
def test_shares_stay_between_0_and_100_through_any_structure(found: list[Edge], subject: str) -> None:
    graph = OwnershipGraph(found)
    for network in (owners(graph, subject), holdings(graph, subject)):
        assert not network.truncated
        for stake in network.stakes:
            assert 0 <= stake.share.low <= stake.share.high <= 100


@THOROUGH
@given(consistent_graphs(), st.sampled_from(NODES))
def test_consistent_reports_never_add_up_to_more_than_everything(found: list[Edge], subject: str) -> None:
    # No capping needed: with every entity's owners at 100 % at most, chains of distinct
    # parties cannot give anyone more, cycles or not.
    for stake in owners(OwnershipGraph(found), subject).stakes:
        assert uncapped_high(stake) <= 100


@THOROUGH
@given(graphs(), st.sampled_from(NODES))
def test_chains_are_exactly_the_simple_paths_not_covered_by_a_declaration(found: list[Edge], subject: str) -> None:
    graph = OwnershipGraph(found)
    stakes = by_holder(owners(graph, subject))
    for holder in NODES:
        if holder == subject:
            continue
        expected = {p for p in simple_paths(graph, holder, subject) if not covered(graph, p)}
        found = counted(stakes[holder]) if holder in stakes else set()
        assert found == expected


@THOROUGH
@given(graphs(), st.sampled_from(NODES))
def test_cycles_never_inflate_beyond_counting_every_walk(found: list[Edge], subject: str) -> None:
    # The sum over all walks (cycles walked round, up to the length a simple chain can have)
    # bounds the sum over chains; without cycles or declarations the two are equal.
    graph = OwnershipGraph(found)
    for stake in owners(graph, subject).stakes:
        walks = walk_sum(graph, stake.holder, subject)
        assert uncapped_high(stake) <= walks
        if not chains_to(graph, subject).cyclic and not graph.declared:
            assert uncapped_high(stake) == walks


def walk_sum(graph: OwnershipGraph, holder: str, subject: str) -> Fraction:
    weights = {holder: Fraction(1)}
    total = Fraction(0)
    for _ in range(len(NODES) - 1):
        step: dict[str, Fraction] = {}
        for node, weight in weights.items():
            for edge in graph.holdings_of(node):
                if edge.owned != holder:
                    step[edge.owned] = step.get(edge.owned, Fraction(0)) + weight * edge.economic.high / 100
        weights = step
        total += weights.get(subject, Fraction(0)) * 100
    return total


@THOROUGH
@given(graphs(), st.sampled_from(NODES), st.data())
def test_ranges_bound_every_exact_choice(found: list[Edge], subject: str, data: st.DataObject) -> None:
    exact = []
    for edge in found:
        span = edge.economic
        value = data.draw(st.fractions(span.low, span.high, max_denominator=8).filter(span.contains))
        exact.append(Edge(edge.owner, edge.owned, Interval(value, value), edge.voting,
                          edge.interests, edge.direct))
    ranged, chosen = by_holder(owners(OwnershipGraph(found), subject)), \
        by_holder(owners(OwnershipGraph(exact), subject))
    assert ranged.keys() == chosen.keys()
    for holder, stake in chosen.items():
        assert stake.share.low == stake.share.high
        assert ranged[holder].share.contains(stake.share.low)


@THOROUGH
@given(graphs(), st.sampled_from(NODES), st.sampled_from(NODES), intervals())
def test_a_cross_holding_by_the_subject_changes_none_of_its_owners(
        found: list[Edge], subject: str, held: str, share: Interval) -> None:
    graph = OwnershipGraph(found)
    if held == subject or any(x.owned == held for x in graph.holdings_of(subject)):
        return
    crossed = OwnershipGraph([*found, Edge(subject, held, share)])
    assert shares(owners(crossed, subject)) == shares(owners(graph, subject))


@THOROUGH
@given(graphs(), st.sampled_from(NODES))
def test_walking_up_and_walking_down_agree(found: list[Edge], holder: str) -> None:
    graph = OwnershipGraph(found)
    down = by_subject(holdings(graph, holder))
    for subject, stake in down.items():
        up = by_holder(owners(graph, subject))[holder]
        assert (up.share, up.controls, up.grounds) == (stake.share, stake.controls, stake.grounds)
        assert counted(up) == counted(stake)
    assert {p.subject for p in chains_from(graph, holder).paths} == set(down)
