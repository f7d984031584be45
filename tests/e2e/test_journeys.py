"""What the people who use the registry do, in Chromium against a running server: an
investigator signs in with TOTP, searches, opens a person and the ownership picture; a bank
uploads a file with an error and reads the report; an auditor finds the search just made; a
supervisor opens a case and assigns an investigator to it.

The steps run in order and share the world; screenshots of each page go to var/screenshots.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.world import PASSWORD, SUBJECT, World, bad_extract, totp

SEARCHED = "Katarina Horvatova"


def _context(browser, server: str) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def investigator(browser, server: str) -> Iterator[object]:  # type: ignore[no-untyped-def]
    yield from _context(browser, server)


@pytest.fixture(scope="module")
def bank(browser, server: str) -> Iterator[object]:  # type: ignore[no-untyped-def]
    yield from _context(browser, server)


@pytest.fixture(scope="module")
def auditor(browser, server: str) -> Iterator[object]:  # type: ignore[no-untyped-def]
    yield from _context(browser, server)


def sign_in(page, world: World, role: str) -> None:  # type: ignore[no-untyped-def]
    name, secret = world.users[role]
    page.goto("/")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(totp(secret))
    page.get_by_role("button", name="Sign in").click()


def test_investigator_signs_in_with_totp(investigator, world: World, shoot) -> None:  # type: ignore[no-untyped-def]
    sign_in(investigator, world, "investigator")
    investigator.get_by_role("heading", name="Your cases").wait_for()
    shoot(investigator, "01-cases")
    assert investigator.url.endswith("/cases")


def test_investigator_searches_under_the_case(investigator, world: World, shoot) -> None:  # type: ignore[no-untyped-def]
    investigator.get_by_role("link", name="Search under").first.click()
    investigator.get_by_label("Name", exact=True).fill(SEARCHED)
    investigator.get_by_label("Birth date").fill("1971")
    investigator.get_by_role("button", name="Search", exact=True).click()
    result = investigator.locator(".result").first
    result.wait_for()
    assert SUBJECT in result.inner_text()
    assert "score" in result.locator(".score").inner_text()
    assert "name similarity" in result.locator(".why").inner_text()
    shoot(investigator, "02-search-results")


def test_investigator_opens_the_person(investigator, world: World, shoot) -> None:  # type: ignore[no-untyped-def]
    investigator.get_by_role("link", name=SUBJECT).first.click()
    investigator.get_by_role("heading", name=SUBJECT, level=1).wait_for()
    assert "co holder" in investigator.locator("table").first.inner_text()
    assert investigator.locator("ol.timeline li").count() >= 3
    shoot(investigator, "03-person")


def test_investigator_views_the_ownership_picture(investigator, world: World, shoot) -> None:  # type: ignore[no-untyped-def]
    investigator.get_by_role("link", name="Ownership picture").first.click()
    investigator.get_by_role("heading", name=f"Holdings of {SUBJECT}").wait_for()
    assert investigator.locator("figure.diagram svg g.node").count() == 3
    shoot(investigator, "04-holdings")
    investigator.get_by_role("link", name="Adriatic Trade").click()
    investigator.get_by_role("heading", name="Owners of Adriatic Trade").wait_for()
    labels = investigator.locator("figure.diagram svg g.link text").all_text_contents()
    assert sorted(labels) == ["100 %", "40 %", "60 %"]
    shoot(investigator, "05-owners")


def test_bank_uploads_a_bad_file_and_reads_the_report(bank, world: World, worker, shoot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bank.goto("/bank/sign-in")
    bank.get_by_label("Institution code (BIC)").fill(world.bank)
    bank.get_by_label("API key").fill(world.key)
    bank.get_by_role("button", name="Sign in").click()
    bank.get_by_role("heading", name="Extracts", exact=True).wait_for()
    bank.get_by_label("Extract file").set_input_files(str(bad_extract(tmp_path, world.bank)))
    bank.get_by_role("button", name="Upload").click()
    bank.wait_for_url("**/bank/extracts/*")
    bank.locator("#status", has_text="rejected").wait_for(timeout=30_000)
    report = bank.locator("table.report").inner_text()
    assert "birth_date" in report and "currency" in report
    shoot(bank, "06-extract-report")
    bank.get_by_role("link", name="All extracts").click()
    shoot(bank, "07-extracts")


def test_auditor_sees_the_search_just_made(auditor, world: World, shoot) -> None:  # type: ignore[no-untyped-def]
    sign_in(auditor, world, "auditor")
    auditor.get_by_role("heading", name="Audit log").wait_for()
    auditor.get_by_label("User").fill(world.users["investigator"][0])
    auditor.get_by_label("Tag (e.g. search:*)").fill("search:*")
    auditor.get_by_role("button", name="Filter").click()
    row = auditor.locator("table.log tbody tr", has_text=SEARCHED)
    row.wait_for()
    assert "search:person:query" in row.inner_text()
    shoot(auditor, "08-audit-log")
    auditor.get_by_role("link", name="Activity").click()
    auditor.locator("figure.chart svg").first.wait_for()
    shoot(auditor, "09-activity")
    auditor.get_by_role("link", name="Chain").click()
    assert "The chain verifies" in auditor.locator("main").inner_text()


@pytest.fixture(scope="module")
def supervisor(browser, server: str) -> Iterator[object]:  # type: ignore[no-untyped-def]
    yield from _context(browser, server)


def test_supervisor_opens_a_case_and_assigns_an_investigator(supervisor, world: World, shoot) -> None:  # type: ignore[no-untyped-def]
    sign_in(supervisor, world, "supervisor")
    supervisor.get_by_role("heading", name="Cases and assignments").wait_for()
    supervisor.get_by_role("link", name="Open a case").click()
    reference = f"E2E-{uuid.uuid4().hex[:6].upper()}"
    supervisor.get_by_label("Reference").fill(reference)
    supervisor.get_by_label("Legal basis").select_option("asset_recovery")
    supervisor.get_by_label("Offence").select_option("embezzlement_public_official")
    supervisor.get_by_label("Subjects").fill(f"{SUBJECT}\nHorvat Holding")
    shoot(supervisor, "10-open-case")
    supervisor.get_by_role("button", name="Open the case").click()
    supervisor.get_by_role("heading", name=f"Case {reference}").wait_for()
    investigator = world.users["investigator"][0]
    supervisor.get_by_label("Assign an investigator of your agency").select_option(investigator)
    supervisor.get_by_role("button", name="Assign", exact=True).click()
    supervisor.get_by_role("status").filter(has_text=f"{investigator} is assigned").wait_for()
    assigned = supervisor.get_by_role("table", name=f"Investigators assigned to {reference}")
    assert investigator in assigned.inner_text()
    shoot(supervisor, "11-case-assigned")
    supervisor.get_by_role("link", name="All cases").click()
    assert investigator in supervisor.locator("tr", has_text=reference).inner_text()
    shoot(supervisor, "12-supervision-cases")


@pytest.fixture(scope="module")
def administrator(browser, server: str) -> Iterator[object]:  # type: ignore[no-untyped-def]
    yield from _context(browser, server)


def test_administrator_creates_a_user_and_sees_the_enrolment_once(administrator, world: World, shoot) -> None:  # type: ignore[no-untyped-def]
    sign_in(administrator, world, "administrator")
    administrator.get_by_role("heading", name="Users, API tokens and rate limits").wait_for()
    name = f"e2e-{uuid.uuid4().hex[:6]}"
    administrator.get_by_label("User name").fill(name)
    administrator.get_by_label("Role").select_option("investigator")
    administrator.get_by_label("Agency").fill("FIU")
    administrator.get_by_role("button", name="Create the user").click()
    administrator.get_by_role("heading", name=f"User {name} created").wait_for()
    assert administrator.locator("#totp-uri").inner_text().startswith("otpauth://totp/")
    shoot(administrator, "13-user-created")
    administrator.get_by_role("link", name="Back to the list").click()
    assert name in administrator.locator("table.users").inner_text()
    shoot(administrator, "14-users")
