"""Cases: no search or record view without a purpose.

Every lookup names an open case its caller is assigned to (`open_case`); anything else is
refused, and the refusal is audited. A search for a name marked sensitive (SensitiveName:
PEPs, the agencies' own staff, protected witnesses) also needs a supervisor's approval for
that name under that case (`require_approval`). Supervisors open, staff, close cases and
approve such searches through `CaseService`; docs/access.md describes the workflow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from rapidfuzz import fuzz, process
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

from registry import audit
from registry.auth import Caller, caller_fields
from registry.errors import Conflict, Forbidden, InvalidRequest, NotFound
from registry.models import Agency, Case, CaseAssignment, User
from registry.models.access import CaseApproval, SensitiveName
from search.name_similarity import name_similarity
from search.names import NameAnalysis, analyse_name

# A searched name this close to a sensitive one is taken for it: the same tolerance oversight
# uses for a case's subjects (a dropped middle name, a transliteration variant), so that a
# respelling does not slip past the approval a supervisor must give.
SENSITIVE_SIMILARITY = 0.8
# Up to this many names marked sensitive, an answer's names are compared with every one of
# them (17 us a pair: 20 answer names x 32 marked ones is 11 ms). Beyond, only with those
# sharing a search key or NEAR_STRINGS close as folded strings (rapidfuzz token_set_ratio):
# on 20,000 one-typo-a-word variants of ten names among 50 marked, both routes agreed on
# every one (tests/unit/test_sensitive_names.py checks 2,000); the closest true match of a
# list of nicknames, transliterations and reorderings scored 57.
FULL_SCAN = 32
NEAR_STRINGS = 40
MAX_LISTED = 500


def _refuse(session: Session, caller: Caller, tag: str, client: str | None, case: Case | None,
            detail: str, parameters: dict[str, Any]) -> None:
    audit.record(session, tag, "refused", **caller_fields(caller), client_address=client,
                 case_id=case.id if case else None,
                 legal_basis=case.legal_basis if case else None,
                 detail=detail, parameters=parameters)


_SENSITIVE_NAMES = select(SensitiveName.name)
# The case, the caller's assignment and the names marked sensitive in one query, built once:
# every search and view runs it, and every answer is checked against those names
# (`require_approval_to_show`). One round trip to Postgres fewer, about 0.35 ms of CPU.
_CASE_ASSIGNMENT_AND_SENSITIVE = (
    select(Case, CaseAssignment.user_id, select(func.array_agg(SensitiveName.name)).scalar_subquery())
    .outerjoin(CaseAssignment, (CaseAssignment.case_id == Case.id)
               & (CaseAssignment.user_id == bindparam("user_id")))
    .where(Case.id == bindparam("case_id")))
R = TypeVar("R")
# Where open_case leaves the names marked sensitive for the rest of the request.
_MARKED = "registry.sensitive_names"


def open_case(session: Session, caller: Caller, case_id: int, tag: str, client: str | None,
              parameters: dict[str, Any] | None = None,
              searched_names: Sequence[str] = ()) -> Case:
    """The case the caller works under, or an audited refusal. `searched_names`: the names a
    search looks for, checked against the sensitive names (see `require_approval`)."""
    row = session.execute(_CASE_ASSIGNMENT_AND_SENSITIVE,
                          {"case_id": case_id, "user_id": caller.id}).first()
    case: Case | None = row[0] if row is not None else None
    if row is None or case is None or case.status != "open" or row[1] is None:
        reason = ("no such case" if case is None else "the case is closed"
                  if case.status != "open" else "you are not assigned to this case")
        _refuse(session, caller, tag, client, case, reason, {"case_id": case_id, **(parameters or {})})
        raise Forbidden(f"Search refused: {reason}. Every search must name an open case "
                        "you are assigned to.")
    session.info[_MARKED] = NameList(row[2] or [])
    if searched_names:
        require_approval(session, caller, case, searched_names, tag, client, parameters)
    return case


class NameList:
    """Names analysed once, then asked many times which of them a name resembles."""

    def __init__(self, names: Iterable[str]) -> None:
        self.entries = [(n, analyse_name(n)) for n in names if n]
        self._folded = [known.folded for _, known in self.entries]
        self._by_key: dict[str, list[tuple[str, NameAnalysis]]] | None = None

    def match(self, name: str) -> str | None:
        wanted = analyse_name(name)
        if not wanted.folded:
            return None
        return next((n for n, known in self.entries if _resembles(wanted, known)), None)

    def match_shown(self, name: str) -> str | None:
        """`match` for the many names an answer shows. A short list, as most are, is compared
        whole, exactly as `match` does; a long one only where a name shares a key with an
        entry (a word, a sound, a word without its first letter, a glued run, a given name)
        or is close to it as a string (FULL_SCAN, NEAR_STRINGS)."""
        if len(self.entries) <= FULL_SCAN:
            return self.match(name)
        wanted = analyse_name(name)
        if not wanted.folded:
            return None
        index = self._index()
        near = dict.fromkeys(entry for key in _keys(wanted) for entry in index.get(key, ()))
        # Spellings that share no key (a typo in every word) are close as strings: rapidfuzz
        # compares the folded names in C, and only those it keeps are scored in full.
        near.update(dict.fromkeys(self.entries[i] for _, _, i in process.extract(
            wanted.folded, self._folded, scorer=fuzz.token_set_ratio, score_cutoff=NEAR_STRINGS,
            limit=None)))
        return next((n for n, known in near if _resembles(wanted, known)), None)

    def _index(self) -> dict[str, list[tuple[str, NameAnalysis]]]:
        if self._by_key is None:
            self._by_key = {}
            for entry in self.entries:
                for key in set(_keys(entry[1])):
                    self._by_key.setdefault(key, []).append(entry)
        return self._by_key


def _keys(name: NameAnalysis) -> tuple[str, ...]:
    return (*name.tokens, *(f"~{k}" for k in name.phonetic), *(f"-{k}" for k in name.tails),
            *name.glued, *(f"={k}" for k in name.nicknames))


def _resembles(wanted: NameAnalysis, known: NameAnalysis) -> bool:
    return known.folded == wanted.folded or name_similarity(wanted, known) >= SENSITIVE_SIMILARITY


def party_names(party: Mapping[str, Any] | None) -> list[str]:
    """Every name a party shows as its institution reported it: the current ones and those it
    had before (`former_names`). One list for every answer check, so that a name field added
    to what results show cannot slip past them."""
    party = party or {}
    return [n for n in (party.get("full_name"), party.get("name"), *(party.get("other_names") or []),
                        *(party.get("former_names") or [])) if n]


def marked_names(session: Session) -> NameList:
    """The names marked sensitive: as open_case read them with the case, or read now."""
    marked = session.info.get(_MARKED)
    if marked is None:
        marked = session.info[_MARKED] = NameList(session.execute(_SENSITIVE_NAMES).scalars())
    return marked


def sensitive_names_in(session: Session, names: Sequence[str]) -> list[str]:
    """The names among `names` that resemble a name marked sensitive. The list is short (a
    few hundred at most), so it is compared in Python with the search's own name similarity."""
    wanted = [n for n in names if n]
    if not wanted:
        return []
    marked = marked_names(session)
    return [n for n in wanted if marked.match(n) is not None]


