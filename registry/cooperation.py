"""International cooperation requests and the statistics UNCAC art. 46 reviews ask for.

Dates: `received_on` is the day a request was received (direction "received") or sent
("sent"); `executed_on` or `refused_on` closes it. Days to execute are counted from
`received_on` to `executed_on`, calendar days, as the review questionnaires count them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, false, func, select, true
from sqlalchemy.orm import Session

from registry.errors import Forbidden, InvalidRequest, NotFound
from registry.models import Case, CooperationRequest

GROUPS = {"by_offence": CooperationRequest.offence,
          "by_state": CooperationRequest.counterpart_state,
          "by_legal_basis": CooperationRequest.legal_basis,
          "by_assistance_type": CooperationRequest.assistance_type}


@dataclass(frozen=True)
class Period:
    direction: str | None = None
    since: date | None = None
    until: date | None = None  # inclusive

    def conditions(self) -> list[ColumnElement[bool]]:
        r = CooperationRequest
        found = [r.direction == self.direction if self.direction else None,
                 r.received_on >= self.since if self.since else None,
                 r.received_on <= self.until if self.until else None]
        return [c for c in found if c is not None]


def check_dates(values: dict[str, Any]) -> None:
    """A request's dates must follow each other; a refusal needs its reason."""
    received = values.get("received_on")
    for later in ("acknowledged_on", "executed_on", "refused_on"):
        if values.get(later) and received and values[later] < received:
            raise InvalidRequest(f"{later} is before received_on")
    acknowledged = values.get("acknowledged_on")
    for closing in ("executed_on", "refused_on"):
        if values.get(closing) and acknowledged and values[closing] < acknowledged:
            raise InvalidRequest(f"{closing} is before acknowledged_on")
    if values.get("executed_on") and values.get("refused_on"):
        raise InvalidRequest("a request is either executed or refused, not both")
    if values.get("refused_on") and not values.get("refusal_reason"):
        raise InvalidRequest("a refusal needs its reason (refusal_reason)")


STATUSES = ("pending", "executed", "refused")
# Dates and the reason a supervisor records as a request goes on; the rest is fixed at entry.
PROGRESS_FIELDS = ("acknowledged_on", "executed_on", "refused_on", "refusal_reason")


@dataclass(frozen=True)
class RequestFilter:
    direction: str | None = None
    state: str | None = None
    status: str | None = None
    case_id: int | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        r = CooperationRequest
        by_status = {"pending": r.executed_on.is_(None) & r.refused_on.is_(None),
                     "executed": r.executed_on.is_not(None), "refused": r.refused_on.is_not(None)}
        found = [r.direction == self.direction if self.direction else None,
                 r.counterpart_state == self.state if self.state else None,
                 by_status[self.status] if self.status else None,
                 r.case_id == self.case_id if self.case_id is not None else None]
        return [c for c in found if c is not None]


@dataclass(frozen=True)
class Scope:
    """Whose requests a caller may read: one agency's (a supervisor's; none without an
    agency), or every one (auditors, the command line, the statistics' counts)."""

    agency_id: int | None = None
    every_agency: bool = True


