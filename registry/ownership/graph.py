"""Effective ownership over a graph of reported interests: who stands behind an entity, and
what a party stands behind. Pure functions and dataclasses; the loader decides which edges
are valid on the day asked about.

The arithmetic (docs/ownership.md has worked examples):

- A chain is a sequence of distinct parties, each holding an interest in the next. Its share
  is the product of the shares along it; a holder's effective share is the sum over its
  chains, capped at 100 %. This is the multiplication method beneficial-ownership guidance
  commonly describes ("multiply through each layer, add the paths"), and every chain it
  counts can be listed.
- Ranges are intervals: the low ends multiply and add, the high ends too. Everything is
  non-negative, so the interval of the result bounds the result of every exact choice.
- Cycles (cross-holdings): a chain never visits a party twice, so walking round a cycle
  cannot inflate a share and the enumeration always ends. On acyclic structures this is exact;
  on cyclic ones it is a lower bound of "integrated ownership" (which counts the walks round
  the cycle too), so a result that met a cycle says so.
- A declared indirect interest (`direct` False) is the declarant's total interest through
  intermediaries, so it stands in for every chain from the declarant to that party: such
  chains are listed, marked not counted, and not followed further up.
- Control is not multiplied. A chain gives control when every link before the last passes
  control (a certain majority, or a controlling interest) and the last link qualifies (a
  controlling or trust interest, votes that may reach the threshold, or, behind at least one
  controlled intermediary, shares that may reach it).
- Enumeration stops at `Limits`; a result that stopped says so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import reduce

from registry.ownership.interests import DEFAULT_THRESHOLD, NOTHING, WHOLE, Edge, Interval, Node


@dataclass(frozen=True)
class Limits:
    # Published UBO chains rarely run past five or six layers; ten leaves room, and bounds
    # the loader's round trips.
    max_depth: int = 10
    # Bounds the work and the answer on dense structures (the number of simple paths grows
    # exponentially with density); far beyond what an investigator can read, and small
    # enough that the densest structure still answers in about 50 ms.
    max_paths: int = 1000


@dataclass(frozen=True)
class Path:
    """A chain from its holder (first link's owner) down to its subject (last link's owned)."""

    links: tuple[Edge, ...]
    counted: bool
    # The product of the links' shares, worked out link by link as the walk extends a chain.
    share: Interval

    @property
    def holder(self) -> Node:
        return self.links[0].owner

    @property
    def subject(self) -> Node:
        return self.links[-1].owned

    @property
    def nodes(self) -> tuple[Node, ...]:
        return (self.holder, *(link.owned for link in self.links))

    def gives_control(self, threshold: Fraction) -> bool:
        *chain, last = self.links
        if not all(link.passes_control() for link in chain):
            return False
        reaches = last.share is not None and last.share.may_reach(threshold)
        return last.qualifies(threshold) or (bool(chain) and reaches)


class OwnershipGraph:
    """Edges indexed both ways. Between two parties at most one direct (or unknown) interest
    and one declared indirect interest, as the registry keeps them: a BODS relationship may
    declare both, and each counts (50 % held directly and 50 % through others is 100 %).
    A party's interest in itself (treasury shares) makes nobody an owner and is left out."""

    def __init__(self, edges: Iterable[Edge]) -> None:
        self.up: dict[Node, list[Edge]] = defaultdict(list)
        self.down: dict[Node, list[Edge]] = defaultdict(list)
        self.declared: set[tuple[Node, Node]] = set()
        seen: set[tuple[Node, Node, bool]] = set()
        for edge in edges:
            pair = (edge.owner, edge.owned)
            if edge.owner == edge.owned:
                continue
            if (*pair, edge.declared_indirect) in seen:
                raise ValueError(f"two interests of {edge.owner!r} in {edge.owned!r}")
            seen.add((*pair, edge.declared_indirect))
            self.up[edge.owned].append(edge)
            self.down[edge.owner].append(edge)
            if edge.declared_indirect:
                self.declared.add(pair)

    def owners_of(self, node: Node) -> Sequence[Edge]:
        return self.up.get(node, ())

    def holdings_of(self, node: Node) -> Sequence[Edge]:
        return self.down.get(node, ())


@dataclass
class Walk:
    """Every chain found from or to one party, and whether the search was cut short."""

    paths: list[Path] = field(default_factory=list)
    truncated: bool = False
    cyclic: bool = False


def _record(walk: Walk, limits: Limits, path: Path, follow: bool) -> bool:
    """Keep a chain; whether to follow it further."""
    walk.paths.append(path)
    if not follow:
        return False
    if len(path.links) >= limits.max_depth:
        walk.truncated = True
        return False
    return True


