"""Handlers, through the real app with signed requests: every modal submission (the SOAP form,
the make-up form) whose fields are of the wrong type, oversized, missing or garbled is answered
with ``response_action=errors`` on a block the form has, so the form stays open with the user's
text, and nothing is saved."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from sqlalchemy import func, select

from bot.deps import Deps
from bot.services import soap
from devtools.local_slack import LocalSlack
from devtools.slack_requests import view_submission_body
from storage import models as m
from tests.support.app_driver import Driver, Reply, soap_values

P04 = "U0DEMOP04"
SOAP_BLOCKS = {"soap_trials", "soap_subjective", "soap_objective", "soap_assessment", "soap_plan"}
MISSING = object()


def submit(driver: Driver, user: str, view: dict[str, Any], state: Any) -> Reply:
    """A signed view_submission whose ``view.state`` is exactly ``state`` (or absent)."""
    body = view_submission_body(user_id=user, view=view, state_values={})
    payload = json.loads(parse_qs(body)["payload"][0])
    if state is MISSING:
        del payload["view"]["state"]
    else:
        payload["view"]["state"] = state
    return driver.send(urlencode({"payload": json.dumps(payload)}))


def counts(deps: Deps) -> tuple[int, int]:
    with deps.session_factory() as s:
        notes = s.scalar(select(func.count()).select_from(m.SoapNote)) or 0
        makeups = s.scalar(
            select(func.count())
            .select_from(m.TherapySession)
            .where(m.TherapySession.makeup.is_(True))
        )
        return notes, makeups or 0


def assert_field_errors(reply: Reply, blocks: set[str]) -> dict[str, str]:
    assert reply.status == 200
    answer = reply.ack_json()
    assert answer.get("response_action") == "errors", reply.ack
    errors = answer["errors"]
    assert errors and set(errors) <= blocks, errors
    assert not [c for c in reply.calls if c.method in ("views.update", "views.push")]
    return dict(errors)


@pytest.fixture
def session_id(demo_deps: Deps) -> int:
    [first, *_] = soap.sessions_awaiting_note(demo_deps, P04)
    return first.session_id


def _values(**changes: Any) -> dict[str, Any]:
    values = soap_values(objective="Produced /s/ 8/10", subjective="Tired today")
    for block, value in changes.items():
        values[f"soap_{block}"][f"soap_{block}_input"]["value"] = value
    return values


@pytest.mark.parametrize(
    ("name", "state", "field"),
    [
        ("a list for text", {"values": _values(objective=["8/10"])}, "soap_objective"),
        ("a number for text", {"values": _values(subjective=42)}, "soap_subjective"),
        ("an object for text", {"values": _values(plan={"x": 1})}, "soap_plan"),
        ("oversized", {"values": _values(objective="8/10 " * 2000)}, "soap_objective"),
        ("missing", {"values": _values(objective=None)}, "soap_objective"),
        ("values not an object", {"values": ["garbled"]}, "soap_objective"),
        ("a block not an object", {"values": {"soap_objective": "x"}}, "soap_objective"),
        ("state a string", "garbled", "soap_objective"),
        ("no state", MISSING, "soap_objective"),
    ],
)
def test_a_bad_soap_field_is_a_field_error_and_the_form_stays_open(
    demo_deps: Deps, slack: LocalSlack, session_id: int, name: str, state: Any, field: str
) -> None:
    view = {"callback_id": "soap_note", "private_metadata": str(session_id)}
    errors = assert_field_errors(submit(Driver(demo_deps, slack), P04, view, state), SOAP_BLOCKS)
    assert field in errors, name
    assert counts(demo_deps) == (0, 0)


@pytest.mark.parametrize("metadata", [{"session": 1}, ["1"], "abc", "9" * 5000, 17])
def test_a_forged_session_id_is_a_field_error_on_a_block_the_form_has(
    demo_deps: Deps, slack: LocalSlack, metadata: Any
) -> None:
    view = {"callback_id": "soap_note", "private_metadata": metadata}
    reply = submit(Driver(demo_deps, slack), P04, view, {"values": _values()})
    assert_field_errors(reply, SOAP_BLOCKS)
    assert counts(demo_deps) == (0, 0)


@pytest.mark.parametrize(
    "option", ["a string", 7, {"value": ["1"]}, {"value": "9" * 20000}, {"value": None}]
)
def test_a_bad_session_choice_is_an_error_on_the_select(
    demo_deps: Deps, slack: LocalSlack, option: Any
) -> None:
    values = _values()
    values["soap_session"] = {"soap_session_select": {"selected_option": option}}
    reply = submit(Driver(demo_deps, slack), P04, {"callback_id": "soap_note"}, {"values": values})
    errors = assert_field_errors(reply, SOAP_BLOCKS | {"soap_session"})
    assert "soap_session" in errors
    assert counts(demo_deps) == (0, 0)


def test_the_same_form_saves_once_its_fields_are_right(
    demo_deps: Deps, slack: LocalSlack, session_id: int
) -> None:
    driver = Driver(demo_deps, slack)
    view = {"callback_id": "soap_note", "private_metadata": str(session_id)}
    submit(driver, P04, view, {"values": _values(objective=["8/10"])})
    saved = submit(driver, P04, view, {"values": _values()})
    assert saved.ack_json()["response_action"] == "update"
    assert counts(demo_deps) == (1, 0)


# --- the make-up form ----------------------------------------------------------------------


def _time(option: Any) -> dict[str, Any]:
    return {"values": {"makeup_time": {"makeup_time_select": {"selected_option": option}}}}


@pytest.mark.parametrize(
    ("name", "state", "metadata"),
    [
        ("option a string", _time("2026-12-02T17:00Z"), None),
        ("option a number", _time(42), None),
        ("value a list", _time({"value": ["2026-12-02T17:00Z"]}), None),
        ("value oversized", _time({"value": "2026-12-02T17:00Z" * 5000}), None),
        ("value not a time", _time({"value": "tomorrow"}), None),
        ("missing", _time(None), None),
        ("block a list", {"values": {"makeup_time": ["x"]}}, None),
        ("values a string", {"values": "garbled"}, None),
        ("state a list", ["garbled"], None),
        ("no state", MISSING, None),
        ("metadata an object", _time({"value": "2026-12-02T17:00Z"}), {"id": 1}),
        ("metadata oversized", _time({"value": "2026-12-02T17:00Z"}), "9" * 5000),
    ],
)
def test_a_bad_makeup_field_is_a_field_error_and_the_form_stays_open(
    demo_deps: Deps, slack: LocalSlack, session_id: int, name: str, state: Any, metadata: Any
) -> None:
    view = {
        "callback_id": "makeup_book",
        "private_metadata": str(session_id) if metadata is None else metadata,
    }
    errors = assert_field_errors(
        submit(Driver(demo_deps, slack), P04, view, state), {"makeup_time"}
    )
    assert errors["makeup_time"], name
    assert counts(demo_deps) == (0, 0)