def _approved_names(session: Session, case_id: int) -> list[str]:
    return list(session.execute(select(CaseApproval.name).where(
        CaseApproval.case_id == case_id, CaseApproval.withdrawn_at.is_(None))).scalars())


def require_approval(session: Session, caller: Caller, case: Case, searched_names: Sequence[str],
                     tag: str, client: str | None, parameters: dict[str, Any] | None = None) -> None:
    """Refuse (403, audited) a look for a sensitive name that no supervisor approved under
    this case. The message does not say why the name is sensitive: that is itself protected."""
    sensitive = sensitive_names_in(session, searched_names)
    missing = _unapproved(session, case, sensitive)
    if not missing:
        return
    _refuse(session, caller, tag, client, case, "a name marked sensitive, without a supervisor's "
            f"approval under this case: {missing[0]!r}",
            {"case_id": case.id, **(parameters or {}), "sensitive_names": missing})
    raise Forbidden(f"Search refused: {missing[0]!r} is marked sensitive. A supervisor of your "
                    f"agency must first approve searching for this name under case {case.reference} "
                    f"(POST /api/v1/cases/{case.id}/approvals).")


def require_approval_to_show(session: Session, caller: Caller, case: Case, shown_names: Iterable[str],
                             tag: str, client: str | None, parameters: dict[str, Any] | None = None) -> None:
    """Refuse (403, audited) a look at one party (by id: a record, its owners or holdings)
    that would show a name marked sensitive that no supervisor approved under this case:
    the network around a protected witness reveals as much as her record.

    Ids can be paged through, and that a name is in the registry is itself protected, so the
    refusal does not say it; the audit event does (`sensitive_names`), and the case's
    supervisors see it among the names waiting for approval (`requested_names`)."""
    marked = marked_names(session)
    if not marked.entries:
        return
    sensitive = sorted({n for n in shown_names if n and marked.match_shown(n) is not None})
    missing = _unapproved(session, case, sensitive)
    if not missing:
        return
    _refuse(session, caller, tag, client, case, "the answer shows names marked sensitive, without "
            f"a supervisor's approval under this case: {', '.join(map(repr, missing))}",
            {"case_id": case.id, **(parameters or {}), "sensitive_names": missing})
    raise Forbidden("Answer withheld: it would show a person marked sensitive. A supervisor of "
                    f"your agency sees who among the names waiting for approval under case "
                    f"{case.reference} (GET /api/v1/cases/{case.id}/approvals) and may approve it.")


