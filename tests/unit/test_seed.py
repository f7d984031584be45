"""The synthetic bank extracts: format, integrity, validity, realism, determinism."""

from __future__ import annotations

import gzip
import hashlib
import importlib
import os
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from schwifty import BIC, IBAN
from stdnum import lei

from seed.banks import national_banks
from seed.companies import VALIDATED_REGISTRATION
from seed.extract import RECORD_TYPES, read_extract
from seed.generate import SeedPlan, write_delta, write_extracts
from seed.identifiers import VALIDATED

Record = dict[str, Any]
AS_OF = date(2026, 1, 1)
PLAN = SeedPlan(parties=3000, banks=3, seed=42, as_of=AS_OF)
ROLES = {"holder", "co_holder", "authorised_signatory", "legal_representative",
         "beneficial_owner", "box_lessee"}
ACCOUNT_TYPES = {"current", "savings", "deposit", "securities", "loan", "payment", "e_money",
                 "crypto", "safe_deposit_box"}
BODS_INTERESTS = {"shareholding", "votingRights", "appointmentOfBoard", "otherInfluenceOrControl"}


@pytest.fixture(scope="module")
def extracts(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, list[Record]]:
    out = tmp_path_factory.mktemp("extracts")
    return {path: read_extract(path) for path in write_extracts(PLAN, out)}


def by_type(lines: list[Record]) -> dict[str, list[Record]]:
    grouped: dict[str, list[Record]] = defaultdict(list)
    for line in lines[1:]:
        grouped[line["record"]].append(line)
    return grouped


def all_records(extracts: dict[Path, list[Record]], kind: str) -> list[Record]:
    return [r for lines in extracts.values() for r in lines[1:] if r["record"] == kind]


def test_one_file_per_bank_named_after_bic_and_sequence(
    extracts: dict[Path, list[Record]],
) -> None:
    assert len(extracts) == PLAN.banks
    for path, lines in extracts.items():
        assert path.name == f"{lines[0]['institution']}-000001.jsonl"


def test_header_comes_first_and_counts_its_records(extracts: dict[Path, list[Record]]) -> None:
    for lines in extracts.values():
        header = lines[0]
        assert header["record"] == "header"
        assert (header["format"], header["version"]) == ("registry-extract", 1)
        assert (header["kind"], header["as_of"], header["sequence"]) == ("full", "2026-01-01", 1)
        counted = Counter(line["record"] for line in lines[1:])
        assert header["counts"] == {kind: counted[kind] for kind in RECORD_TYPES}


def test_records_are_grouped_parties_before_accounts_before_roles(
    extracts: dict[Path, list[Record]],
) -> None:
    for lines in extracts.values():
        order = [line["record"] for line in lines[1:]]
        assert order == sorted(order, key=RECORD_TYPES.index)


def test_ids_are_unique_per_record_type(extracts: dict[Path, list[Record]]) -> None:
    for lines in extracts.values():
        records = by_type(lines)
        parties = [r["id"] for r in records["person"] + records["entity"]]
        assert len(parties) == len(set(parties))
        accounts = [r["id"] for r in records["account"]]
        assert len(accounts) == len(set(accounts))


def test_every_reference_resolves_within_its_extract(extracts: dict[Path, list[Record]]) -> None:
    for lines in extracts.values():
        records = by_type(lines)
        persons = {r["id"] for r in records["person"]}
        entities = {r["id"] for r in records["entity"]}
        accounts = {r["id"] for r in records["account"]}
        for role in records["role"]:
            assert role["account"] in accounts
            assert role["party"] in persons | entities
        for link in records["ownership"]:
            assert link["owner"] in persons | entities
            assert link["owned"] in entities
            assert link["owner"] != link["owned"]


