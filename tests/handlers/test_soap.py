"""Handlers: /soap and the SOAP form, called as functions with fake ack/respond."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.deps import Deps
from bot.domain.sessions import OBJECTIVE_MISSING
from bot.services.errors import NotAllowed
from devtools.local_slack import LocalSlack
from handlers import soap as h
from handlers.soap_blocks import SoapIds, note_form
from storage import models as m
from tests.services.caseload_seed import add_session, seed
from tests.support.app_driver import soap_values


class Calls:
    """A stand-in for Bolt's ack / respond: records each call's keyword arguments."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)

    @property
    def last(self) -> dict[str, Any]:
        return self.calls[-1]


@pytest.fixture
def world(deps: Deps, tmp_path: Path, clock: FixedClock, slack: LocalSlack) -> dict[str, Any]:
    seed(deps, tmp_path)
    sid = add_session(deps, "A", "S1", clock.now() - timedelta(days=3))
    return {"context": {"deps": deps}, "session": sid, "deps": deps, "slack": slack}


def submit(world: dict[str, Any], view: dict[str, Any], user: str = "U0P1") -> Calls:
    ack = Calls()
    h.handle_soap_submit_view(ack, {"user": {"id": user}}, view, world["context"])
    return ack


def form_view(private_metadata: str, values: dict[str, Any]) -> dict[str, Any]:
    return {"private_metadata": private_metadata, "state": {"values": values}}


def notes(deps: Deps) -> int:
    with deps.session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(m.SoapNote)) or 0)


def test_empty_objective_is_an_error_on_its_field(world: dict[str, Any]) -> None:
    ack = submit(world, form_view(str(world["session"]), soap_values(subjective="ok")))
    assert ack.last == {
        "response_action": "errors",
        "errors": {SoapIds.OBJECTIVE_BLOCK.value: OBJECTIVE_MISSING},
    }
    assert notes(world["deps"]) == 0


def test_bad_trials_and_a_missing_session_are_errors_on_their_fields(
    world: dict[str, Any],
) -> None:
    ack = submit(world, form_view("", soap_values(trials="lots")))
    errors = ack.last["errors"]
    assert set(errors) == {"soap_trials", "soap_objective", "soap_session"}
    assert notes(world["deps"]) == 0


def test_trials_fill_the_objective_and_the_form_becomes_a_confirmation(
    world: dict[str, Any],
) -> None:
    ack = submit(world, form_view(str(world["session"]), soap_values(trials="8/10\n3/4")))
    assert ack.last["response_action"] == "update"
    assert "Note saved" in str(ack.last["view"])
    with world["deps"].session_factory() as s:
        note = s.scalars(select(m.SoapNote)).one()
    assert note.objective == "Goal 1: 8/10 correct (80%)\nGoal 2: 3/4 correct (75%)"
    # The author's Home is published again, without the note in the overdue list.
    (publish,) = world["slack"].calls_to("views.publish")
    assert publish.params["user_id"] == "U0P1"
    assert "Overdue SOAP notes* (0)" in str(publish.params["view"])


def test_the_select_carries_the_session_when_the_form_had_a_choice(world: dict[str, Any]) -> None:
    values = soap_values(session=str(world["session"]), objective="Produced /s/ 8/10")
    ack = submit(world, form_view("", values))
    assert ack.last["response_action"] == "update"
    again = submit(world, form_view("", values))  # a double submit
    assert "already saved" in str(again.last["view"])
    assert notes(world["deps"]) == 1


def test_a_refusal_shows_in_the_form(world: dict[str, Any]) -> None:
    ack = submit(world, form_view(str(world["session"]), soap_values(objective="x")), "U0P2")
    assert ack.last == {
        "response_action": "errors",
        "errors": {"soap_objective": "Only the session's own provider can write its note."},
    }


