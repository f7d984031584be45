"""Oversight of the query log: filtered reads, CSV export, each user's activity over time,
and flags raised automatically, each with the reason an auditor should look.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from loaders.csv_bundle import FORMULA_START
from registry.cases import NameList
from registry.models import AuditEvent, Case, Party, key_arrays, keys_in
from registry.models.access import SensitiveName
from search.name_similarity import name_similarity
from search.names import analyse_name

EXPORT_MAX_ROWS = 100_000
FLAG_MAX_EVENTS = 20_000
# Below this similarity a searched name is not taken for one of the case's subjects: at 0.8
# the name scorer already tolerates a dropped middle name or a transliteration variant.
SUBJECT_SIMILARITY = 0.8
# Volume: a day is flagged above both FACTOR times the user's median day and an absolute
# floor, so that someone who usually runs 2 searches is not flagged for running 7.
VOLUME_FACTOR = 3.0
VOLUME_FLOOR = 50
BASELINE_DAYS = 30
# Cells a spreadsheet would run as a formula (OWASP "CSV injection"): the same starts the
# CSV bundle reader documents. Unlike inert_csv_cell, the audit export quotes signed numbers
# too: nothing in the log is a number written as text that a reader would want computed.
FORMULA_PREFIXES = FORMULA_START
CSV_COLUMNS = ("id", "occurred_at", "tag", "outcome", "actor", "role", "agency", "client_address",
               "case_id", "legal_basis", "parameters", "result_count", "result_ids", "detail")


def looked_at() -> ColumnElement[bool]:
    """Events that are a look at the registry: searches, record views, ownership looks."""
    tag = AuditEvent.tag
    return or_(tag.like("search:%"), tag.like("view:%"), tag.like("ownership:%"))


@dataclass(frozen=True)
class EventFilter:
    user: str | None = None
    agency: str | None = None
    case_id: int | None = None
    since: date | None = None
    until: date | None = None  # inclusive
    name: str | None = None
    identifier: str | None = None
    tag: str | None = None
    outcome: str | None = None

    def as_parameters(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, date) else v)
                for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class Flag:
    event_id: int
    kind: str  # not_subject, volume, outside_hours, unrelated_cases, sensitive
    explanation: str
    occurred_at: str
    actor: str | None
    case_id: int | None


def safe_cell(value: Any) -> Any:
    """A value for a CSV cell that no spreadsheet will evaluate."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tz)


def event_dict(event: AuditEvent) -> dict[str, Any]:
    return {"id": event.id, "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
            "tag": event.tag, "outcome": event.outcome, "user_id": event.user_id,
            "actor": event.actor, "role": event.role, "agency": event.agency,
            "client_address": event.client_address, "case_id": event.case_id,
            "legal_basis": event.legal_basis, "parameters": event.parameters,
            "result_count": event.result_count, "result_ids": event.result_ids,
            "detail": event.detail}


