"""Person, entity and account search through the API, against the real services: one human
across banks is one result, namesakes stay apart, identifiers decide, and every look is
audited with the ids of every record shown.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest
from sqlalchemy import text
from stdnum.iso7064 import mod_97_10

from registry.api.responses import AccountSearchAnswer, BatchSearchAnswer, PartySearchAnswer
from registry.config import Settings
from tests.integration.helpers import account, iban, person, role, write_extract
from tests.integration.institution_codes import new_bic
from tests.integration.test_access import bearer, last_event, open_case, user_with_token
from tests.integration.test_slice import run

SUBJECT = "Ottilie Brennecke"
COMPANY = "Quillfeather Logistik GmbH"


def lei(base: str) -> str:
    return base + mod_97_10.calc_check_digits(base)


def entity(ref: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"record": "entity", "id": ref, "name": name, **extra}


def bank_code(letter: str) -> str:
    return new_bic(f"S{letter}")


@pytest.fixture(scope="module")
def world(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    first, second = bank_code("A"), bank_code("B")
    n = random.randrange(10**8, 10**9)
    number = f"{n}-77 01"
    company_lei = lei("5299" + uuid.uuid4().hex[:14].upper())
    # A number (and a namesake's birth date) of this world's own: test_search_batch builds the
    # world again, and the same keys would rightly merge records across the two worlds' banks.
    nid = f"L{n % 100:02d}X{n // 100 % 100:02d}T{n // 10_000 % 100:02d}"
    national_id = {"scheme": "national_id", "country": "DE", "value": nid}
    a = [person("P1", SUBJECT, birth_date="1962-09-23", nationalities=["DE"], identifiers=[national_id]),
         person("P2", SUBJECT, birth_date=f"1971-01-{n % 28 + 1:02d}"),
         entity("E1", COMPANY, lei=company_lei, registration_number=f"HRB {n}", registration_country="DE"),
         account("A1", n), role("A1", "P1"), account("A2", n + 1), role("A2", "P2"),
         account("A3", n + 2), role("A3", "E1"),
         person("P3", "Pieter van der Quel", birth_date="1955-05-05"),
         person("P4", "Marieke Vanoosterwijck", birth_date="1966-06-06")]
    b = [person("Q7", "Otilie Brenecke", birth_date="1962-09-23",
                identifiers=[{**national_id, "country": "de", "value": f"{nid[:4]}-{nid[4:]}".lower()}]),
         person("Q8", "Hubert Brenecke", birth_date="1990-02-02"),
         entity("F1", "QUILLFEATHER LOGISTIK", lei=company_lei.lower()),
         account("B1", n + 3), role("B1", "Q7"),
         {"record": "account", "id": "B2", "number": number, "currency": "EUR", "type": "savings",
          "opened_on": "2019-01-01"},
         role("B2", "Q7", "co_holder"), role("B2", "Q8", "holder", **{"from": "2022-01-01"}),
         account("B3", n + 4, opened_on="2018-03-01", closed_on="2023-06-30"),
         role("B3", "Q8", "authorised_signatory", **{"from": "2019-02-01", "to": "2023-06-30"})]
    out = tmp_path_factory.mktemp("search")
    for code, records in ((first, a), (second, b)):
        run(settings, "institutions", "add", code, "--name", f"Search Bank {code}")
        run(settings, "load", str(write_extract(out / f"{code}.jsonl", code, records)))
    name, token = user_with_token(settings, "investigator")
    run(settings, "users", "limit", name, "200/minute")  # this module alone searches more than 30 a minute
    return {"banks": (first, second), "name": name, "token": token, "case_id": open_case(settings, name),
            "iban": iban(n), "number": number, "lei": company_lei, "registration": f"HRB {n}",
            "national_id": nid}


def post(client, world: dict[str, Any], path: str, **body: Any):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/search/{path}", headers=bearer(world["token"]),
                       json={"case_id": world["case_id"], **body})


def ours(world: dict[str, Any], results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Results of this module's banks only: other tests load people into the same index."""
    return [r for r in results if {rec["institution"] for rec in r["records"]} <= set(world["banks"])]