def test_soap_command_opens_the_form_with_the_trigger_id(world: dict[str, Any]) -> None:
    ack, respond = Calls(), Calls()
    command = {"user_id": "U0P1", "text": "", "trigger_id": "13345224609.8534564800"}
    h.handle_soap_command(ack, command, respond, world["context"])
    assert ack.calls == [{}] and respond.calls == []
    (opened,) = world["slack"].calls_to("views.open")
    assert opened.params["trigger_id"] == "13345224609.8534564800"
    view = opened.params["view"]
    assert view["callback_id"] == "soap_note"
    select_block = view["blocks"][0]
    assert select_block["block_id"] == "soap_session"
    assert [o["value"] for o in select_block["element"]["options"]] == [str(world["session"])]
    objective = next(b for b in view["blocks"] if b.get("block_id") == "soap_objective")
    assert objective["element"]["max_length"] == 3000
    # Optional in Slack's eyes, and the hint says what is true.
    assert objective["optional"] is True
    assert objective["hint"]["text"].startswith("Required unless Trials are filled in")
    # A session is told by date, time, initials and school: no internal row id.
    (option,) = select_block["element"]["options"]
    assert option["text"]["text"] == "Fri Nov 27 09:00 PT · T.E. · Birchwood Elementary"


def test_soap_command_answers_without_a_form(world: dict[str, Any]) -> None:
    respond = Calls()
    h.handle_soap_command(
        Calls(), {"user_id": "U0P2", "text": "", "trigger_id": "t"}, respond, world["context"]
    )
    assert respond.last["text"] == "No sessions are waiting for a note. 🎉"
    h.handle_soap_command(
        Calls(), {"user_id": "U0P1", "text": "help", "trigger_id": "t"}, respond, world["context"]
    )
    assert "/soap history S123" in respond.last["text"]
    with pytest.raises(NotAllowed):
        h.handle_soap_command(
            Calls(), {"user_id": "U0M1", "text": "", "trigger_id": "t"}, respond, world["context"]
        )
    assert world["slack"].calls_to("views.open") == []


def test_open_soap_modal_for_one_session_is_what_other_buttons_call(
    world: dict[str, Any],
) -> None:
    assert h.open_soap_modal(world["deps"], "U0P1", "trigger", world["session"])
    view = world["slack"].calls_to("views.open")[0].params["view"]
    assert view["private_metadata"] == str(world["session"])
    assert not any(b.get("block_id") == "soap_session" for b in view["blocks"])


def test_the_form_fits_slack_limits() -> None:
    from datetime import UTC, datetime

    from bot.services.soap import NoteSession

    long = NoteSession(
        1,
        "S1",
        "Bartholomew-Alexander Featherstonehaugh (S1234567890)",
        "slp",
        "A school",
        datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
        "America/Los_Angeles",
        30,
        True,
    )
    view = note_form(choices=[long] * 100).to_dict()
    option = view["blocks"][0]["element"]["options"][0]
    assert len(option["text"]["text"]) <= 75


@pytest.mark.parametrize("wrong", [["a list"], {"a": "dict"}, 42, True])
def test_a_field_of_the_wrong_type_is_a_field_error_and_the_form_stays_open(
    world: dict[str, Any], wrong: Any
) -> None:
    values = soap_values(objective="Produced /s/ 8/10", subjective="Tired today")
    values["soap_objective"]["soap_objective_input"]["value"] = wrong
    ack = submit(world, form_view(str(world["session"]), values))
    assert ack.last == {
        "response_action": "errors",
        "errors": {"soap_objective": h.UNREADABLE_FIELD},
    }
    assert notes(world["deps"]) == 0


@pytest.mark.parametrize(
    "state",
    [None, [], {"values": []}, {"values": {"soap_objective": []}}, {"values": {"x": {"y": 1}}}],
)
def test_a_garbled_form_state_is_answered_in_the_form(world: dict[str, Any], state: Any) -> None:
    ack = submit(world, {"private_metadata": str(world["session"]), "state": state})
    assert ack.last["response_action"] == "errors"
