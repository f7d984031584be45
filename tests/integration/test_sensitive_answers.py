"""An answer that would show a name marked sensitive needs a supervisor's approval, whatever
was asked: a surname, an IBAN, an entity's owners or a batch reach a protected witness as
surely as their full name does. A search leaves such results out and says how many; a look
at one party by id is refused. The investigator is not told the name; the audit event names
it, and the case's supervisors see it waiting for their decision.
"""

from __future__ import annotations

import random
from datetime import date
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text

from registry.config import Settings
from registry.web.results import as_csv
from tests.integration.helpers import account, iban, person, role, write_extract
from tests.integration.institution_codes import new_bic
from tests.integration.test_access import bearer, last_event, marked_sensitive
from tests.integration.test_cases import Team, opened, team
from tests.integration.test_slice import run

# Invented, so that no other test's data resembles them.
PROTECTED = "Wilhelmina Quarzburg"
NEIGHBOUR = "Theodor Quarzburg"
# A protected witness whose bank has since changed her name: the old one is still shown.
FORMERLY, NOW = "Hieronyma Sternwaldinger", "Hieronyma Brandtmeyer"
COMPANY = "Zephyrantha Holding AG"


def owns(owner: str, owned: str, share: float) -> dict[str, Any]:
    return {"record": "ownership", "owner": owner, "owned": owned, "share": {"exact": share},
            "interests": ["shareholding"], "direct": True, "from": "2015-01-01"}