class OversightService:
    def __init__(self, session: Session, timezone: str = "UTC",
                 working_hours: tuple[int, int] = (7, 19), volume_floor: int = VOLUME_FLOOR) -> None:
        self.session = session
        self.tz = ZoneInfo(timezone)
        self.working_hours = working_hours
        self.volume_floor = volume_floor

    def _filtered(self, flt: EventFilter, query: Select[Any]) -> Select[Any]:
        e = AuditEvent
        conditions = [
            e.actor == flt.user if flt.user else None,
            e.agency == flt.agency if flt.agency else None,
            e.case_id == flt.case_id if flt.case_id is not None else None,
            e.occurred_at >= _day_start(flt.since, self.tz) if flt.since else None,
            e.occurred_at < _day_start(flt.until + timedelta(days=1), self.tz) if flt.until else None,
            e.parameters["name"].as_string().ilike(_like(flt.name)) if flt.name else None,
            or_(e.parameters["identifier"].as_string().ilike(_like(flt.identifier)),
                e.result_ids.contains([flt.identifier])) if flt.identifier else None,
            e.tag.like(flt.tag.replace("*", "%")) if flt.tag else None,
            e.outcome == flt.outcome if flt.outcome else None,
        ]
        return query.where(*(c for c in conditions if c is not None))

    def events(self, flt: EventFilter, limit: int = 100, after_id: int | None = None) -> list[dict[str, Any]]:
        query = self._filtered(flt, select(AuditEvent))
        if after_id is not None:
            query = query.where(AuditEvent.id > after_id)
        rows = self.session.execute(query.order_by(AuditEvent.id).limit(limit)).scalars()
        return [event_dict(e) for e in rows]

    def export_csv(self, flt: EventFilter) -> tuple[str, int, bool]:
        """The filtered events as CSV text; (text, rows, truncated at EXPORT_MAX_ROWS)."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        query = self._filtered(flt, select(AuditEvent)).order_by(AuditEvent.id).limit(EXPORT_MAX_ROWS + 1)
        rows = 0
        for event in self.session.execute(query.execution_options(yield_per=2000)).scalars():
            if rows == EXPORT_MAX_ROWS:
                return out.getvalue(), rows, True
            writer.writerow([safe_cell(v) for v in _csv_values(event_dict(event))])
            rows += 1
        return out.getvalue(), rows, False

    def activity(self, flt: EventFilter) -> list[dict[str, Any]]:
        """Per user and day: searches, refusals, rate-limit breaches, other events."""
        e = AuditEvent
        day = func.date(func.timezone(self.tz.key, e.occurred_at))
        search = e.tag.like("search:%")
        query = self._filtered(flt, select(
            e.actor, day.label("day"),
            func.count().filter(search & (e.outcome == "ok")).label("searches"),
            func.count().filter(looked_at() & ~search & (e.outcome == "ok")).label("views"),
            func.count().filter(e.outcome == "refused").label("refused"),
            func.count().filter(e.outcome == "rate_limited").label("rate_limited"),
            func.count().label("events"),
        )).group_by(e.actor, day).order_by(e.actor, day)
        return [{"user": r.actor, "day": r.day.isoformat(), "searches": r.searches,
                 "views": r.views, "refused": r.refused, "rate_limited": r.rate_limited, "events": r.events}
                for r in self.session.execute(query)]

    # ---- flags --------------------------------------------------------------------------

    def flags(self, flt: EventFilter) -> list[Flag]:
        # Record views and ownership looks by id, too: paging through parties by number
        # names nobody, and must raise the same volume, hours and PEP flags as searches.
        searches = list(self.session.execute(
            self._filtered(flt, select(AuditEvent)).where(looked_at(), AuditEvent.outcome == "ok")
            .order_by(AuditEvent.id).limit(FLAG_MAX_EVENTS)).scalars())
        cases = self._cases({e.case_id for e in searches if e.case_id is not None})
        found = [*self._not_subject(searches, cases), *self._outside_hours(searches),
                 *self._volume(searches), *self._unrelated_cases(searches, cases),
                 *self._sensitive(searches)]
        return sorted(found, key=lambda f: (f.event_id, f.kind))

    def _cases(self, ids: set[int]) -> dict[int, Case]:
        rows = self.session.execute(select(Case).where(Case.id.in_(ids))).scalars() if ids else []
        return {c.id: c for c in rows}

    def _not_subject(self, events: list[AuditEvent], cases: dict[int, Case]) -> Iterator[Flag]:
        for event in events:
            case, name = cases.get(event.case_id or -1), _searched(event)
            if case is None or not case.subjects or not name:
                continue  # a case without listed subjects gives nothing to compare with
            best = max(name_similarity(analyse_name(name), analyse_name(s)) for s in case.subjects)
            if best < SUBJECT_SIMILARITY:
                yield _flag(event, "not_subject", f"searched {name!r} under case {case.reference}, "
                            f"whose subjects are {', '.join(case.subjects)} (closest match {best:.2f})")

    def _outside_hours(self, events: list[AuditEvent]) -> Iterator[Flag]:
        start, end = self.working_hours
        for event in events:
            local = event.occurred_at.astimezone(self.tz)
            if local.weekday() >= 5 or not start <= local.hour < end:
                yield _flag(event, "outside_hours", f"searched at {local:%a %H:%M} {self.tz.key}, "
                            f"outside working hours ({start:02d}:00-{end:02d}:00 on weekdays)")

    def _volume(self, events: list[AuditEvent]) -> Iterator[Flag]:
        per_day: dict[tuple[int, date], list[AuditEvent]] = defaultdict(list)
        for event in events:
            if event.user_id is not None:
                per_day[(event.user_id, event.occurred_at.astimezone(self.tz).date())].append(event)
        for (user_id, day), day_events in per_day.items():
            usual = self._usual_day(user_id, day)
            threshold = max(VOLUME_FACTOR * usual, self.volume_floor)
            if len(day_events) > threshold:
                yield _flag(day_events[-1], "volume", f"{len(day_events)} lookups on {day}, against "
                            f"a usual {usual:g} a day over the previous {BASELINE_DAYS} days "
                            f"(threshold {threshold:g})")

    def _usual_day(self, user_id: int, day: date) -> float:
        """Median searches per day over the user's previous days (days without any count 0)."""
        e = AuditEvent
        local_day = func.date(func.timezone(self.tz.key, e.occurred_at))
        counts = dict(self.session.execute(
            select(local_day, func.count()).where(
                e.user_id == user_id, looked_at(), e.outcome == "ok",
                e.occurred_at >= _day_start(day - timedelta(days=BASELINE_DAYS), self.tz),
                e.occurred_at < _day_start(day, self.tz)).group_by(local_day)).all())
        return float(statistics.median([counts.get(day - timedelta(days=n), 0)
                                        for n in range(1, BASELINE_DAYS + 1)]))

    def _unrelated_cases(self, events: list[AuditEvent], cases: dict[int, Case]) -> Iterator[Flag]:
        seen: dict[str, set[int]] = defaultdict(set)
        for event in events:
            name = _searched(event)
            if not name or event.case_id is None:
                continue
            key = analyse_name(name).folded
            earlier = seen[key] - {event.case_id}
            seen[key].add(event.case_id)
            # Cases that all name the person as a subject are related through them.
            if earlier and not all(_is_subject(name, cases.get(c)) for c in {*earlier, event.case_id}):
                refs = ", ".join(sorted(cases[c].reference if c in cases else str(c) for c in earlier))
                yield _flag(event, "unrelated_cases", f"{name!r} was also searched under case(s) "
                            f"{refs}, which do not all list this person as a subject")

    def _sensitive(self, events: list[AuditEvent]) -> Iterator[Flag]:
        reasons = dict(self.session.execute(select(SensitiveName.name, SensitiveName.reason)).all())
        # The approval gate's own resemblance (registry.cases): what needs approval is flagged.
        marked = NameList(reasons)
        peps = self._pep_ids({rid for e in events for rid in e.result_ids})
        for event in events:
            name = _searched(event)
            hit = marked.match(name) if name else None
            if hit is not None:
                like = "" if analyse_name(hit).folded == analyse_name(name or "").folded else f" as {hit!r}"
                yield _flag(event, "sensitive", f"searched {name!r}, marked sensitive{like} ({reasons[hit]})")
            shown = [rid for rid in event.result_ids if rid in peps]
            if shown:
                yield _flag(event, "sensitive", f"results shown include politically exposed "
                            f"person(s): {', '.join(shown[:5])}")

    def _pep_ids(self, result_ids: Iterable[str]) -> set[str]:
        keys = [(int(i), ref) for i, _, ref in (r.partition(":") for r in result_ids) if i.isdigit()]
        if not keys:
            return set()
        rows = self.session.execute(select(Party.institution_id, Party.ref).where(
            and_(keys_in(Party.institution_id, Party.ref), Party.pep.is_(True),
                 Party.superseded_at.is_(None))), key_arrays(keys))
        return {f"{i}:{ref}" for i, ref in rows}


def _searched(event: AuditEvent) -> str | None:
    name = (event.parameters or {}).get("name")
    return name if isinstance(name, str) and name.strip() else None


def _is_subject(name: str, case: Case | None) -> bool:
    wanted = analyse_name(name)
    return case is not None and any(
        name_similarity(wanted, analyse_name(s)) >= SUBJECT_SIMILARITY for s in case.subjects)


def _flag(event: AuditEvent, kind: str, explanation: str) -> Flag:
    return Flag(event.id, kind, explanation, event.occurred_at.astimezone(UTC).isoformat(),
                event.actor, event.case_id)


def _csv_values(row: dict[str, Any]) -> list[Any]:
    values = dict(row, parameters=orjson.dumps(row["parameters"]).decode(),
                  result_ids=" ".join(row["result_ids"]))
    return [values[c] for c in CSV_COLUMNS]
