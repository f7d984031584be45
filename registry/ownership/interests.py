"""Shares as intervals, and one reported interest as an edge of the ownership graph.

Pure data: no database, no Flask. Percentages are `Fraction`s, so a product along a chain and
a sum over chains are exact (76.5 % of 23.5 % is 17.9775 %, not 17.977499999...); they are
rounded only when shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

Node = str
Number = int | float | Decimal | Fraction | str

HUNDRED = Fraction(100)
# EU Directive 2015/849 art. 3(6)(a)(i) names 25 % as the indication of ownership; member
# states and high-risk cases go lower, so it is a parameter.
DEFAULT_THRESHOLD = Fraction(25)
MAJORITY = Fraction(50)

SHARE_INTERESTS = frozenset({"shareholding"})
# The nature of the interest is not known or not published: its size could be anything.
UNKNOWN_INTERESTS = frozenset({"unknownInterest", "unpublishedInterest"})
VOTING = "votingRights"
# Interests that make a natural person a beneficial owner whatever their share: control by
# other means (EU 2015/849 art. 3(6)(a)(i); UK PSC conditions 3 to 5), the parties to a
# trust or similar arrangement (art. 3(6)(b) and (c)), a senior managing official (the
# directive's fallback) and a nominator, on whose instructions a nominee acts. A nominee,
# a board seat and contractual rights of unstated nature are shown, but do not qualify alone.
QUALIFYING = frozenset({
    "appointmentOfBoard", "otherInfluenceOrControl", "controlViaCompanyRulesOrArticles",
    "controlByLegalFramework", "seniorManagingOfficial", "settlor", "trustee", "protector",
    "beneficiaryOfLegalArrangement", "nominator",
})
# What, besides a majority of shares or votes, makes an intermediate entity controlled by its
# holder, so that the holder is treated as holding the entity's own interests (UK Companies
# Act 2006 sch. 1A para 9 and 18, "majority stake"; German GwG s. 3(2) "mittelbare Kontrolle").
PASSES_CONTROL = frozenset({
    "appointmentOfBoard", "otherInfluenceOrControl", "controlViaCompanyRulesOrArticles",
    "controlByLegalFramework",
})


def percent(value: Number) -> Fraction:
    """A percentage as an exact fraction; a float is read as the decimal it prints as."""
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


@dataclass(frozen=True)
class Interval:
    """A percentage known to lie in [low, high]; an exact figure has low == high."""

    low: Fraction
    high: Fraction

    def __post_init__(self) -> None:
        if not 0 <= self.low <= self.high:
            raise ValueError(f"not a share interval: [{self.low}, {self.high}]")

    @classmethod
    def of(cls, low: Number, high: Number) -> Interval:
        return cls(percent(low), percent(high))

    def times(self, other: Interval) -> Interval:
        """The share held through a holding of `self` in something that holds `other`."""
        return Interval(self.low * other.low / HUNDRED, self.high * other.high / HUNDRED)

    def plus(self, other: Interval) -> Interval:
        return Interval(self.low + other.low, self.high + other.high)

    def capped(self) -> Interval:
        """Nobody holds more than all of something: inconsistent reports (owners' shares that add
        up to more than 100 %, wide ranges) must not show as more."""
        return Interval(min(self.low, HUNDRED), min(self.high, HUNDRED))

    def contains(self, value: Fraction) -> bool:
        return self.low <= value <= self.high

    def as_json(self) -> dict[str, float]:
        return {"min": round(float(self.low), 6), "max": round(float(self.high), 6)}


NOTHING = Interval(Fraction(0), Fraction(0))
UNKNOWN = Interval(Fraction(0), HUNDRED)
WHOLE = Interval(HUNDRED, HUNDRED)


@dataclass(frozen=True)
class Edge:
    """One party's interest in an entity, valid on the day asked about.

    `direct` is False for a declared indirect interest: the declarant's total interest held
    through intermediaries (BODS `directOrIndirect: indirect`), a summary of chains that may
    also be reported link by link. None means the report does not say.
    """

    owner: Node
    owned: Node
    share: Interval | None = None
    voting: Interval | None = None
    interests: tuple[str, ...] = ()
    direct: bool | None = True

    @property
    def declared_indirect(self) -> bool:
        return self.direct is False

    @property
    def economic(self) -> Interval:
        """The share that multiplies along a chain. Reported: as reported. Not reported: unknown
        ([0, 100]) when the interest is or may be a shareholding (it names shareholding, an
        unknown or unpublished interest, or nothing at all), and nothing when every interest
        named is of another kind (a trustee or a board member holds no shares as such)."""
        if self.share is not None:
            return self.share
        kinds = set(self.interests)
        if not kinds or kinds & (SHARE_INTERESTS | UNKNOWN_INTERESTS):
            return UNKNOWN
        return NOTHING

    @property
    def other_interests(self) -> tuple[str, ...]:
        """Everything but the shareholding: what is shown beside the share."""
        return tuple(i for i in self.interests if i not in SHARE_INTERESTS)

    def qualifies(self, threshold: Fraction) -> bool:
        """Whether this interest alone makes its holder a beneficial owner of the owned entity,
        shares aside. Votes count when they may reach the threshold; votes declared without a
        figure count, since the declaration names them as an interest of their own."""
        if set(self.interests) & QUALIFYING:
            return True
        if self.voting is not None:
            return self.voting.high >= threshold
        return VOTING in self.interests

    def passes_control(self) -> bool:
        """Whether the holder certainly controls the owned entity: a majority of shares or votes
        (more than half, so a 50/50 joint venture is controlled by neither) or a controlling
        interest. Only the lower bound counts: a possible majority is not control."""
        votes = self.voting.low if self.voting is not None else Fraction(0)
        return (self.economic.low > MAJORITY or votes > MAJORITY
                or bool(set(self.interests) & PASSES_CONTROL))