def test_one_human_across_banks_is_one_result_with_every_record_and_account(client, engine, world) -> None:  # type: ignore[no-untyped-def]
    response = post(client, world, "persons", name=SUBJECT, birth_date="1962-09-23")
    assert response.status_code == 200, response.json
    top, *rest = ours(world, response.json["results"])
    assert [(r["institution"], r["customer_id"]) for r in top["records"]] == [
        (world["banks"][0], "P1"), (world["banks"][1], "Q7")]
    assert top["likely"] is True and top["score"] == 1.0
    assert any(e.startswith("merged:") and "same national_id (DE)" in e for e in top["explanation"])
    assert {(a["institution"], a["account_id"], a["role"]) for a in top["accounts"]} == {
        (world["banks"][0], "A1", "holder"), (world["banks"][1], "B1", "holder"),
        (world["banks"][1], "B2", "co_holder")}
    assert top["records"][1]["party"]["full_name"] == "Otilie Brenecke"
    event = last_event(engine, actor=world["name"], tag="search:person:query")
    shown = [rec["id"] for r in response.json["results"] for rec in r["records"]]
    assert event["outcome"] == "ok" and event["result_ids"] == shown
    namesake = next(r for r in rest if r["records"][0]["customer_id"] == "P2")
    assert len(namesake["records"]) == 1 and namesake["likely"] is False
    assert "birth date conflicts" in namesake["explanation"]


def test_a_name_in_parts_finds_what_the_whole_name_finds(client, engine, world) -> None:  # type: ignore[no-untyped-def]
    whole = post(client, world, "persons", name=SUBJECT, birth_date="1962-09-23").json["results"]
    parts = post(client, world, "persons", given_names="Ottilie", family_name="Brennecke",
                 birth_date="1962-09-23")
    assert parts.status_code == 200, parts.json
    assert ours(world, parts.json["results"]) == ours(world, whole)
    event = last_event(engine, actor=world["name"], tag="search:person:query")
    assert event["parameters"]["name"] == SUBJECT
    only_family = ours(world, post(client, world, "persons", family_name="Brennecke").json["results"])
    assert {"P1", "P2"} <= {rec["customer_id"] for r in only_family for rec in r["records"]}


@pytest.mark.parametrize("years, first, other", [((1960, 1965), "P1", "P2"), ((1970, 1979), "P2", "P1")])
def test_a_range_of_birth_years_ranks_those_born_in_it_first(  # type: ignore[no-untyped-def]
        client, engine, world, years: tuple[int, int], first: str, other: str) -> None:
    response = post(client, world, "persons", name=SUBJECT, birth_year_from=years[0], birth_year_to=years[1])
    assert response.status_code == 200, response.json
    results = ours(world, response.json["results"])
    assert results[0]["records"][0]["customer_id"] == first
    assert f"birth year within {years[0]}-{years[1]}" in results[0]["explanation"]
    outside = next(r for r in results if r["records"][0]["customer_id"] == other)
    assert f"birth year outside {years[0]}-{years[1]}" in outside["explanation"]
    # A range of years says less than a birth date: with the name alone it is never "likely".
    assert results[0]["likely"] is False
    event = last_event(engine, actor=world["name"], tag="search:person:query")
    assert event["parameters"]["birth_years"] == list(years)


def test_a_result_lists_each_account_with_its_role_and_both_sets_of_dates(client, world) -> None:  # type: ignore[no-untyped-def]
    results = ours(world, post(client, world, "persons", name="Hubert Brenecke",
                               birth_date="1990-02-02").json["results"])
    accounts = {a["account_id"]: a for a in results[0]["accounts"]}
    assert {k: accounts["B3"][k] for k in ("role", "opened_on", "closed_on", "role_from", "role_to")} == {
        "role": "authorised_signatory", "opened_on": "2018-03-01", "closed_on": "2023-06-30",
        "role_from": "2019-02-01", "role_to": "2023-06-30"}
    assert (accounts["B2"]["role"], accounts["B2"]["role_from"], accounts["B2"]["role_to"],
            accounts["B2"]["closed_on"]) == ("holder", "2022-01-01", None, None)


