"""Wiring: /minutes, cancelling with a reason, and scheduling a make-up, in the console."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest

from bot.deps import Deps
from bot.settings import Settings
from devtools.console import Console, _fill_form, load_demo_if_empty, make_console
from devtools.local_slack import LocalSlack


@pytest.fixture
def console(settings: Settings, deps: Deps) -> Iterator[Console]:
    with LocalSlack() as slack:
        c = make_console(settings, slack, "U0DEMOP02")  # Devin: the demo has make-ups owed
        load_demo_if_empty(c.deps)
        yield c


def owed(text: str) -> int:
    found = re.search(r"(\d+) make-ups? owed", text)
    assert found, text
    return int(found.group(1))


def button(text: str, label: str) -> str:
    return text.split(f"] {label}")[0].rsplit("[", 1)[1]


def cancel_a_held_session(home: str) -> str:
    """The [Cancelled by me] of the first recent session shown held (not one already cancelled,
    as the demo's latest session of each district is)."""
    recent = home.split("Recent sessions", 1)[1]
    entries = recent.split(" PT · ")
    held = next(e for e in entries if e.split("\n", 1)[0].endswith("— held"))
    return button(held, "Cancelled by me")


def test_minutes_cancel_and_schedule_a_makeup_in_the_console(console: Console) -> None:
    minutes = console.handle("/minutes")
    assert "Minutes, " in minutes and "behind" in minutes
    before = owed(minutes)
    assert before >= 1

    # Cancel a recent session from the Home tab: "Cancelled by me" owes one more make-up.
    home = console.handle("/home")
    console.handle(cancel_a_held_session(home))
    after_cancel = console.handle("/minutes")
    assert owed(after_cancel) == before + 1

    # [Schedule make-up] opens a form of times; choosing the first books it.
    form = console.handle(button(after_cancel, "Schedule make-up"))
    assert "Schedule make-up" in form
    [field] = console.modal_inputs()
    assert field.block_id == "makeup_time" and field.options
    booked = _fill_form(console, io.StringIO(field.options[0][1] + "\n"), io.StringIO(), False)
    assert "Make-up booked" in booked
    assert owed(console.handle("/minutes")) == before

    # The manager sees the district's students behind and make-ups owed per provider.
    console.handle("/as U0DEMOM01")
    district = console.handle("/minutes district=anc")
    assert re.search(r"\d+ students? behind", district) and "Make-ups owed per provider" in district


# Weekends and mid-week days: "due so far" follows the sessions (a week still under way is due
# only what its sessions settled), so a student whose session is later this week is not behind,
# and those behind are behind for a missed session.
@pytest.mark.parametrize(
    "on",
    [
        "2026-11-29T20:00:00+00:00",  # a Sunday
        "2027-02-27T20:00:00+00:00",  # a Saturday
        "2026-12-02T20:00:00+00:00",  # a Wednesday
        "2027-03-04T20:00:00+00:00",  # a Thursday
    ],
)
def test_the_demo_has_a_few_students_behind_for_a_reason_it_shows(deps: Deps, on: str) -> None:
    """A newcomer sees the feature at once: a few of the caseload behind, the rest on track,
    and every student behind has a missed session on file (cancelled, no-show, unmarked)."""
    from dataclasses import replace
    from datetime import datetime

    from sqlalchemy import select

    from bot.clock import FixedClock
    from bot.domain.minutes import Month
    from bot.services import minutes as svc
    from storage import minutes as q
    from storage import models as m

    now = datetime.fromisoformat(on)
    at = replace(deps, clock=FixedClock(now))
    load_demo_if_empty(at)
    with at.session_factory() as s:
        served = [
            i
            for i in svc.month_minutes(s, q.Scope(), Month(now.year, now.month), now, at.settings)
            if i.provider_id is not None
        ]
        behind = {i.student_id for i in served if i.line.behind}
        missed = set(
            s.scalars(
                select(m.TherapySession.student_id).where(
                    m.TherapySession.status != "held", m.TherapySession.starts_at < now
                )
            )
        )
    students = {i.student_id for i in served}
    assert 2 <= len(behind) <= len(students) // 3, (len(behind), len(students))
    assert behind <= missed
    # Whichever district a manager looks at first shows someone behind.
    assert {i.district_id for i in served if i.line.behind} == {i.district_id for i in served}