class CooperationService:
    def __init__(self, session: Session, scope: Scope = Scope()) -> None:
        self.session = session
        self.scope = scope

    def list(self, flt: RequestFilter, limit: int = 100, after_id: int | None = None) -> list[CooperationRequest]:
        query = select(CooperationRequest).where(*flt.conditions(), self._visible())
        if after_id is not None:
            query = query.where(CooperationRequest.id > after_id)
        return list(self.session.execute(query.order_by(CooperationRequest.id).limit(limit)).scalars())

    def get(self, request_id: int) -> CooperationRequest:
        found = self.session.execute(select(CooperationRequest).where(
            CooperationRequest.id == request_id, self._visible())).scalar_one_or_none()
        if found is None:  # another agency's request is not there, as far as the caller can tell
            raise NotFound(f"There is no cooperation request {request_id}.")
        return found

    def _visible(self) -> ColumnElement[bool]:
        if self.scope.every_agency:
            return true()
        if self.scope.agency_id is None:
            return false()
        return CooperationRequest.agency_id == self.scope.agency_id

    def record_progress(self, request_id: int, changes: dict[str, Any]) -> dict[str, Any]:
        """Set acknowledged, executed or refused dates (and the reason of a refusal), checked
        together with what the request holds already; returns what changed, old and new."""
        found = self.get(request_id)
        merged = {name: getattr(found, name) for name in ("received_on", *PROGRESS_FIELDS)}
        merged.update({k: v for k, v in changes.items() if k in PROGRESS_FIELDS})
        check_dates(merged)
        changed = {k: {"from": _iso(getattr(found, k)), "to": _iso(v)}
                   for k, v in merged.items() if getattr(found, k) != v}
        for name in changed:
            setattr(found, name, merged[name])
        self.session.flush()
        return changed

    def add(self, values: dict[str, Any]) -> CooperationRequest:
        check_dates(values)
        if not self.scope.every_agency and self.scope.agency_id is None:
            raise Forbidden("You belong to no agency: there is no one whose requests you handle.")
        case = self._case(values.get("case_id"))
        agency = self.scope.agency_id if self.scope.agency_id is not None else (case.agency_id if case else None)
        request = CooperationRequest(**values, agency_id=agency)
        self.session.add(request)
        self.session.flush()
        return request

    def _case(self, case_id: int | None) -> Case | None:
        """The case a request belongs to: one of the caller's agency, for a supervisor. Another
        agency's case is answered like a missing one, so case ids cannot be probed."""
        if case_id is None:
            return None
        case = self.session.get(Case, case_id)
        if case is None or not (self.scope.every_agency or case.agency_id == self.scope.agency_id):
            raise InvalidRequest(f"no case {case_id}")
        return case

    def statistics(self, period: Period) -> dict[str, Any]:
        return {"period": {"direction": period.direction, "from": _iso(period.since),
                           "to": _iso(period.until)},
                "totals": self._counts(CooperationRequest.direction, period),
                **{name: self._grouped(column, period) for name, column in GROUPS.items()},
                "status": self._status(period),
                "days_to_execute": self._durations(period)}

    def _counts(self, column: Any, period: Period) -> dict[str, int]:
        rows = self.session.execute(select(column, func.count()).where(*period.conditions())
                                    .group_by(column).order_by(column))
        return {str(key): count for key, count in rows}

    def _grouped(self, column: Any, period: Period) -> dict[str, dict[str, int]]:
        r = CooperationRequest
        rows = self.session.execute(
            select(column, func.count().filter(r.direction == "received"),
                   func.count().filter(r.direction == "sent"), func.count())
            .where(*period.conditions()).group_by(column).order_by(column))
        return {str(key): {"received": rec, "sent": sent, "total": total}
                for key, rec, sent, total in rows}

    def _status(self, period: Period) -> dict[str, int]:
        r = CooperationRequest
        row = self.session.execute(select(
            func.count().filter(r.executed_on.is_not(None)),
            func.count().filter(r.refused_on.is_not(None)),
            func.count().filter(r.executed_on.is_(None) & r.refused_on.is_(None)),
        ).where(*period.conditions())).one()
        return {"executed": row[0], "refused": row[1], "pending": row[2]}

    def _durations(self, period: Period) -> dict[str, dict[str, Any]]:
        r = CooperationRequest
        days = r.executed_on - r.received_on  # date - date is an integer number of days
        rows = self.session.execute(
            select(r.direction, func.count(),
                   func.percentile_cont(0.5).within_group(days),
                   func.percentile_cont(0.9).within_group(days))
            .where(*period.conditions(), r.executed_on.is_not(None), r.received_on.is_not(None))
            .group_by(r.direction).order_by(r.direction))
        return {direction: {"executed": count, "median": _num(median), "p90": _num(p90)}
                for direction, count, median, p90 in rows}


def _num(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def request_json(found: CooperationRequest) -> dict[str, Any]:
    columns = ("id", "direction", "counterpart_state", "assistance_type", "legal_basis", "offence",
               "case_id", "received_on", "acknowledged_on", "executed_on", "refused_on",
               "refusal_reason", "confidential")
    status = "executed" if found.executed_on else "refused" if found.refused_on else "pending"
    return {**{c: _iso(getattr(found, c)) for c in columns}, "status": status}
