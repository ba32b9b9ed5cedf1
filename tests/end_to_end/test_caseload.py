"""End to end through ``serve``: /soap opens the form, a note is saved once and leaves the
overdue list, an empty Objective is a field error, the App Home for a provider and a manager,
and /caseload refusing another provider's caseload."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from bot.clock import SystemClock
from devtools.local_slack import LocalSlack
from devtools.slack_requests import (
    app_home_opened_event,
    event_body,
    slash_command_body,
    view_submission_body,
)
from storage import models as m
from storage.db import make_session_factory
from storage.roster import import_roster
from tests.end_to_end.conftest import Server
from tests.services.caseload_seed import ASSIGNED, NO_SESSIONS, SERVICES, STUDENTS
from tests.storage.roster_files import write_roster
from tests.support.app_driver import soap_values

# End-to-end through real processes: run by default and in CI; `-m "not slow"` skips them.
pytestmark = pytest.mark.slow


def load(db: Engine, tmp_path: Path) -> int:
    """The small roster and one session of P1's, held three days ago with no note."""
    folder = write_roster(
        tmp_path / "roster",
        students_csv=STUDENTS,
        services_csv=SERVICES,
        assignments_csv=ASSIGNED,
        sessions_csv=NO_SESSIONS,
    )
    factory = make_session_factory(db)
    assert import_roster(folder, factory).ok
    with factory.begin() as s:
        session = m.TherapySession(
            session_key="E2E1",
            provider_id="P1",
            student_id="S1",
            service="slp",
            starts_at=SystemClock().now() - timedelta(days=3),  # serve runs on the real clock
            minutes=30,
            status="held",
            note_done_at=None,
        )
        s.add(session)
        s.flush()
        return session.id


def slash(fake: LocalSlack, user: str, command: str, text: str = "") -> str:
    return slash_command_body(
        command=command,
        text=text,
        user_id=user,
        channel_id="D" + user,
        response_url=fake.response_url(f"c{time.monotonic_ns()}"),
    )


def wait_home(fake: LocalSlack, user: str, contains: str, timeout: float = 10) -> dict:
    """The first Home published for ``user`` that says ``contains`` (a refresh of an earlier
    request may still arrive: serve keeps working after it acknowledged)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for call in fake.calls_to("views.publish"):
            view = call.params["view"]
            if call.params["user_id"] == user and contains in json.dumps(view, ensure_ascii=False):
                return dict(view)
        time.sleep(0.05)
    raise AssertionError(f"no Home for {user} saying {contains!r}")


def home_event(user: str) -> str:
    return event_body(
        event=app_home_opened_event(user_id=user), event_id=f"Ev{time.monotonic_ns()}"
    )


def test_soap_form_error_save_and_home(
    server: Server, fake: LocalSlack, db: Engine, tmp_path: Path
) -> None:
    session_id = load(db, tmp_path)
    status, _, seconds = server.signed(slash(fake, "U0P1", "/soap"))
    assert status == 200 and seconds < 3
    view = fake.wait_for("views.open", timeout=10)[0].params["view"]
    assert view["callback_id"] == "soap_note"
    options = view["blocks"][0]["element"]["options"]
    assert [o["value"] for o in options] == [str(session_id)]
    assert options[0]["text"]["text"].endswith("· T.E. · Birchwood Elementary")

    empty = view_submission_body(
        user_id="U0P1", view={**view, "id": "V1"}, state_values=soap_values(session=str(session_id))
    )
    status, body, _ = server.signed(empty)
    assert status == 200
    reply = json.loads(body)
    assert reply["response_action"] == "errors"
    assert reply["errors"]["soap_objective"].startswith("Objective is required")

    fake.clear()
    filled = view_submission_body(
        user_id="U0P1",
        view={**view, "id": "V1"},
        state_values=soap_values(session=str(session_id), trials="8/10"),
    )
    status, body, _ = server.signed(filled)
    assert json.loads(body)["response_action"] == "update"
    # A double submit: Slack signs the second delivery with its own timestamp.
    assert server.signed(filled, timestamp=int(time.time()) + 1)[0] == 200
    with make_session_factory(db)() as s:
        notes = s.scalars(select(m.SoapNote)).all()
        assert [(n.session_id, n.objective) for n in notes] == [
            (session_id, "Goal 1: 8/10 correct (80%)")
        ]
    wait_home(fake, "U0P1", "Overdue SOAP notes* (0)")  # refreshed after the save

    fake.clear()
    assert server.signed(home_event("U0P1"))[0] == 200
    home = json.dumps(wait_home(fake, "U0P1", "Your caseload"), ensure_ascii=False)
    assert "T.E. (S1)" in home and "I.M. (S3)" in home
    assert "Goal 1" not in home  # note contents never reach the Home


def test_overdue_note_on_the_provider_home_and_coverage_on_the_managers(
    server: Server, fake: LocalSlack, db: Engine, tmp_path: Path
) -> None:
    session_id = load(db, tmp_path)
    assert server.signed(home_event("U0P1"))[0] == 200
    blocks = wait_home(fake, "U0P1", "Overdue SOAP notes* (1)")["blocks"]
    write = [
        b["accessory"]["value"]
        for b in blocks
        if (b.get("accessory") or {}).get("action_id") == "soap_write_note"
    ]
    assert write == [str(session_id)]

    fake.clear()
    assert server.signed(home_event("U0M1"))[0] == 200
    manager = json.dumps(wait_home(fake, "U0M1", "Coverage"), ensure_ascii=False)
    assert "Anchorage School District*: 3 of 3 student services served (100%)" in manager
    assert "home_run_match" in manager


def test_provider_cannot_see_another_caseload(
    server: Server, fake: LocalSlack, db: Engine, tmp_path: Path
) -> None:
    load(db, tmp_path)
    assert server.signed(slash(fake, "U0P2", "/caseload", "<@U0P1|ana>"))[0] == 200
    answer = fake.wait_for("response_url", timeout=10)[0].params
    assert answer["text"] == "You can only see your own caseload."
    fake.clear()
    assert server.signed(slash(fake, "U0P1", "/caseload"))[0] == 200
    own = fake.wait_for("response_url", timeout=10)[0].params
    assert "T.E. (S1)" in json.dumps(own["blocks"])