def chains_to(graph: OwnershipGraph, subject: Node, limits: Limits = Limits()) -> Walk:
    """Every chain that ends at `subject`, found by walking up from it."""
    walk = Walk()

    def visit(node: Node, below: tuple[Edge, ...], share: Interval, on_path: frozenset[Node]) -> None:
        for edge in graph.owners_of(node):
            if edge.owner in on_path:
                walk.cyclic = True
                continue
            if len(walk.paths) >= limits.max_paths:
                walk.truncated = True
                return
            path = Path((edge, *below), not any((edge.owner, link.owned) in graph.declared
                                                for link in below), edge.economic.times(share))
            if _record(walk, limits, path, path.counted and bool(graph.owners_of(edge.owner))):
                visit(edge.owner, path.links, path.share, on_path | {edge.owner})

    visit(subject, (), WHOLE, frozenset({subject}))
    return walk


def chains_from(graph: OwnershipGraph, holder: Node, limits: Limits = Limits()) -> Walk:
    """Every chain that starts at `holder`, found by walking down from it."""
    walk = Walk()

    def visit(node: Node, above: tuple[Edge, ...], share: Interval, on_path: frozenset[Node],
              counted: bool) -> None:
        for edge in graph.holdings_of(node):
            if edge.owned in on_path:
                walk.cyclic = True
                continue
            if len(walk.paths) >= limits.max_paths:
                walk.truncated = True
                return
            # Walking up, a chain that an intermediate's declaration covers is never reached
            # (the walk stopped at that intermediate), while one the holder's own declaration
            # covers is listed, not counted; walking down must find exactly the same chains.
            if any((link.owner, edge.owned) in graph.declared for link in above[1:]):
                continue
            still = counted and not (above and (holder, edge.owned) in graph.declared)
            path = Path((*above, edge), still, share.times(edge.economic))
            if _record(walk, limits, path, bool(graph.holdings_of(edge.owned))):
                visit(edge.owned, path.links, path.share, on_path | {edge.owned}, still)

    visit(holder, (), WHOLE, frozenset({holder}), True)
    return walk


@dataclass(frozen=True)
class Stake:
    """One holder's position in one subject: the effective share, the chains, the control."""

    holder: Node
    subject: Node
    share: Interval
    paths: tuple[Path, ...]
    controls: bool
    grounds: tuple[str, ...]

    @property
    def held(self) -> tuple[Edge, ...]:
        """The holder's own interests that start its chains, each once."""
        return tuple(dict.fromkeys(path.links[0] for path in self.paths))


def grounds_for(share: Interval, controls: bool, threshold: Fraction) -> tuple[str, ...]:
    """Why a holder is a beneficial owner. At or above the threshold, not strictly above: an
    investigator would rather see one person too many (US CDD rule: "25 percent or more")."""
    found = []
    if share.surely_reaches(threshold):
        found.append("share")
    elif share.may_reach(threshold):
        found.append("possible_share")
    if controls:
        found.append("control")
    return tuple(found)


def _stake(holder: Node, subject: Node, paths: list[Path], threshold: Fraction) -> Stake:
    total = reduce(lambda acc, p: acc.plus(p.share), (p for p in paths if p.counted),
                   NOTHING).capped()
    controls = any(p.gives_control(threshold) for p in paths)
    return Stake(holder, subject, total, tuple(paths), controls,
                 grounds_for(total, controls, threshold))


@dataclass(frozen=True)
class Network:
    """Stakes around one party, with how complete the search was."""

    party: Node
    stakes: tuple[Stake, ...]
    truncated: bool
    cyclic: bool


def _network(party: Node, walk: Walk, key: Callable[[Path], Node],
             stake: Callable[[Node, list[Path]], Stake]) -> Network:
    grouped: dict[Node, list[Path]] = defaultdict(list)
    for path in walk.paths:
        grouped[key(path)].append(path)
    stakes = sorted((stake(other, paths) for other, paths in grouped.items()),
                    key=lambda s: (-s.share.high, -s.share.low, s.holder, s.subject))
    return Network(party, tuple(stakes), walk.truncated, walk.cyclic)


def owners(graph: OwnershipGraph, subject: Node, threshold: Fraction = DEFAULT_THRESHOLD,
           limits: Limits = Limits()) -> Network:
    """Everyone with a chain to `subject`, with their effective share and control."""
    return _network(subject, chains_to(graph, subject, limits), lambda p: p.holder,
                    lambda holder, paths: _stake(holder, subject, paths, threshold))


def holdings(graph: OwnershipGraph, holder: Node, threshold: Fraction = DEFAULT_THRESHOLD,
             limits: Limits = Limits()) -> Network:
    """Everything `holder` has a chain to, with the effective share and control held."""
    return _network(holder, chains_from(graph, holder, limits), lambda p: p.subject,
                    lambda subject, paths: _stake(holder, subject, paths, threshold))