@pytest.fixture(scope="module")
def world(settings: Settings, engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with marked_sensitive(settings, engine, PROTECTED, FORMERLY):
        yield _world(settings, engine, tmp_path_factory)


def _world(settings: Settings, engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    code = new_bic("SA")
    n, m = random.sample(range(10**8, 10**9), 2)
    records = [person("P1", PROTECTED, birth_date="1969-03-14"),
               person("P2", NEIGHBOUR, birth_date="1971-08-02"),
               {"record": "entity", "id": "E1", "name": COMPANY},
               account("A1", n), role("A1", "P1"), account("A2", m), role("A2", "P2"),
               owns("P1", "E1", 80), person("P3", FORMERLY, birth_date="1975-05-05")]
    run(settings, "institutions", "add", code, "--name", "Sensitive Answers Bank")
    folder = tmp_path_factory.mktemp("sensitive")
    run(settings, "load", str(write_extract(folder / f"{code}.jsonl", code, records)))
    renamed = [person("P3", NOW, birth_date="1975-05-05")]
    run(settings, "load", str(write_extract(folder / f"{code}-2.jsonl", code, renamed, sequence=2,
                                            kind="delta", as_of=date(2026, 2, 1))))
    with engine.connect() as conn:
        ids = dict(conn.execute(text(
            "SELECT p.ref, p.id FROM parties p JOIN institutions i ON i.id = p.institution_id "
            "WHERE i.code = :c AND p.superseded_at IS NULL"), {"c": code}).all())
    return {"ids": ids, "iban": iban(n), "neighbour_iban": iban(m)}


@pytest.fixture(scope="module")
def fiu(settings: Settings, engine: Engine) -> Team:
    return team(settings, engine)


def surname_search(client, who: Team, case_id: int) -> Any:  # type: ignore[no-untyped-def]
    return client.post("/api/v1/search/persons", headers=bearer(who.investigator_token),
                       json={"case_id": case_id, "name": "Quarzburg", "limit": 50})


def assert_refused(response: Any, engine: Engine, case_id: int, tag: str, name: str = PROTECTED) -> None:
    """A look at one party (by id) that would show her: refused whole, without her name."""
    assert response.status_code == 403, response.json
    assert "marked sensitive" in response.json["detail"]
    assert name.split()[-1] not in response.json["detail"]  # the investigator did not ask for her
    refused = last_event(engine, tag=tag, case_id=case_id)
    assert refused["outcome"] == "refused" and refused["parameters"]["sensitive_names"] == [name]
    assert not refused["result_ids"]


def assert_withheld(response: Any, engine: Engine, case_id: int, tag: str, shown: set[str],
                    name: str = PROTECTED) -> None:
    """A search whose results would show her: those results left out, the rest answered."""
    assert response.status_code == 200, response.json
    assert response.json["withheld"] == 1 and "marked sensitive" in response.json["notice"]
    assert name not in str(response.json)  # the investigator is not told whom
    assert names_in(response.json["results"]) == shown
    event = last_event(engine, tag=tag, case_id=case_id)
    assert event["outcome"] == "ok" and event["parameters"]["sensitive_names"] == [name]
    assert "1 result(s) withheld" in event["detail"]


def names_in(results: list[dict[str, Any]]) -> set[str]:
    found = set()
    for result in results:
        for record in result.get("records") or []:
            found.add(record["party"]["full_name"])
        for holder in result.get("holders") or []:
            found.add(holder["party"]["full_name"])
    return found


def test_a_surname_search_withholds_a_protected_person(client, engine, fiu, world) -> None:  # type: ignore[no-untyped-def]
    case = opened(client, fiu)
    assert_withheld(surname_search(client, fiu, case["id"]), engine, case["id"], "search:person:query",
                    {NEIGHBOUR})
    # The investigator does not learn the name; the case's supervisor does.
    url = f"/api/v1/cases/{case['id']}/approvals"
    assert "requested_names" not in client.get(url, headers=bearer(fiu.investigator_token)).json
    assert client.get(url, headers=bearer(fiu.supervisor)).json["requested_names"] == [PROTECTED]
    approved = client.post(url, json={"name": PROTECTED, "reason": "the subject's sister"},
                           headers=bearer(fiu.supervisor))
    assert approved.status_code == 201, approved.json
    assert client.get(url, headers=bearer(fiu.supervisor)).json["requested_names"] == []

    shown = surname_search(client, fiu, case["id"])
    assert shown.status_code == 200 and shown.json["withheld"] == 0, shown.json
    assert names_in(shown.json["results"]) == {PROTECTED, NEIGHBOUR}
    assert "sensitive_names" not in last_event(engine, tag="search:person:query", case_id=case["id"])["parameters"]


def test_an_account_search_withholds_an_account_of_a_protected_holder(client, engine, fiu, world) -> None:  # type: ignore[no-untyped-def]
    case = opened(client, fiu)

    def by_iban(value: str) -> Any:
        return client.post("/api/v1/search/accounts", headers=bearer(fiu.investigator_token),
                           json={"case_id": case["id"], "iban": value})

    assert_withheld(by_iban(world["iban"]), engine, case["id"], "search:account:query", set())
    neighbour = by_iban(world["neighbour_iban"])
    assert neighbour.status_code == 200 and neighbour.json["withheld"] == 0
    assert names_in(neighbour.json["results"]) == {NEIGHBOUR}


def test_an_entitys_owners_are_refused_when_they_show_a_protected_owner(client, engine, fiu, world) -> None:  # type: ignore[no-untyped-def]
    case = opened(client, fiu)
    for path, tag in ((f"/api/v1/entities/{world['ids']['E1']}/owners", "ownership:entity:owners"),
                      (f"/api/v1/parties/{world['ids']['E1']}/bods", "ownership:party:export")):
        answer = client.get(path, headers=bearer(fiu.investigator_token), query_string={"case_id": case["id"]})
        assert_refused(answer, engine, case["id"], tag)


def test_a_batch_withholds_per_query(client, engine, fiu, world) -> None:  # type: ignore[no-untyped-def]
    case = opened(client, fiu)
    batch = client.post("/api/v1/search/persons/batch", headers=bearer(fiu.investigator_token),
                        json={"case_id": case["id"], "queries": [{"name": NEIGHBOUR}, {"name": "Quarzburg"}]})
    assert batch.status_code == 200, batch.json
    first, second = batch.json["answers"]
    assert PROTECTED not in str(batch.json)
    assert second["withheld"] == 1 and NEIGHBOUR in names_in(second["results"])
    with engine.connect() as conn:
        sensitive = conn.execute(text(
            "SELECT parameters->'sensitive_names' FROM audit_events WHERE case_id = :c AND outcome = 'ok' "
            "AND tag = 'search:person:query' ORDER BY id"), {"c": case["id"]}).scalars().all()
    assert sensitive[-1] == [PROTECTED]


def test_a_look_by_id_does_not_name_the_protected_person(client, engine, fiu, world) -> None:  # type: ignore[no-untyped-def]
    """Ids can be paged through: a refusal naming the person would list the protected ones."""
    case = opened(client, fiu)
    for path, tag in ((f"/api/v1/parties/{world['ids']['P1']}", "view:party:record"),
                      (f"/api/v1/persons/{world['ids']['P1']}/holdings", "ownership:person:holdings")):
        answer = client.get(path, headers=bearer(fiu.investigator_token), query_string={"case_id": case["id"]})
        assert_refused(answer, engine, case["id"], tag)


def test_a_former_name_shown_is_checked_too(client, engine, fiu, world) -> None:  # type: ignore[no-untyped-def]
    """Her bank renamed her; the answer would still show her old, protected name."""
    case = opened(client, fiu)
    answer = client.post("/api/v1/search/persons", headers=bearer(fiu.investigator_token),
                         json={"case_id": case["id"], "name": NOW})
    assert_withheld(answer, engine, case["id"], "search:person:query", set(), FORMERLY)
    url = f"/api/v1/cases/{case['id']}/approvals"
    assert client.get(url, headers=bearer(fiu.supervisor)).json["requested_names"] == [FORMERLY]


def test_a_csv_export_says_what_it_leaves_out() -> None:
    """Whoever reads the file later must not take it for complete."""
    text = as_csv([], withheld=2)
    assert text.rstrip().endswith("approve them") and "2 result(s) withheld" in text