def test_ibans_are_valid_and_belong_to_the_bank(extracts: dict[Path, list[Record]]) -> None:
    for lines in extracts.values():
        institution = lines[0]["institution"]
        for account in by_type(lines)["account"]:
            assert account["bic"] == institution
            assert account["type"] in ACCOUNT_TYPES
            if account["type"] == "safe_deposit_box":
                assert "iban" not in account and account["number"]
                continue
            iban = IBAN(account["iban"], validate_bban=True)
            assert iban.country_code == institution[4:6]


def test_about_three_percent_of_accounts_carry_a_number_instead_of_an_iban(
    extracts: dict[Path, list[Record]],
) -> None:
    accounts = all_records(extracts, "account")
    numbered = sum("number" in a for a in accounts)
    assert 0.015 < numbered / len(accounts) < 0.05


def test_bics_are_valid_unique_and_invented() -> None:
    banks = national_banks(40, seed=7)
    assert len({b.bic[:8] for b in banks}) == 40
    for bank in banks:
        bic = BIC(bank.bic)
        assert len(bank.bic) in (8, 11)
        assert bic.country_code == bank.country
        assert not bic.exists
    assert national_banks(40, seed=7) == banks


def test_leis_and_register_numbers_are_valid(extracts: dict[Path, list[Record]]) -> None:
    entities = all_records(extracts, "entity")
    leis = [e["lei"] for e in entities if e["lei"]]
    assert leis and all(len(code) == 20 and lei.is_valid(code) for code in leis)
    checked = 0
    for entity in entities:
        module = VALIDATED_REGISTRATION.get(entity["registration_country"])
        if module:
            validator = importlib.import_module(f"stdnum.{module}")
            assert validator.is_valid(entity["registration_number"]), entity
            checked += 1
    assert checked > 100


def test_personal_identifiers_validate_where_stdnum_can_check_them(
    extracts: dict[Path, list[Record]],
) -> None:
    checked = 0
    for person in all_records(extracts, "person"):
        for document in person["identifiers"]:
            assert document["scheme"] in ("passport", "national_id", "tax_id")
            modules = VALIDATED.get((document["country"], document["scheme"]), ())
            if modules:
                validators = [importlib.import_module(f"stdnum.{m}") for m in modules]
                assert any(v.is_valid(document["value"]) for v in validators), document
                checked += 1
    assert checked > 1000


def test_dates_are_plausible_and_never_after_as_of(extracts: dict[Path, list[Record]]) -> None:
    for person in all_records(extracts, "person"):
        birth = person["birth_date"]
        assert len(birth) in (4, 7, 10)
        assert 1920 <= int(birth[:4]) <= 2008
    for entity in all_records(extracts, "entity"):
        assert date.fromisoformat(entity["incorporated_on"]) < AS_OF
    opened: dict[str, date] = {}
    for account in all_records(extracts, "account"):
        start = opened[account["id"]] = date.fromisoformat(account["opened_on"])
        assert date(1985, 1, 1) <= start <= AS_OF
        if account["closed_on"]:
            assert start < date.fromisoformat(account["closed_on"]) <= AS_OF
    for role in all_records(extracts, "role"):
        start = date.fromisoformat(role["from"])
        assert opened[role["account"]] <= start <= AS_OF
        if role["to"]:
            assert start <= date.fromisoformat(role["to"]) <= AS_OF
    for link in all_records(extracts, "ownership"):
        assert date.fromisoformat(link["from"]) <= AS_OF and link["to"] is None


def test_roles_match_their_accounts(extracts: dict[Path, list[Record]]) -> None:
    types = {a["id"]: a["type"] for a in all_records(extracts, "account")}
    for role in all_records(extracts, "role"):
        assert role["role"] in ROLES
        if role["role"] == "box_lessee":
            assert types[role["account"]] == "safe_deposit_box"


def test_ownership_shares_are_well_formed_and_never_exceed_the_whole(
    extracts: dict[Path, list[Record]],
) -> None:
    held: Counter[str] = Counter()
    for link in all_records(extracts, "ownership"):
        for shape in (link["share"], link["voting"]):
            if shape is None:
                continue
            if "exact" in shape:
                assert 0 <= shape["exact"] <= 100
            else:
                assert 0 <= shape["min"] <= shape["max"] <= 100
        assert link["interests"] and set(link["interests"]) <= BODS_INTERESTS
        assert isinstance(link["direct"], bool)
        held[link["owned"]] += link["share"].get("exact", link["share"].get("min", 0))
    assert max(held.values()) <= 100