def test_nationality_and_identifier_are_evidence_through_the_api(client, world) -> None:  # type: ignore[no-untyped-def]
    other_country = ours(world, post(client, world, "persons", name=SUBJECT, birth_date="1962-09-23",
                                     nationality="FR").json["results"])
    subject = {rec["customer_id"]: rec for rec in other_country[0]["records"]}
    assert "nationality differs" in subject["P1"]["explanation"]  # P1 says DE; Q7 says nothing
    nid = world["national_id"]
    # Another name entirely: the identity number alone finds her, decisively.
    by_number = ours(world, post(client, world, "persons", name="Totally Different",
                                 identifier=f"{nid[:3]}/{nid[3:]}".lower()).json["results"])
    assert by_number[0]["records"][0]["customer_id"] in {"P1", "Q7"} and by_number[0]["likely"] is True
    assert any("identifier matches (national_id)" in e for e in by_number[0]["explanation"])


@pytest.mark.parametrize("path, body, answer", [
    ("persons", {"name": SUBJECT, "birth_date": "1962-09-23"}, PartySearchAnswer),
    ("persons/batch", {"queries": [{"name": SUBJECT}, {"name": "Hubert Brenecke"}]}, BatchSearchAnswer),
    ("entities", {"name": COMPANY}, PartySearchAnswer),
    ("accounts", {"number": "{number}"}, AccountSearchAnswer),
])
def test_answers_are_what_the_openapi_document_says(  # type: ignore[no-untyped-def]
        client, world, path: str, body: dict[str, Any], answer: type) -> None:
    body = {k: (v.format(**world) if isinstance(v, str) else v) for k, v in body.items()}
    response = post(client, world, path, **body)
    assert response.status_code == 200, response.json
    assert answer().validate(response.json) == {}
    assert response.json.get("results") or response.json.get("answers")


def test_namesakes_are_never_merged_on_the_name_alone(client, world) -> None:  # type: ignore[no-untyped-def]
    results = ours(world, post(client, world, "persons", name=SUBJECT).json["results"])
    groups = [sorted(r["customer_id"] for r in result["records"]) for result in results]
    assert ["P1", "Q7"] in groups and ["P2"] in groups


@pytest.mark.parametrize("asked, found", [
    # Glued in the query, split in the record: character trigrams missed this one (half
    # of "vanderquel"'s trigrams span a word boundary), and no word route reaches it.
    ("Vanderquel", "P3"),
    # Split in the query, glued in the record, and in another order.
    ("Oosterwijck van, Marieke", "P4"),
])
def test_names_glued_or_split_differently_are_found(client, world, asked: str, found: str) -> None:  # type: ignore[no-untyped-def]
    results = ours(world, post(client, world, "persons", name=asked).json["results"])
    assert results and results[0]["records"][0]["customer_id"] == found
    assert results[0]["score"] >= 0.5


def test_a_typo_in_the_first_letter_is_found(client, world) -> None:  # type: ignore[no-untyped-def]
    # The fuzzy route keeps the first letter fixed; "Frennecke" meets "Brennecke" on the
    # word without its first letter.
    results = ours(world, post(client, world, "persons", name="Frennecke").json["results"])
    assert results and results[0]["records"][0]["customer_id"] in {"P1", "P2"}


