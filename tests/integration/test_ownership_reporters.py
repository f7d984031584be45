"""One party across reporters: a company register's BODS file and two banks' JSON Lines
extracts describe the same companies and the same person under their own references. The
owners of a bank's record of a company are the ones the register declares, and a person's
holdings reach every account behind them at every bank, each with its institution.

The BODS statements are written in the shape of Open Ownership's examples (data-standard
repository, BODS 0.4, Apache 2.0; shared/data/bods).
"""

from __future__ import annotations

import json
import random
import string
import uuid
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine
from stdnum.iso7064 import mod_97_10

from loaders.pipeline import ExtractLoader
from tests.integration.helpers import account, person, role, write_extract
from tests.integration.test_access import last_event
from tests.integration.test_ownership import (  # noqa: F401  (fixtures)
    Investigator,
    api,
    ask,
    client,
    entity,
    institution,
    investigator,
    owns,
    party_ids,
)


def new_lei() -> str:
    """A valid LEI of this test run's own: other tests' companies must not share it."""
    body = "".join(random.choices(string.ascii_uppercase + string.digits, k=18))
    return body + mod_97_10.calc_check_digits(body)


class Book(NamedTuple):
    register: str
    bank_a: str
    bank_b: str
    ids: dict[str, int]  # "<register|a|b>:<ref>" -> party id


def statement(record_id: str, kind: str, details: dict[str, Any], day: str = "2024-03-01") -> dict[str, Any]:
    return {"statementId": uuid.uuid4().hex, "declarationSubject": "ship", "statementDate": day,
            "publicationDetails": {"publicationDate": day, "bodsVersion": "0.4",
                                   "publisher": {"name": "Test register"}},
            "recordId": record_id, "recordStatus": "new", "recordType": kind,
            "recordDetails": {"isComponent": False, **details}}


def bods_person(record_id: str, name: str, national_id: str, birth: str) -> dict[str, Any]:
    given, _, family = name.partition(" ")
    return statement(record_id, "person", {
        "personType": "knownPerson", "birthDate": birth,
        "names": [{"type": "legal", "fullName": name, "givenName": given, "familyName": family}],
        "identifiers": [{"scheme": "NO-IDCARD", "id": national_id}]})


def bods_interest(record_id: str, owner: str, owned: str, share: dict[str, Any]) -> dict[str, Any]:
    return statement(record_id, "relationship", {"subject": owned, "interestedParty": owner,
                     "interests": [{"type": "shareholding", "directOrIndirect": "direct",
                                    "startDate": "2020-01-01", "share": share}]})