def test_book_has_the_ratios_of_a_national_book(extracts: dict[Path, list[Record]]) -> None:
    counts: Counter[str] = Counter()
    for lines in extracts.values():
        counts.update(lines[0]["counts"])
    parties = counts["person"] + counts["entity"]
    assert parties == PLAN.parties
    assert counts["person"] / parties == pytest.approx(0.85, abs=0.01)
    assert counts["account"] / parties == pytest.approx(1.2, abs=0.1)
    assert counts["role"] / parties == pytest.approx(1.8, abs=0.15)
    assert counts["ownership"] / parties == pytest.approx(0.2, abs=0.05)
    peps = sum(p["pep"] for p in all_records(extracts, "person"))
    assert 0 < peps < 0.03 * counts["person"]


def test_shared_humans_appear_at_several_banks_with_the_same_national_id(
    extracts: dict[Path, list[Record]],
) -> None:
    seen: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for path, lines in extracts.items():
        for person in by_type(lines)["person"]:
            for document in person["identifiers"]:
                if document["scheme"] == "national_id":
                    key = (document["country"], document["value"])
                    seen[key].add((path.name, person["birth_date"]))
    multi_bank = [places for places in seen.values() if len({bank for bank, _ in places}) > 1]
    assert len(multi_bank) > 30
    assert all(len({birth for _, birth in places}) == 1 for places in multi_bank)


def test_names_come_from_many_cultures_and_scripts(extracts: dict[Path, list[Record]]) -> None:
    persons = all_records(extracts, "person")
    assert len({p["nationalities"][0] for p in persons}) > 15
    cyrillic = [p for p in persons if any("\u0400" <= c <= "\u04ff" for c in p["full_name"])]
    assert cyrillic
    assert any(o.isascii() for p in cyrillic for o in p["other_names"])
    assert any(not p["full_name"].isascii() for p in persons if p["nationalities"] == ["DE"])


def test_same_plan_writes_identical_bytes(tmp_path: Path) -> None:
    plan = SeedPlan(parties=400, banks=2, seed=5)
    first = write_extracts(plan, tmp_path / "a")
    second = write_extracts(plan, tmp_path / "b")
    assert [p.name for p in first] == [p.name for p in second]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, second, strict=True))
    other = write_extracts(SeedPlan(parties=400, banks=2, seed=6), tmp_path / "c")
    assert first[0].read_bytes() != other[0].read_bytes()


def test_output_does_not_depend_on_string_hashing(tmp_path: Path) -> None:
    script = ("import sys; from pathlib import Path;"
              "from seed.generate import SeedPlan, write_extracts;"
              "write_extracts(SeedPlan(parties=150, banks=2, seed=3), Path(sys.argv[1]))")
    digests = []
    for hash_seed in ("1", "2"):
        out = tmp_path / hash_seed
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", script, str(out)], check=True, env=env,
                       cwd=Path(__file__).resolve().parents[2])
        digests.append([hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())])
    assert digests[0] == digests[1]


def test_gzip_extracts_hold_the_same_lines(tmp_path: Path) -> None:
    plain = write_extracts(SeedPlan(parties=300, banks=1), tmp_path / "plain")
    packed = write_extracts(SeedPlan(parties=300, banks=1, gzip=True), tmp_path / "packed")
    assert packed[0].name.endswith(".jsonl.gz")
    assert gzip.decompress(packed[0].read_bytes()) == plain[0].read_bytes()
    assert read_extract(packed[0]) == read_extract(plain[0])