def test_query_syntax_in_a_name_is_just_text(client, world) -> None:  # type: ignore[no-untyped-def]
    response = post(client, world, "persons", name='Ottilie "(*)~ Brennecke')
    assert response.status_code == 200, response.json
    assert ours(world, response.json["results"])
    only_syntax = post(client, world, "persons", name='"(*)~')
    assert only_syntax.status_code == 422 and "name" in only_syntax.json["errors"]
    assert post(client, world, "entities", name="company a/b").status_code == 200
    assert post(client, world, "persons", name="Anna", identifier='a/b "(*)~').status_code == 200


def test_entities_by_name_lei_or_registration_number(client, engine, world) -> None:  # type: ignore[no-untyped-def]
    by_name = ours(world, post(client, world, "entities", name="Quillfeather Logistik Ltd").json["results"])
    assert sorted(r["customer_id"] for r in by_name[0]["records"]) == ["E1", "F1"]
    assert by_name[0]["likely"] is True
    assert {a["account_id"] for a in by_name[0]["accounts"]} == {"A3"}
    by_lei = post(client, world, "entities", lei=world["lei"].lower()).json["results"]
    assert by_lei[0]["score"] == 1.0 and len(by_lei[0]["records"]) == 2
    assert "LEI matches" in by_lei[0]["explanation"]
    event = last_event(engine, actor=world["name"], tag="search:entity:query")
    assert event["parameters"]["lei"] == world["lei"]
    assert event["result_ids"] == [rec["id"] for r in by_lei for rec in r["records"]]
    by_number = post(client, world, "entities", registration_number=world["registration"].replace(" ", "-"))
    assert by_number.json["results"][0]["records"][0]["customer_id"] == "E1"


def test_an_account_by_iban_with_its_holders(client, engine, world) -> None:  # type: ignore[no-untyped-def]
    spaced = " ".join(world["iban"][i:i + 4] for i in range(0, len(world["iban"]), 4)).lower()
    response = post(client, world, "accounts", iban=spaced)
    assert response.status_code == 200, response.json
    (found,) = response.json["results"]
    assert (found["institution"], found["account_id"], found["iban"]) == (world["banks"][0], "A1", world["iban"])
    assert (found["type"], found["currency"], found["opened_on"], found["closed_on"]) == (
        "current", "EUR", "2020-05-01", None)
    (holder,) = found["holders"]
    assert (holder["customer_id"], holder["role"], holder["role_from"]) == ("P1", "holder", "2020-05-01")
    assert holder["party"]["full_name"] == SUBJECT and holder["party"]["birth_date"] == "1962-09-23"
    event = last_event(engine, actor=world["name"], tag="search:account:query")
    assert event["result_ids"] == [found["id"], holder["id"]] and found["id"].startswith("account:")


def test_an_account_by_number_and_its_roles_as_of_a_date(client, world) -> None:  # type: ignore[no-untyped-def]
    typed = world["number"].replace("-", "").replace(" ", ".")
    (found,) = post(client, world, "accounts", number=typed).json["results"]
    assert found["account_id"] == "B2" and found["iban"] is None
    assert {(h["customer_id"], h["role"]) for h in found["holders"]} == {("Q7", "co_holder"), ("Q8", "holder")}
    (earlier,) = post(client, world, "accounts", number=typed, as_of="2021-06-01").json["results"]
    assert [h["customer_id"] for h in earlier["holders"]] == ["Q7"]


