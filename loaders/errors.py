"""The error report of an extract: every problem with line, record id, field and message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

# A report with a million identical errors helps nobody; the rest is counted.
MAX_REPORTED = 1000
# A value sent back in a message is there to be recognised, not copied out: a 1 MB id echoed
# in a thousand messages made a 310 KB upload's report 1.6 GB. Capped like this, a report
# holds at most MAX_REPORTED problems of under a kilobyte each, so it stays under 1 MB.
MAX_ECHO = 100
MAX_FIELD = 200
MAX_MESSAGE = 600


def clip(text: str, limit: int = MAX_ECHO) -> str:
    """`text` cut to `limit` characters, the cut marked with an ellipsis."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def echo(value: object) -> str:
    """A value as a message quotes it (repr, so a string shows its quotes), clipped."""
    return clip(repr(value))


@dataclass(frozen=True)
class Problem:
    line: int | None
    record_id: str | None
    field: str | None
    message: str
    kind: str = "invalid"


@dataclass
class ErrorReport:
    problems: list[Problem] = field(default_factory=list)
    total: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    def add(self, problem: Problem) -> None:
        self.total += 1
        self.by_kind[problem.kind] = self.by_kind.get(problem.kind, 0) + 1
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(_bounded(problem))

    def __bool__(self) -> bool:
        return self.total > 0

    def as_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "shown": len(self.problems),
            "not_shown": self.total - len(self.problems),
            "by_kind": dict(sorted(self.by_kind.items())),
            "problems": [asdict(p) for p in self.problems],
        }

    def as_text(self, describe: Callable[[int], str] | None = None) -> str:
        """`describe` says where a position is (a bundle's are "person.csv row 4")."""
        lines = [f"{self.total} problem(s)"]
        for p in self.problems:
            if p.line is None:
                where = "extract"
            else:
                where = describe(p.line) if describe else f"line {p.line}"
            rid = f" [{p.record_id}]" if p.record_id else ""
            fld = f" {p.field}:" if p.field else ""
            lines.append(f"{where}{rid}{fld} {p.message}")
        if self.total > len(self.problems):
            lines.append(f"... and {self.total - len(self.problems)} more")
        return "\n".join(lines)


def _bounded(problem: Problem) -> Problem:
    """The problem with whatever it quotes from the file cut short."""
    return Problem(problem.line,
                   None if problem.record_id is None else clip(problem.record_id),
                   None if problem.field is None else clip(problem.field, MAX_FIELD),
                   clip(problem.message, MAX_MESSAGE), problem.kind)


class ExtractRejected(Exception):
    """The extract cannot be applied; nothing from it was applied."""

    def __init__(self, report: ErrorReport) -> None:
        super().__init__(report.as_text())
        self.report = report


def rejected(message: str, kind: str = "file", line: int | None = None) -> ExtractRejected:
    report = ErrorReport()
    report.add(Problem(line, None, None, message, kind))
    return ExtractRejected(report)


INTERNAL_ERROR = ("the registry hit an internal error while loading this extract, so it was "
                  "rejected and nothing from it was applied. The registry's operators have the "
                  "details; send the extract again, and tell them if this happens again")


def internal_error() -> ErrorReport:
    """What the bank is told when loading failed on our side: no stack trace, no internals."""
    report = ErrorReport()
    report.add(Problem(None, None, None, INTERNAL_ERROR, "internal"))
    return report