@dataclass(frozen=True)
class Withheld(Generic[R]):
    """A search's results as the investigator may see them (`shown`), and whom the results
    left out showed (`names`: marked sensitive, not approved under the case)."""

    shown: list[R]
    count: int = 0
    names: list[str] = field(default_factory=list)

    def audit(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """The search event's `parameters` and `detail`: whom the withheld results showed."""
        if not self.count:
            return {"parameters": parameters, "detail": None}
        return {"parameters": {**parameters, "sensitive_names": self.names},
                "detail": withheld_detail(self.count)}


def withhold_unapproved(session: Session, case: Case, results: list[R],
                        names_of: Callable[[R], Iterable[str]]) -> Withheld[R]:
    """The search results an investigator may see under this case, and the names marked
    sensitive, not approved under this case, that the others would have shown.

    A search finds what it finds: a surname or an IBAN reaches a protected witness as surely
    as her full name, and a common given name reaches some politically exposed person or
    other. Those results are left out, not the whole answer: the investigator learns how
    many (`withheld`), the audit event and the case's supervisors learn whom
    (`sensitive_names`, `requested_names`), and a supervisor's approval shows them."""
    marked = marked_names(session)
    if not marked.entries:
        return Withheld(results)
    shown = [(r, {n for n in names_of(r) if marked.match_shown(n) is not None}) for r in results]
    missing = set(_unapproved(session, case, sorted({n for _, names in shown for n in names})))
    if not missing:
        return Withheld(results)
    kept = [r for r, names in shown if not names & missing]
    return Withheld(kept, len(results) - len(kept), sorted(missing))


def withheld_detail(count: int) -> str | None:
    return f"{count} result(s) withheld: they show names marked sensitive" if count else None


def _unapproved(session: Session, case: Case, sensitive: Sequence[str]) -> list[str]:
    if not sensitive:
        return []
    approved = NameList(_approved_names(session, case.id))
    return [n for n in sensitive if approved.match(n) is None]


_REQUESTED = text("""
SELECT DISTINCT jsonb_array_elements_text(parameters->'sensitive_names') FROM audit_events
WHERE case_id = :case_id AND parameters ? 'sensitive_names'""")


def requested_names(session: Session, case: Case) -> list[str]:
    """Names marked sensitive that a search under this case was refused for, or whose results
    were withheld from it, and that no current approval covers: what the case's supervisors
    are asked to decide on."""
    refused = sorted(session.execute(_REQUESTED, {"case_id": case.id}).scalars())
    return _unapproved(session, case, refused)


# ---- the supervisor's workflow -----------------------------------------------------------

@dataclass(frozen=True)
class NewCase:
    reference: str
    legal_basis: str
    offence: str
    subjects: list[str] = field(default_factory=list)
    requesting_state: str | None = None
    assign: list[str] = field(default_factory=list)  # investigators' user names


class CaseService:
    """What a supervisor does with the cases of their agency, and what an investigator may
    see of the cases assigned to them. Every change is audited in the caller's transaction."""

    def __init__(self, session: Session, caller: Caller, client: str | None = None) -> None:
        self.session = session
        self.caller = caller
        self.client = client

    # -- reads --

    def list(self, status: str | None = None) -> list[Case]:
        query = self._visible(select(Case).order_by(Case.id.desc()).limit(MAX_LISTED))
        if status:
            query = query.where(Case.status == status)
        return list(self.session.execute(query).scalars())

    def overview(self) -> list[dict[str, Any]]:
        """The cases the caller may see, open ones first, each with its agency and
        investigators: two queries, not two per case, for the supervision page."""
        rows = self.session.execute(self._visible(
            select(Case, Agency.name).outerjoin(Agency, Agency.id == Case.agency_id)
            .order_by(Case.status.desc(), Case.opened_at.desc()).limit(MAX_LISTED))).all()
        assigned: dict[int, list[dict[str, Any]]] = {}
        for case_id, user_id, name in self.session.execute(
                select(CaseAssignment.case_id, User.id, User.name)
                .join(User, User.id == CaseAssignment.user_id)
                .where(CaseAssignment.case_id.in_([case.id for case, _ in rows]))
                .order_by(User.name)):
            assigned.setdefault(case_id, []).append({"user_id": user_id, "user": name})
        return [{**_case_fields(case, agency), "assigned": assigned.get(case.id, [])}
                for case, agency in rows]

    def investigators(self, case: Case) -> list[tuple[int, str]]:
        """Active investigators of the case's agency not yet assigned to it: whom a
        supervisor may add (`assign` checks the same again)."""
        taken = select(CaseAssignment.user_id).where(CaseAssignment.case_id == case.id)
        return [(uid, name) for uid, name in self.session.execute(
            select(User.id, User.name).where(
                User.agency_id == case.agency_id, User.role == "investigator",
                User.active.is_(True), User.id.not_in(taken)).order_by(User.name))]

    def get(self, case_id: int) -> Case:
        """A case the caller may see; the same 404 whether it does not exist or is not theirs,
        so that case ids of other agencies cannot be probed."""
        case = self.session.get(Case, case_id)
        if case is None or not self._may_see(case):
            raise NotFound(f"There is no case {case_id} you may see.")
        return case

    def assignments(self, case: Case) -> list[tuple[CaseAssignment, str]]:
        return [(a, name) for a, name in self.session.execute(
            select(CaseAssignment, User.name).join(User, User.id == CaseAssignment.user_id)
            .where(CaseAssignment.case_id == case.id).order_by(CaseAssignment.assigned_at))]

    def approvals(self, case: Case) -> list[CaseApproval]:
        return list(self.session.execute(select(CaseApproval).where(
            CaseApproval.case_id == case.id).order_by(CaseApproval.id)).scalars())

    # -- changes --

    def open(self, new: NewCase) -> Case:
        agency_id = self._agency_id()
        if agency_id is None:
            self._refused("admin:case:open", None, "the supervisor belongs to no agency")
        if (new.legal_basis == "incoming_mla_request") != bool(new.requesting_state):
            raise InvalidRequest("requesting_state is required for an incoming MLA request, "
                                 "and only for one")
        if self.session.execute(select(Case.id).where(Case.reference == new.reference)).first():
            raise Conflict(f"A case with reference {new.reference!r} exists already.")
        # Every assignee is checked before anything is written: the request commits on a
        # refusal (to keep its audit event), and must not leave a half-made case behind.
        for name in new.assign:
            self._assignee(name, agency_id, "admin:case:open", None)
        case = Case(reference=new.reference, agency_id=agency_id, legal_basis=new.legal_basis,
                    offence=new.offence, subjects=list(new.subjects), opened_by_id=self.caller.id,
                    requesting_state=new.requesting_state.upper() if new.requesting_state else None)
        self.session.add(case)
        self.session.flush()
        self._audit("admin:case:open", case, {"reference": case.reference, "offence": case.offence,
                                              "subjects": case.subjects,
                                              "requesting_state": case.requesting_state})
        for name in new.assign:
            self.assign(case.id, name)
        return case

    def assign(self, case_id: int, user_name: str) -> CaseAssignment:
        tag = "admin:case:assign"
        case = self._supervised(case_id, tag, open_only=True)
        user = self._assignee(user_name, case.agency_id, tag, case)
        if self.session.get(CaseAssignment, (case.id, user.id)) is not None:
            raise Conflict(f"{user_name} is already assigned to case {case.reference}.")
        assignment = CaseAssignment(case_id=case.id, user_id=user.id)
        self.session.add(assignment)
        self.session.flush()
        self._audit(tag, case, {"user": user_name, "user_id": user.id})
        return assignment

    def _assignee(self, user_name: str, agency_id: int | None, tag: str, case: Case | None) -> User:
        user = self.session.execute(select(User).where(User.name == user_name)).scalar()
        if user is None or not user.active or user.role != "investigator":
            raise InvalidRequest(f"{user_name!r} is not an active investigator.")
        if user.agency_id != agency_id:
            self._refused(tag, case, f"{user_name} is not of the case's agency", user=user_name)
        return user

    def unassign(self, case_id: int, user_id: int) -> None:
        tag = "admin:case:unassign"
        case = self._supervised(case_id, tag)
        assignment = self.session.get(CaseAssignment, (case.id, user_id))
        if assignment is None:
            raise NotFound(f"User {user_id} is not assigned to case {case.reference}.")
        self.session.delete(assignment)
        self.session.flush()
        self._audit(tag, case, {"user_id": user_id})

    def close(self, case_id: int) -> Case:
        case = self._supervised(case_id, "admin:case:close")
        if case.status != "open":
            raise Conflict(f"Case {case.reference} is closed already.")
        case.status, case.closed_at = "closed", datetime.now(UTC)
        self.session.flush()
        self._audit("admin:case:close", case, {"reference": case.reference})
        return case

    def approve(self, case_id: int, name: str, reason: str) -> CaseApproval:
        tag = "admin:approval:grant"
        case = self._supervised(case_id, tag, open_only=True)
        # Read now, not as a search earlier in this session found them: the name may be new.
        if NameList(self.session.execute(_SENSITIVE_NAMES).scalars()).match(name) is None:
            raise InvalidRequest(f"{name!r} is not marked sensitive: searching for it needs no approval.")
        if any(analyse_name(a).folded == analyse_name(name).folded
               for a in _approved_names(self.session, case.id)):
            raise Conflict(f"{name!r} is already approved under case {case.reference}.")
        approval = CaseApproval(case_id=case.id, name=name, folded=analyse_name(name).folded,
                                reason=reason, approved_by_id=self.caller.id)
        self.session.add(approval)
        self.session.flush()
        self._audit(tag, case, {"approval_id": approval.id, "name": name, "reason": reason})
        return approval

    def withdraw(self, case_id: int, approval_id: int) -> CaseApproval:
        tag = "admin:approval:withdraw"
        case = self._supervised(case_id, tag)
        approval = self.session.get(CaseApproval, approval_id)
        if approval is None or approval.case_id != case.id:
            raise NotFound(f"Case {case.reference} has no approval {approval_id}.")
        if approval.withdrawn_at is not None:
            raise Conflict(f"Approval {approval_id} was withdrawn already.")
        approval.withdrawn_at, approval.withdrawn_by_id = datetime.now(UTC), self.caller.id
        self.session.flush()
        self._audit(tag, case, {"approval_id": approval.id, "name": approval.name})
        return approval

    # -- helpers --

    def _visible(self, query: Any) -> Any:
        """Supervisors see their agency's cases, administrators every case (to oversee the
        registry; they change none), investigators the cases they are assigned to."""
        if self.caller.role == "supervisor":
            # A supervisor of no agency supervises nothing (not every case without one).
            agency = self._agency_id()
            return query.where(Case.agency_id == agency) if agency is not None else query.where(False)
        if self.caller.role == "administrator":
            return query
        return query.join(CaseAssignment, CaseAssignment.case_id == Case.id).where(
            CaseAssignment.user_id == self.caller.id)

    def _agency_id(self) -> int | None:
        user = self.session.get(User, self.caller.id) if self.caller.kind == "user" else None
        return user.agency_id if user is not None else None

    def _may_see(self, case: Case) -> bool:
        if self.caller.role == "supervisor":
            return case.agency_id is not None and case.agency_id == self._agency_id()
        return self.session.get(CaseAssignment, (case.id, self.caller.id)) is not None

    def _supervised(self, case_id: int, tag: str, open_only: bool = False) -> Case:
        """A case of the supervisor's own agency, or an audited refusal."""
        case = self.session.get(Case, case_id)
        if case is None:
            raise NotFound(f"There is no case {case_id}.")
        agency = self._agency_id()
        if self.caller.role != "supervisor" or agency is None or case.agency_id != agency:
            self._refused(tag, case, "the case is not one of the supervisor's agency")
        if open_only and case.status != "open":
            raise Conflict(f"Case {case.reference} is closed.")
        return case

    def _refused(self, tag: str, case: Case | None, reason: str, **parameters: Any) -> None:
        _refuse(self.session, self.caller, tag, self.client, case, reason,
                {"case_id": case.id if case else None, **parameters})
        raise Forbidden(f"Refused: {reason}.")

    def _audit(self, tag: str, case: Case, parameters: dict[str, Any]) -> None:
        audit.record(self.session, tag, "ok", **caller_fields(self.caller), client_address=self.client,
                     case_id=case.id, legal_basis=case.legal_basis, parameters=parameters)


def case_json(service: CaseService, case: Case, detail: bool = False) -> dict[str, Any]:
    """A case as the API and the pages show it."""
    agency = service.session.get(Agency, case.agency_id) if case.agency_id else None
    found: dict[str, Any] = {
        **_case_fields(case, agency.name if agency else None),
        "assigned": [{"user_id": a.user_id, "user": name, "assigned_at": _iso(a.assigned_at)}
                     for a, name in service.assignments(case)]}
    if detail:
        found["approvals"] = [approval_json(a) for a in service.approvals(case)]
        if service.caller.role == "supervisor":
            # Not for the investigators: they were refused without being told the name.
            found["requested_names"] = requested_names(service.session, case)
    return found


def _case_fields(case: Case, agency: str | None) -> dict[str, Any]:
    return {"id": case.id, "reference": case.reference, "agency": agency,
            "legal_basis": case.legal_basis, "requesting_state": case.requesting_state,
            "offence": case.offence, "subjects": list(case.subjects or []), "status": case.status,
            "opened_at": _iso(case.opened_at), "closed_at": _iso(case.closed_at)}


def approval_json(approval: CaseApproval) -> dict[str, Any]:
    return {"id": approval.id, "case_id": approval.case_id, "name": approval.name,
            "reason": approval.reason, "approved_by_id": approval.approved_by_id,
            "approved_at": _iso(approval.approved_at), "withdrawn_at": _iso(approval.withdrawn_at),
            "withdrawn_by_id": approval.withdrawn_by_id, "active": approval.withdrawn_at is None}


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None
