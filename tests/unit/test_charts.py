"""The ownership picture is drawn from the service's answer, with no server."""

from __future__ import annotations

from registry.web.charts import ownership_diagram, share_text


def edge(owner: int, owned: int, share: dict | None, used: bool = True) -> dict:  # type: ignore[type-arg]
    return {"owner": owner, "owned": owned, "share": share, "used": used}


def test_declarations_the_service_did_not_use_are_not_drawn() -> None:
    subject = {"id": 1, "name": "Acme", "kind": "entity"}
    parties = {2: {"name": "Register's owner", "kind": "person"}, 3: {"name": "Bank's claim", "kind": "person"}}
    interests = [edge(2, 1, {"min": 60, "max": 60}), edge(3, 1, {"min": 100, "max": 100}, used=False)]
    diagram = ownership_diagram(subject, parties, interests, upward=True)
    assert {n.id for n in diagram.nodes} == {1, 2}
    assert [link.label for link in diagram.links] == ["60 %"]


def test_shares_read_as_the_service_words_them() -> None:
    assert share_text({"min": 25, "max": 50, "min_exclusive": True, "text": "more than 25 % and up to 50 %"}) \
        == "more than 25 % and up to 50 %"
    assert share_text({"min": 25, "max": 50}) == "25–50 %"
    assert share_text(None) == "control"
