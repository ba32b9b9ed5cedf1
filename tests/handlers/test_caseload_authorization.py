"""Handlers, through the app: who may use each new command, button and modal.

Actors: ``self`` is P1 (U0P1), the provider the thing belongs to; ``other`` is P2 (U0P2),
another provider; ``manager`` is M1 (U0M1); ``unknown`` is a Slack user not in the roster.
The table below writes out the expected outcome of every case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.deps import Deps
from bot.domain.sessions import NoteText
from bot.services.soap import save_note
from devtools.local_slack import LocalSlack
from tests.services.caseload_seed import add_session, seed
from tests.support.app_driver import Driver, Reply, soap_values

ACTORS = {"self": "U0P1", "other": "U0P2", "manager": "U0M1", "unknown": "U0NOBODY"}
ROSTER = "I don't have you in the roster yet"
NOTE_TEXT = "Objective only the author and managers may read"


@pytest.fixture
def world(deps: Deps, tmp_path: Path, clock: FixedClock, slack: LocalSlack) -> dict[str, object]:
    seed(deps, tmp_path)
    now = clock.now()
    open_id = add_session(deps, "open", "S1", now - timedelta(days=3))  # P1's, needs a note
    noted_id = add_session(deps, "noted", "S1", now - timedelta(days=5))
    add_session(deps, "p2", "S2", now - timedelta(days=3), provider="P2", service="ot")
    note = save_note(deps, "U0P1", noted_id, NoteText("s", NOTE_TEXT, "a", "p"))
    slack.clear()
    # Who may act is the point here, not the proposal's quality: the solver gets 0.2 s.
    quick = replace(
        deps, settings=deps.settings.model_copy(update={"match_time_limit_seconds": 0.2})
    )
    return {
        "driver": Driver(quick, slack),
        "session": str(open_id),
        "note": str(note.note_id),
        "form": {
            "id": "VFORM",
            "type": "modal",
            "callback_id": "soap_note",
            "private_metadata": str(open_id),
        },
    }


Case = Callable[[dict[str, object], str], Reply]


def soap(w: dict[str, object], user: str) -> Reply:
    return w["driver"].slash(user, "/soap")  # type: ignore[attr-defined,no-any-return]


def write_button(w: dict[str, object], user: str) -> Reply:
    d: Driver = w["driver"]  # type: ignore[assignment]
    return d.press(user, "soap_write_note", str(w["session"]), from_home=True)


def submit(w: dict[str, object], user: str) -> Reply:
    d: Driver = w["driver"]  # type: ignore[assignment]
    return d.submit(user, w["form"], soap_values(objective="8/10 correct"))  # type: ignore[arg-type]


def history(w: dict[str, object], user: str) -> Reply:
    return w["driver"].slash(user, "/soap", "history S1")  # type: ignore[attr-defined,no-any-return]


def open_button(w: dict[str, object], user: str) -> Reply:
    d: Driver = w["driver"]  # type: ignore[assignment]
    return d.press(user, "soap_view_note", str(w["note"]))


def caseload(w: dict[str, object], user: str) -> Reply:
    text = "" if user == "U0P1" else "<@U0P1|ana>"
    return w["driver"].slash(user, "/caseload", text)  # type: ignore[attr-defined,no-any-return]


def district_caseload(w: dict[str, object], user: str) -> Reply:
    text = "" if user == "U0M1" else "district=anc"
    return w["driver"].slash(user, "/caseload", text)  # type: ignore[attr-defined,no-any-return]


def deadlines(w: dict[str, object], user: str) -> Reply:
    return w["driver"].slash(user, "/deadlines", "days=30")  # type: ignore[attr-defined,no-any-return]


def mark_button(w: dict[str, object], user: str) -> Reply:
    d: Driver = w["driver"]  # type: ignore[assignment]
    return d.press(user, "home_mark_no_show", str(w["session"]), from_home=True)


def run_match(w: dict[str, object], user: str) -> Reply:
    d: Driver = w["driver"]  # type: ignore[assignment]
    return d.press(user, "home_run_match", "anc", from_home=True)


def home(w: dict[str, object], user: str) -> Reply:
    return w["driver"].open_home(user)  # type: ignore[attr-defined,no-any-return]


# (surface, actor, what the actor must see, what they must never see)
CASES: list[tuple[str, Case, str, str, str | None]] = [
    # /soap: the form lists the caller's own sessions only
    ("/soap", soap, "self", '"callback_id": "soap_note"', None),
    ("/soap", soap, "other", "N.L.", "T.E."),
    ("/soap", soap, "manager", "Only providers write SOAP notes", "callback_id"),
    ("/soap", soap, "unknown", ROSTER, "callback_id"),
    # the Home's "Write note" button for P1's session
    ("write note", write_button, "self", '"private_metadata": "{session}"', None),
    ("write note", write_button, "other", "Only the session's own provider", "callback_id"),
    ("write note", write_button, "manager", "Only providers write SOAP notes", "callback_id"),
    ("write note", write_button, "unknown", ROSTER, "callback_id"),
    # submitting the SOAP form for P1's session
    ("submit note", submit, "self", "Note saved", None),
    ("submit note", submit, "other", "Only the session's own provider", "Note saved"),
    ("submit note", submit, "manager", "Only providers write SOAP notes", "Note saved"),
    ("submit note", submit, "unknown", ROSTER, "Note saved"),
    # /soap history S1 (S1 is P1's student): dates and authors, never contents
    ("history", history, "self", "by Ana Reyes", NOTE_TEXT),
    ("history", history, "other", "only see the note history of students you serve", "Ana"),
    ("history", history, "manager", "by Ana Reyes", NOTE_TEXT),
    ("history", history, "unknown", ROSTER, "Ana"),
    # the history's "Open" button on P1's note: the contents, in a modal only
    ("open note", open_button, "self", NOTE_TEXT, None),
    ("open note", open_button, "other", "Only the note's author and managers", NOTE_TEXT),
    ("open note", open_button, "manager", NOTE_TEXT, None),
    ("open note", open_button, "unknown", ROSTER, NOTE_TEXT),
    # /caseload (others name P1)
    ("/caseload", caseload, "self", "Your caseload", None),
    ("/caseload", caseload, "other", "You can only see your own caseload.", "T.E. (S1)"),
    ("/caseload", caseload, "manager", "Ana Reyes's caseload", None),
    ("/caseload", caseload, "unknown", ROSTER, "T.E. (S1)"),
    # /caseload with no one named: a manager gets every district; district= is for managers
    ("district view", district_caseload, "manager", "Caseloads by district", "for your own"),
    ("district view", district_caseload, "self", "Only provider-success managers", "Ana Reyes"),
    ("district view", district_caseload, "other", "Only provider-success managers", "Ana Reyes"),
    ("district view", district_caseload, "unknown", ROSTER, "Ana Reyes"),
    # /deadlines: providers see their own students, managers every district
    ("/deadlines", deadlines, "self", "Deadlines for your students", "N.L. (S2)"),
    ("/deadlines", deadlines, "other", "N.L. (S2)", "I.M. (S3)"),
    ("/deadlines", deadlines, "manager", "Deadlines for all districts", None),
    ("/deadlines", deadlines, "unknown", ROSTER, "S2"),
    # the Home's No-show button on P1's session
    ("mark session", mark_button, "self", '"type": "home"', None),
    ("mark session", mark_button, "other", "Only the session's own provider can mark it", None),
    ("mark session", mark_button, "manager", "Only the session's own provider can mark it", None),
    ("mark session", mark_button, "unknown", ROSTER, None),
    # the Home's Run match button
    ("run match", run_match, "self", "Only provider-success managers can run /match.", None),
    ("run match", run_match, "other", "Only provider-success managers can run /match.", None),
    ("run match", run_match, "manager", "Proposal: Anchorage School District", None),
    ("run match", run_match, "unknown", ROSTER, "Proposal"),
    # opening the App Home
    ("home", home, "self", "Your caseload", "Coverage"),
    ("home", home, "other", "N.L. (S2)", "T.E. (S1)"),
    ("home", home, "manager", "Coverage", "Your caseload"),
    ("home", home, "unknown", ROSTER, "Coverage"),
]


@pytest.mark.parametrize(
    ("surface", "case", "actor", "sees", "never"),
    CASES,
    ids=[f"{c[0]}-{c[2]}" for c in CASES],
)
def test_authorization(
    world: dict[str, object], surface: str, case: Case, actor: str, sees: str, never: str | None
) -> None:
    reply = case(world, ACTORS[actor])
    assert reply.status == 200
    said = reply.said()
    assert sees.format(session=world["session"]) in said, (surface, actor, said[:2000])
    if never is not None:
        assert never not in said, (surface, actor)
    assert "Something went wrong" not in said


def test_note_contents_reach_only_a_modal(world: dict[str, object]) -> None:
    reply = open_button(world, "U0M1")
    where = {c.method for c in reply.calls if NOTE_TEXT in str(c.params)}
    assert where == {"views.open"}
