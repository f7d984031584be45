"""Shares as intervals, and one reported interest as an edge of the ownership graph.

Pure data: no database, no Flask. Percentages are `Fraction`s, so a product along a chain and
a sum over chains are exact (76.5 % of 23.5 % is 17.9775 %, not 17.977499999...); they are
rounded only when shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

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


def _figure(value: Fraction) -> str:
    return f"{round(float(value), 6):g} %"


def _attained(bound: Fraction, is_open: bool, other: Fraction, other_open: bool) -> bool:
    """Whether the product of two bounds is itself a possible figure: both bounds are, or
    either is a possible 0 (which makes the product 0 whatever the other)."""
    return (not is_open and not other_open) or (bound == 0 and not is_open) or \
        (other == 0 and not other_open)


@dataclass(frozen=True)
class Interval:
    """A percentage known to lie between low and high; an exact figure has low == high.

    A bound is open when the figure is known not to be the bound itself (BODS
    `exclusiveMinimum`: "more than 25 %"). It changes answers at the bounds: "more than 50 %"
    is a majority and "less than 25 %" never reaches a 25 % threshold, where the inclusive
    bounds would say otherwise.
    """

    low: Fraction
    high: Fraction
    low_open: bool = False
    high_open: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.low <= self.high:
            raise ValueError(f"not a share interval: [{self.low}, {self.high}]")
        if self.low == self.high and (self.low_open or self.high_open):
            raise ValueError(f"an empty share interval: ({self.low}, {self.high})")

    @classmethod
    def of(cls, low: Number, high: Number, low_open: bool = False,
           high_open: bool = False) -> Interval:
        return cls(percent(low), percent(high), low_open, high_open)

    def times(self, other: Interval) -> Interval:
        """The share held through a holding of `self` in something that holds `other`."""
        low, high = self.low * other.low / HUNDRED, self.high * other.high / HUNDRED
        low_open = not _attained(self.low, self.low_open, other.low, other.low_open)
        high_open = not _attained(self.high, self.high_open, other.high, other.high_open)
        return Interval(low, high, low_open and low < high, high_open and low < high)

    def plus(self, other: Interval) -> Interval:
        return Interval(self.low + other.low, self.high + other.high,
                        self.low_open or other.low_open, self.high_open or other.high_open)

    def capped(self) -> Interval:
        """Nobody holds more than all of something: inconsistent reports (owners' shares that add
        up to more than 100 %, wide ranges) must not show as more."""
        low, high = min(self.low, HUNDRED), min(self.high, HUNDRED)
        return Interval(low, high, self.low_open and low < high,
                        self.high_open and self.high <= HUNDRED and low < high)

    def contains(self, value: Fraction) -> bool:
        above = value > self.low or (value == self.low and not self.low_open)
        below = value < self.high or (value == self.high and not self.high_open)
        return above and below

    def surely_reaches(self, threshold: Fraction) -> bool:
        """Every figure in the interval is at or above the threshold."""
        return self.low >= threshold

    def may_reach(self, threshold: Fraction) -> bool:
        """Some figure in the interval is at or above the threshold."""
        return self.high > threshold or (self.high == threshold and not self.high_open)

    def surely_above(self, bound: Fraction) -> bool:
        """Every figure in the interval is more than `bound` (a majority: more than 50 %)."""
        return self.low > bound or (self.low == bound and self.low_open)

    def describe(self) -> str:
        """How an investigator reads it: "30 %", "25 % to 50 %", "more than 25 % and less than
        50 %"."""
        if self.low == self.high:
            return _figure(self.low)
        if not (self.low_open or self.high_open):
            return f"{_figure(self.low)} to {_figure(self.high)}"
        low = f"more than {_figure(self.low)}" if self.low_open else f"at least {_figure(self.low)}"
        high = f"less than {_figure(self.high)}" if self.high_open else f"at most {_figure(self.high)}"
        return f"{low} and {high}"

    def as_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"min": round(float(self.low), 6), "max": round(float(self.high), 6)}
        if self.low_open:
            shown["min_exclusive"] = True
        if self.high_open:
            shown["max_exclusive"] = True
        return {**shown, "text": self.describe()}


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
    # The reported interest this edge stands for (`ownership_interests.id`), when there is one:
    # two edges may join the same parties (a direct and a declared indirect interest).
    id: int | None = None

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
            return self.voting.may_reach(threshold)
        return VOTING in self.interests

    def passes_control(self) -> bool:
        """Whether the holder certainly controls the owned entity: a majority of shares or votes
        (more than half, so a 50/50 joint venture is controlled by neither) or a controlling
        interest. Only the lower bound counts: a possible majority is not control."""
        votes = self.voting if self.voting is not None else NOTHING
        return (self.economic.surely_above(MAJORITY) or votes.surely_above(MAJORITY)
                or bool(set(self.interests) & PASSES_CONTROL))
