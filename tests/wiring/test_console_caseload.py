"""Wiring: SOAP notes, the App Home and /caseload in the console, typed as a person would."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.deps import Deps
from bot.settings import Settings
from devtools.console import Console, _fill_form, load_demo_if_empty, make_console
from devtools.local_slack import LocalSlack
from storage import models as m


@pytest.fixture
def console(settings: Settings, deps: Deps) -> Iterator[Console]:
    # ``deps`` empties the test database; the console builds its own, as the CLI does.
    with LocalSlack() as slack:
        c = make_console(settings, slack, "U0DEMOP02")  # Devin: the demo has notes overdue
        load_demo_if_empty(c.deps)
        yield c


def fill(console: Console, *answers: str) -> str:
    """Answer the open form's fields one line each, as ``python -m bot console`` asks."""
    return _fill_form(
        console, io.StringIO("".join(a + "\n" for a in answers)), io.StringIO(), False
    )


def overdue_count(home: str) -> int:
    found = re.search(r"Overdue SOAP notes \((\d+)\)", home)
    assert found, home
    return int(found.group(1))


def test_soap_form_in_the_console(console: Console) -> None:
    before = overdue_count(console.handle("/home"))
    assert before >= 1

    form = console.handle("/soap")
    assert "SOAP note" in form and "[Objective] (optional)" in form
    fields = [f.block_id for f in console.modal_inputs()]
    assert fields == [
        "soap_session",
        "soap_trials",
        "soap_subjective",
        "soap_objective",
        "soap_assessment",
        "soap_plan",
    ]
    oldest = console.modal_inputs()[0].options[-1]  # newest first: the last one is overdue
    # The Objective left empty: the problem is shown on that field, by its label, and only that
    # field is asked again; everything else typed is kept.
    out = io.StringIO()
    answers = [oldest[0], "", "came in tired", "", "", "", "Produced /s/ 8 of 10"]
    saved = _fill_form(console, io.StringIO("".join(a + "\n" for a in answers)), out, False)
    assert "The form has problems:\n• Objective: Objective is required" in out.getvalue()
    assert "soap_objective" not in out.getvalue()
    assert "✅ Note saved." in saved  # Slack replaces the form with the confirmation
    with console.deps.session_factory() as s:
        note = s.scalars(select(m.SoapNote)).one()
    assert (note.subjective, note.objective) == ("came in tired", "Produced /s/ 8 of 10")
    assert overdue_count(console.handle("/home")) == before - 1


def test_write_note_button_on_the_home(console: Console) -> None:
    home = console.handle("/home")
    number = home.split("] Write note")[0].rsplit("[", 1)[1]
    form = console.handle(number)
    assert "Session:" in form and "soap_session" not in form  # one session, no choice
    saved = fill(console, "", "", "Produced /r/ in 7 of 10 words", "", "")
    assert "✅ Note saved." in saved
    assert overdue_count(console.handle("/home")) == overdue_count(home) - 1


def test_home_and_caseload_in_the_console(console: Console) -> None:
    home = console.handle("/home")
    assert "Your caseload" in home and "Recent sessions" in home
    assert "Deadlines in the next 30 days" in home
    caseload = console.handle("/caseload")
    assert "Your caseload" in caseload and "(S1006)" in caseload
    assert "You can only see your own caseload." in console.handle("/caseload <@U0DEMOP01>")
    deadlines = console.handle("/deadlines days=60")
    assert "Deadlines for your students" in deadlines

    console.handle("/as U0DEMOM01")
    manager = console.handle("/home")
    assert "Coverage" in manager and "Run match" in manager
    assert "Rosalind Achterberg's caseload" in console.handle("/caseload <@U0DEMOP01>")
    assert "Only providers write SOAP notes" in console.handle("/soap")


def test_history_and_opening_a_note_in_the_console(console: Console) -> None:
    console.handle("/soap")
    _, value = console.modal_inputs()[0].options[0]
    with console.deps.session_factory() as s:
        student = s.get(m.TherapySession, int(value)).student_id  # type: ignore[union-attr]
    fill(console, value, "", "", "Private words", "", "")

    # Student ids are case-insensitive: a provider types them as they like.
    history = console.handle(f"/soap history {student.lower()}")
    assert "by Devin Castellanos" in history and "Private words" not in history
    assert "only see the note history" in console.handle("/soap history S1001")

    console.handle("/as U0DEMOM01")
    history = console.handle(f"/soap history {student}")
    number = history.split("] Open")[0].rsplit("[", 1)[1]
    opened = console.handle(number)
    assert "── form ──" in opened and "Private words" in opened