@pytest.fixture(scope="module")
def book(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Book:
    """The register: Ingrid Dahl holds 80 % of Holdco, which holds 60 % of Nordic Shipping;
    Ola Nilsen holds more than 25 % and less than 50 % of it. Bank A banks Nordic Shipping
    (by its LEI) and Ingrid (by her national identifier, written with a space), and says, from
    an old KYC file, that she holds all of Nordic Shipping. Bank B banks Holdco (by its
    registration number, spelt otherwise), Ingrid, a namesake with no identifier and someone
    with her identifier but another birth date."""
    tmp = tmp_path_factory.mktemp("reporters")
    lei, reg, nid = new_lei(), f"{random.randrange(10**7, 10**8)}", f"{random.randrange(10**10, 10**11)}"
    ola = f"{random.randrange(10**10, 10**11)}"
    statements = [
        statement("ship", "entity", {"entityType": {"type": "registeredEntity"}, "name": "Nordic Shipping AS",
                                     "identifiers": [{"scheme": "XI-LEI", "id": lei}]}),
        statement("hold", "entity", {"entityType": {"type": "registeredEntity"}, "name": "Holdco Ltd",
                                     "identifiers": [{"scheme": "GB-COH", "id": reg}]}),
        bods_person("ingrid", "Ingrid Dahl", nid, "1975-04-12"),
        bods_person("ola", "Ola Nilsen", ola, "1969-11-30"),
        bods_interest("r1", "ingrid", "hold", {"exact": 80}),
        bods_interest("r2", "hold", "ship", {"exact": 60}),
        bods_interest("r3", "ola", "ship", {"exclusiveMinimum": 25, "exclusiveMaximum": 50}),
    ]
    register = institution(engine)
    path = tmp / "register.json"
    path.write_text(json.dumps(statements))
    loader = ExtractLoader(engine)
    assert loader.load(path, institution_code=register).status == "applied"

    bank_a, bank_b = institution(engine, "bank"), institution(engine, "bank")
    ingrid = {"birth_date": "1975-04-12",
              "identifiers": [{"scheme": "national_id", "country": "NO", "value": f"{nid[:6]} {nid[6:]}"}]}
    a_records = [entity("C", "NORDIC SHIPPING AS") | {"lei": lei}, person("P", "Ingrid Dahl", **ingrid),
                 owns("P", "C", 100), account("ACC-C", 701), role("ACC-C", "C"),
                 account("ACC-P", 702), role("ACC-P", "P")]
    b_records = [entity("H", "Holdco Limited") | {"registration_number": f"{reg[:4]}-{reg[4:]}",
                                                 "registration_country": "GB"},
                 person("P", "Ingrid Dahl", **ingrid), person("X", "Ingrid Dahl", birth_date="1975-04-12"),
                 person("Y", "Inga Dahl", birth_date="1980-01-01", identifiers=ingrid["identifiers"]),
                 account("ACC-H", 703), role("ACC-H", "H"), account("ACC-P", 704), role("ACC-P", "P"),
                 account("ACC-X", 705), role("ACC-X", "X")]
    for code, records in ((bank_a, a_records), (bank_b, b_records)):
        result = loader.load(write_extract(tmp / f"{code}.jsonl", code, records))
        assert result.status == "applied", result.report and result.report.as_text()
    ids = {f"register:{k}": v for k, v in party_ids(engine, register).items()}
    ids |= {f"a:{k}": v for k, v in party_ids(engine, bank_a).items()}
    ids |= {f"b:{k}": v for k, v in party_ids(engine, bank_b).items()}
    return Book(register, bank_a, bank_b, ids)


def by_name(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["party"]["name"]: item for item in items}


def test_a_banks_record_of_a_company_has_the_owners_the_register_declares(
        client: FlaskClient, investigator: Investigator, book: Book) -> None:
    answer = ask(client, investigator, f"/api/v1/entities/{book.ids['a:C']}/owners")
    assert answer["subject"]["id"] == book.ids["a:C"]
    assert {(r["institution"], r["linked_on"][0]) for r in answer["subject"]["records"]} == {
        (book.register, "lei"), (book.bank_a, "lei")}
    owners = by_name(answer["owners"])
    assert {name: o["effective_share"]["text"] for name, o in owners.items()} == {
        "Holdco Ltd": "60 %", "Ingrid Dahl": "48 %",
        "Ola Nilsen": "more than 25 % and less than 50 %"}
    # Ingrid is shown as the register's record, with her records at both banks beside it.
    ingrid = owners["Ingrid Dahl"]["party"]
    assert ingrid["institution"] == book.register
    assert {r["id"] for r in ingrid["records"]} == {book.ids["register:ingrid"], book.ids["a:P"],
                                                   book.ids["b:P"]}
    assert all(r["linked_on"] == ["national_identifier+birth_date"] for r in ingrid["records"])
    assert owners["Ingrid Dahl"]["grounds"] == ["share", "control"] and owners["Ingrid Dahl"]["ultimate"]
    assert owners["Ola Nilsen"]["grounds"] == ["share"]
    # Each declaration says who made it; bank A's old "100 %" is listed, not used.
    made = {(i["reporter"], i["share"]["text"], i["used"]) for i in answer["interests"]}
    assert made == {(book.register, "80 %", True), (book.register, "60 %", True),
                    (book.register, "more than 25 % and less than 50 %", True),
                    (book.bank_a, "100 %", False)}
    unused = next(i for i in answer["interests"] if not i["used"])
    assert book.register in unused["not_used_because"]
    assert unused["owner_record"] == book.ids["a:P"] and unused["owner"] == ingrid["id"]


def test_a_persons_holdings_reach_every_account_at_every_bank(
        engine: Engine, client: FlaskClient, investigator: Investigator, book: Book) -> None:
    # Asked through bank B's record of Ingrid, who banks with both.
    answer = ask(client, investigator, f"/api/v1/persons/{book.ids['b:P']}/holdings")
    entities = by_name(answer["entities"])
    # Holdco is shown as the register's record ("Holdco Ltd"), whose declarations count.
    assert {name: e["effective_share"]["text"] for name, e in entities.items()} == {
        "Holdco Ltd": "80 %", "Nordic Shipping AS": "48 %"}
    accounts = {(a["institution"], a["account_id"]) for e in answer["entities"] for a in e["accounts"]}
    assert accounts == {(book.bank_b, "ACC-H"), (book.bank_a, "ACC-C")}
    assert {(a["institution"], a["account_id"]) for a in answer["holder"]["accounts"]} == {
        (book.bank_a, "ACC-P"), (book.bank_b, "ACC-P")}
    assert answer["account_count"] == 4
    assert answer["institutions"] == sorted([book.bank_a, book.bank_b])
    assert all(e["beneficial_owner"] for e in answer["entities"])
    event = last_event(engine, tag="ownership:person:holdings", actor=investigator.name)
    assert event["result_count"] == len(event["result_ids"]) and \
        sum(i.startswith("account:") for i in event["result_ids"]) == 4


def test_a_name_alone_links_nobody(client: FlaskClient, investigator: Investigator, book: Book) -> None:
    for ref in ("b:X", "b:Y"):
        answer = ask(client, investigator, f"/api/v1/persons/{book.ids[ref]}/holdings")
        assert answer["entities"] == [] and len(answer["holder"]["records"]) == 1
    assert {a["account_id"] for a in ask(client, investigator, f"/api/v1/persons/{book.ids['b:X']}"
                                         "/holdings")["holder"]["accounts"]} == {"ACC-X"}


def test_the_registers_record_of_the_company_has_the_same_owners(
        client: FlaskClient, investigator: Investigator, book: Book) -> None:
    via_bank = ask(client, investigator, f"/api/v1/entities/{book.ids['a:C']}/owners")
    via_register = ask(client, investigator, f"/api/v1/entities/{book.ids['register:ship']}/owners")
    # The same owners, figures and chains; only the subject is shown as the record asked about.
    def summary(answer: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [(o["party"]["id"], o["effective_share"], o["grounds"], len(o["paths"]))
                for o in answer["owners"]]
    assert summary(via_register) == summary(via_bank)


def test_the_export_of_a_linked_network_validates(client: FlaskClient, investigator: Investigator,
                                                 book: Book) -> None:
    from tests.integration.test_ownership import shared_schema_validator

    statements = ask(client, investigator, f"/api/v1/parties/{book.ids['a:C']}/bods")
    assert list(shared_schema_validator().iter_errors(statements)) == []
    kinds = [s["recordType"] for s in statements]
    assert (kinds.count("entity"), kinds.count("person"), kinds.count("relationship")) == (2, 2, 3)
    shares = [i["share"] for s in statements if s["recordType"] == "relationship"
              for i in s["recordDetails"]["interests"]]
    assert {"exclusiveMinimum": 25.0, "exclusiveMaximum": 50.0} in shares


def test_owners_on_a_day_before_an_interest_ended(engine: Engine, client: FlaskClient,
                                                  investigator: Investigator) -> None:
    # fermcat: Riyadh's 50 % ended on 2021-04-03 (a closed relationship), Declan held 50 %
    # from then until 2022-01-21. Patrick's interest is held as the file ends it (100 % since
    # 2019: a file's history is not replayed), but the ended interests keep their periods.
    code = institution(engine)
    assert ExtractLoader(engine).load(Path(__file__).resolve().parents[2].parent / "shared" / "data"
                                      / "bods" / "examples" / "fermcat.json",
                                      institution_code=code).status == "applied"
    ids = party_ids(engine, code)

    def owners_on(day: str) -> dict[str, str]:
        answer = ask(client, investigator, f"/api/v1/entities/{ids['ent-93c75c87ab28f889']}/owners",
                     as_of=day)
        return {o["party"]["ref"]: o["effective_share"]["text"] for o in answer["owners"]}

    assert owners_on("2020-06-01") == {"per-41c0bb0cef246f7c": "100 %", "per-5faa4103dee78621": "50 %"}
    assert owners_on("2021-06-01") == {"per-41c0bb0cef246f7c": "100 %", "per-e334cc6258e56467": "50 %"}
    assert owners_on("2022-06-01") == {"per-41c0bb0cef246f7c": "100 %"}