@pytest.mark.parametrize("path, body, field", [
    ("entities", {"name": "A"}, "name"),
    ("entities", {"name": "x" * 10_000}, "name"),
    ("entities", {"name": "Acme\x00Ltd"}, "name"),
    ("entities", {"name": "Acme", "as_of": "2021-02-30"}, "as_of"),
    ("entities", {"name": "Acme", "country": "XX"}, "country"),
    ("entities", {"lei": "5299000J2N45DDNE4Y29"}, "lei"),
    ("entities", {"country": "DE"}, "name"),
    ("accounts", {"iban": "DE00 1234 5678"}, "iban"),
    ("accounts", {"number": "12\x1b34"}, "number"),
    ("accounts", {}, "iban"),
    ("accounts", {"iban": "DE89370400440532013000", "number": "1"}, "iban"),
    ("accounts", {"number": "1", "as_of": "2023-13-01"}, "as_of"),
    ("persons", {"name": " \t"}, "name"),
    ("persons", {"name": "Anna Schmidt", "as_of": "1999-02-29"}, "as_of"),
    # A JSON escape of half a surrogate pair: not text, and once a 500 or a false 503.
    ("persons", {"name": "Anna \ud83d"}, "name"),
    ("persons", {"name": "Anna Schmidt", "identifier": "\ud800x"}, "identifier"),
    # A direction override shows "Anna" as "annA" wherever the query is shown, the audit log too.
    ("persons", {"name": "Anna\u202eSchmidt"}, "name"),
    ("persons", {}, "name"),
    ("persons", {"given_names": "J."}, "family_name"),
    ("persons", {"name": "An\u200bna Schmidt"}, "name"),   # zero-width space
    ("persons", {"name": "An\u00adna Schmidt"}, "name"),   # soft hyphen
    ("persons", {"name": "An\u200dna Schmidt"}, "name"),   # a joiner inside a Latin word
    ("persons", {"name": "\u061cAnna Schmidt"}, "name"),   # Arabic letter mark
    ("persons", {"name": "Anna Schmidt\U0001fffe"}, "name"),
    ("persons", {"name": "Anna Schmidt", "family_name": "Schmidt"}, "name"),
    ("persons", {"name": "Anna Schmidt", "birth_date": "2999-01-01"}, "birth_date"),
    ("persons", {"name": "Anna Schmidt", "birth_date": "1980", "birth_year_to": 1990}, "birth_date"),
    ("persons", {"name": "Anna Schmidt", "birth_year_from": 1990, "birth_year_to": 1980}, "birth_year_from"),
    ("persons", {"name": "Anna Schmidt", "birth_year_from": 1700}, "birth_year_from"),
    ("persons", {"name": "Anna Schmidt", "birth_year_to": "the sixties"}, "birth_year_to"),
])
def test_bad_input_is_a_422_problem(client, world, path: str, body: dict[str, Any], field: str) -> None:  # type: ignore[no-untyped-def]
    response = post(client, world, path, **body)
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json" and field in response.json["errors"]


def test_an_account_search_under_a_foreign_case_is_refused_and_audited(client, engine, settings, world) -> None:  # type: ignore[no-untyped-def]
    colleague, _ = user_with_token(settings, "investigator")
    response = client.post("/api/v1/search/accounts", headers=bearer(world["token"]),
                           json={"case_id": open_case(settings, colleague), "iban": world["iban"]})
    assert response.status_code == 403
    assert last_event(engine, actor=world["name"], tag="search:account:query")["outcome"] == "refused"


def test_an_account_number_lookup_can_use_its_index(app) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from registry.account_search import NORMALISED_NUMBER
    from registry.models import Account

    query = select(Account.id).where(NORMALISED_NUMBER == "12345", Account.superseded_at.is_(None))
    with app.extensions["registry"].engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))  # a small test table would be scanned anyway
        compiled = query.compile(conn, compile_kwargs={"literal_binds": True})
        plan = "\n".join(r[0] for r in conn.execute(text(f"EXPLAIN {compiled}")))
    assert "accounts_normalised_number" in plan


def test_the_application_role_refreshes_statistics_through_the_owner_function(app) -> None:  # type: ignore[no-untyped-def]
    with app.extensions["registry"].engine.begin() as conn:
        owner = conn.execute(text("SELECT tableowner FROM pg_tables WHERE tablename = 'parties'")).scalar()
        assert conn.execute(text("SELECT current_user")).scalar() != owner
        conn.execute(text("SELECT analyze_reported_tables()"))
        # A small table is sampled whole: the planner's row count is then exact.
        estimate = conn.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'parties'")).scalar()
        assert estimate == conn.execute(text("SELECT count(*) FROM parties")).scalar()