def test_delta_amends_the_full_extract_it_follows(tmp_path: Path) -> None:
    plan = SeedPlan(parties=1000, banks=2, seed=9)
    full = read_extract(write_extracts(plan, tmp_path)[1])
    path = write_delta(plan, tmp_path, bank_index=1, fraction=0.1, sequence=2,
                       as_of=date(2026, 2, 1))
    delta = read_extract(path)
    header = delta[0]
    assert path.name == f"{header['institution']}-000002.jsonl"
    assert (header["kind"], header["sequence"], header["as_of"]) == ("delta", 2, "2026-02-01")
    assert header["institution"] == full[0]["institution"]
    assert header["counts"] == {k: sum(r["record"] == k for r in delta[1:]) for k in RECORD_TYPES}

    before, after = by_type(full), by_type(delta)
    persons = {p["id"]: p for p in before["person"]}
    open_accounts = {a["id"] for a in before["account"] if a["closed_on"] is None}
    closes = [a for a in after["account"] if a.get("op") == "close"]
    new_accounts = [a for a in after["account"] if "op" not in a]
    amended = [p for p in after["person"] if p["id"] in persons]
    added = [p for p in after["person"] if p["id"] not in persons]
    assert closes and new_accounts and amended and added
    assert all(set(a) == {"record", "id", "op"} and a["id"] in open_accounts for a in closes)
    for person in amended:
        changed = {field for field in person if person[field] != persons[person["id"]][field]}
        assert changed and changed <= {"address", "family_name", "full_name", "other_names"}
    assert all(a["id"] not in open_accounts and a["opened_on"] > "2026-01-01" for a in new_accounts)
    known_parties = set(persons) | {p["id"] for p in added}
    known_accounts = {a["id"] for a in new_accounts}
    for role in after["role"]:
        assert role["party"] in known_parties and role["account"] in known_accounts
        assert role["role"] in ("holder", "box_lessee")


def test_successive_deltas_never_reuse_a_new_customer_number(tmp_path: Path) -> None:
    plan = SeedPlan(parties=400, banks=1)
    added = []
    for sequence in (2, 3):
        path = write_delta(plan, tmp_path, 0, 0.1, sequence, date(2026, 1, sequence))
        added.append({r["id"] for r in read_extract(path)[1:] if r["record"] == "account"
                      and "op" not in r})
    assert added[0] and added[1] and not added[0] & added[1]


def test_successive_deltas_never_close_an_account_twice(tmp_path: Path) -> None:
    plan = SeedPlan(parties=200, banks=1)
    closed = []
    for sequence in (2, 3, 4):
        path = write_delta(plan, tmp_path, 0, 0.2, sequence, date(2026, 1, sequence))
        closed.append({r["id"] for r in read_extract(path)[1:] if r.get("op") == "close"})
    assert all(closed) and not (closed[0] & closed[1] or closed[0] & closed[2] or closed[1] & closed[2])


def test_delta_is_deterministic_and_refuses_to_go_backwards(tmp_path: Path) -> None:
    plan = SeedPlan(parties=500, banks=1)
    first = write_delta(plan, tmp_path / "a", 0, 0.05, 2, date(2026, 1, 15)).read_bytes()
    second = write_delta(plan, tmp_path / "b", 0, 0.05, 2, date(2026, 1, 15)).read_bytes()
    assert first == second
    with pytest.raises(ValueError):
        write_delta(plan, tmp_path, 0, 0.05, 1, date(2026, 1, 15))
    with pytest.raises(ValueError):
        write_delta(plan, tmp_path, 0, 0.05, 2, date(2025, 12, 1))
    with pytest.raises(ValueError):
        write_delta(plan, tmp_path, 1, 0.05, 2, date(2026, 1, 15))


def test_seed_never_imports_the_registry_search_or_loaders() -> None:
    script = ("import sys, seed.generate;"
              "bad = {m for m in sys.modules if m.split('.')[0] in"
              " ('registry', 'search', 'loaders', 'sqlalchemy')}; print(sorted(bad))")
    result = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                            text=True, cwd=Path(__file__).resolve().parents[2])
    assert result.stdout.strip() == "[]"
