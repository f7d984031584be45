"""One party across reporters, and whose word counts for an entity's owners. Pure: no database.

A company register and a bank each describe a company under their own reference, and two
banks each describe a person. The loader finds which records share a link key (an LEI; a
registration number with its country; a national identifier or personal tax number with its
country and the birth date; never a name: `party_link_keys` in migration 0004) and groups them
here, so the graph has one node per party, whoever reported it.

Reporters may then disagree about an entity's owners. A company register is the authority
on who owns a company it registers (EU Directive 2015/849 art. 30: the central register of
beneficial ownership); a bank's declaration is what its customer told it, possibly long ago.
So the owners of an entity are taken from one reporter: the company register when one
declares any interest in it valid on the day asked about; otherwise the reporter that
declared most recently. Mixing reporters' lists would count a sold stake beside its buyer's.
Every other declaration is still listed, marked unused, with the reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from registry.ownership.interests import Edge, Interval, Node

PartyRef = tuple[int, str]  # (institution id, the institution's own reference)
REGISTER = "company_register"
# What a shared key says, as an investigator reads it.
KEY_NAMES = {"lei": "lei", "reg": "registration_number+country",
             "nid": "national_identifier+birth_date"}


def node_of_ref(ref: PartyRef) -> Node:
    return f"{ref[0]}:{ref[1]}"


@dataclass(frozen=True)
class Declaration:
    """One reported interest (a current `ownership_interests` row), with its reporter."""

    id: int
    institution_id: int
    institution: str
    institution_kind: str
    owner_ref: str
    owned_ref: str
    share: Interval | None
    voting: Interval | None
    interests: tuple[str, ...]
    direct: bool | None
    valid_from: date | None
    valid_to: date | None
    recorded_at: datetime

    @property
    def owner(self) -> PartyRef:
        return self.institution_id, self.owner_ref

    @property
    def owned(self) -> PartyRef:
        return self.institution_id, self.owned_ref

    def edge(self, parties: Parties) -> Edge:
        return Edge(parties.node(self.owner), parties.node(self.owned), self.share, self.voting,
                    self.interests, self.direct, self.id)


@dataclass
class Parties:
    """Records grouped into parties. A group is formed whole, from the transitive closure of
    shared keys, when its first record is met, so groups never merge later and a node's name
    (its first record's) never changes."""

    nodes: dict[PartyRef, Node] = field(default_factory=dict)
    members: dict[Node, list[PartyRef]] = field(default_factory=lambda: defaultdict(list))
    # The keys each record shares with another record of its party, by kind of key.
    linked_on: dict[PartyRef, set[str]] = field(default_factory=lambda: defaultdict(set))

    def node(self, ref: PartyRef) -> Node:
        return self.nodes[ref]

    def known(self, ref: PartyRef) -> bool:
        return ref in self.nodes

    def add_group(self, refs: Iterable[PartyRef]) -> None:
        """A group's records not met before join the party of one met before, if any (a key
        ignored as too widely shared, or a closure cut short, can leave a group split), or
        else form a new party."""
        group = set(refs)
        met = sorted(self.nodes[ref] for ref in group if ref in self.nodes)
        new = sorted(group - self.nodes.keys())
        if not new:
            return
        name = met[0] if met else node_of_ref(new[0])
        for ref in new:
            self.nodes[ref] = name
            self.members[name].append(ref)

    def refs_of(self, nodes: Iterable[Node]) -> set[PartyRef]:
        return {ref for node in nodes for ref in self.members.get(node, ())}


def groups(asked: Iterable[PartyRef], shared: Mapping[str, set[PartyRef]]) -> list[set[PartyRef]]:
    """The asked records grouped by the keys they share (transitively): `shared` maps each key
    to every record carrying it. A record sharing nothing is a group of its own."""
    parent: dict[PartyRef, PartyRef] = {}

    def root(ref: PartyRef) -> PartyRef:
        while parent.setdefault(ref, ref) != ref:
            parent[ref] = parent[parent[ref]]
            ref = parent[ref]
        return ref

    for ref in asked:
        root(ref)
    for refs in shared.values():
        first, *rest = sorted(refs)
        for ref in rest:
            parent[root(ref)] = root(first)
    found: dict[PartyRef, set[PartyRef]] = defaultdict(set)
    for ref in list(parent):
        found[root(ref)].add(ref)
    return list(found.values())


def key_kind(key: str) -> str:
    return KEY_NAMES.get(key.partition(":")[0], key.partition(":")[0])


def _rank(declarations: list[Declaration]) -> tuple[bool, datetime, int]:
    latest = max(d.recorded_at for d in declarations)
    return declarations[0].institution_kind == REGISTER, latest, -declarations[0].institution_id


def choose(declarations: Iterable[Declaration], parties: Parties) -> dict[int, str | None]:
    """For each declaration (by id): None when it is used, else why not. Declarations about an
    entity (its owners) are used from one reporter (see the module's docstring); of one
    reporter's declarations between the same two parties (two of its records linked into one
    party), the latest is used."""
    by_owned: dict[Node, dict[int, list[Declaration]]] = defaultdict(lambda: defaultdict(list))
    for found in declarations:
        by_owned[parties.node(found.owned)][found.institution_id].append(found)
    verdict: dict[int, str | None] = {}
    for reporters in by_owned.values():
        chosen = max(reporters.values(), key=_rank)
        reason = _not_chosen(chosen[0])
        for listed in reporters.values():
            for found in listed:
                verdict[found.id] = reason if listed is not chosen else None
        _latest_per_pair(chosen, parties, verdict)
    return verdict


def _not_chosen(chosen: Declaration) -> str:
    if chosen.institution_kind == REGISTER:
        return f"the owners declared by the company register {chosen.institution} are used"
    return f"the owners declared most recently, by {chosen.institution}, are used"


def _latest_per_pair(chosen: list[Declaration], parties: Parties,
                     verdict: dict[int, str | None]) -> None:
    pairs: dict[tuple[Node, Node, bool], list[Declaration]] = defaultdict(list)
    for found in chosen:
        edge = found.edge(parties)
        pairs[(edge.owner, edge.owned, edge.declared_indirect)].append(found)
    for same in pairs.values():
        latest = max(same, key=lambda d: (d.recorded_at, d.id))
        for found in same:
            if found is not latest:
                verdict[found.id] = (f"{found.institution} reported this interest again under "
                                     "another record of the same party; the latest is used")
