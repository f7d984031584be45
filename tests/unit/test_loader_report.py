"""Every problem of a record is reported at once: the checks across its fields run beside
the errors of single fields, and never invent a problem out of a field that failed."""

from __future__ import annotations

from pathlib import Path

from loaders.errors import ErrorReport
from tests.unit.test_loader_hostile import messages, stage

IBAN = "DE89370400440532013000"


def test_checks_across_fields_are_reported_beside_field_errors(tmp_path: Path) -> None:
    report, out = stage(tmp_path, [
        {"record": "account", "id": "A1", "iban": IBAN, "type": "current", "currency": "XXX1",
         "opened_on": "2020-05-01", "closed_on": "2019-01-01"},
        {"record": "role", "account": "A1", "party": "P1", "role": "boss",
         "from": "2020-05-01", "to": "2019-01-01"},
        {"record": "ownership", "owner": "E1", "owned": "E1", "direct": "yes",
         "from": "2020-05-01", "to": "2019-01-01"},
        {"record": "ownership", "owner": "P1", "owned": "E2",
         "share": {"min": 60, "max": 40, "min_exclusive": "no"}},
    ])
    said = messages(report)
    assert {"2 currency: 'XXX1' is not an ISO 4217 currency code",
            "2 closed_on: closed before it was opened"} <= set(said)
    assert {"3 role: Must be one of: holder, co_holder, authorised_signatory, legal_representative, "
            "beneficial_owner, box_lessee.", "3 to: 'to' is before 'from'"} <= set(said)
    assert {"4 direct: Not a valid boolean.", "4 owned: a party cannot own itself",
            "4 to: 'to' is before 'from'"} <= set(said)
    assert {"5 share.min_exclusive: Not a valid boolean.", "5 share: min is above max"} <= set(said)
    assert out.rows == []
    assert out.failures == [(2, "account", "A1")]


def test_a_field_that_failed_is_not_also_reported_as_missing(tmp_path: Path) -> None:
    report, _ = stage(tmp_path, [
        {"record": "account", "id": "A1", "iban": "DE00 BAD", "type": "current"},
        {"record": "ownership"},
        {"record": "ownership", "owner": "P1", "owned": "E1", "share": {"min": 150}},
        {"record": "ownership", "owner": "P1", "owned": "E1", "share": {"exact": 30, "min": 20}},
    ])
    said = messages(report)
    assert [m.split(":")[0] for m in said if m.startswith("2 ")] == ["2 iban"]
    assert sorted(m for m in said if m.startswith("3 ")) == [
        "3 owned: Missing data for required field.", "3 owner: Missing data for required field."]
    assert [m for m in said if m.startswith("4 ")] == [
        "4 share.min: Must be greater than or equal to 0 and less than or equal to 100."]
    assert [m for m in said if m.startswith("5 ")] == ["5 share: give either exact or min/max, not both"]


def test_a_date_after_as_of_is_reported_beside_other_errors(tmp_path: Path) -> None:
    report, _ = stage(tmp_path, [{"record": "person", "id": "P1", "full_name": "A B",
                                  "pep": "yes", "birth_date": "1799"}])
    assert set(messages(report)) == {"2 pep: Not a valid boolean.",
                                     "2 birth_date: implausible birth year 1799"}


def test_counts_allow_for_the_lines_that_could_not_be_read() -> None:
    from loaders.checks import check_counts

    read = {"person": 1, "entity": 0, "account": 2, "role": 0, "ownership": 0}
    report = ErrorReport()
    check_counts({"person": 2, "account": 2}, read, 1, report)
    assert not report
    check_counts({"person": 2, "account": 2}, read, 0, report)
    assert [p.message for p in report.problems] == [
        "header declares 2 person records but 1 were read (truncated file?)"]
    # More read than declared is wrong whatever could not be read.
    report = ErrorReport()
    check_counts({"person": 2, "account": 1}, read, 1, report)
    assert {p.field for p in report.problems} == {"counts.person", "counts.account"}
