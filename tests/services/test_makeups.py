"""Services: make-up times that fit, booking once, and the DMs (first, weekly, escalated)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.deps import Deps
from bot.services import makeups as svc
from bot.services.errors import Conflict, NotAllowed
from bot.views.makeups import render_makeup
from devtools.local_slack import LocalSlack
from jobs import minutes_jobs
from storage import minutes as q
from storage import models as m
from tests.services.caseload_seed import add_session, closed_days, utc
from tests.services.minutes_seed import NOW, seed_minutes

# P1 is free Tue 08:00-11:00 Pacific = 07:00-10:00 in Anchorage; SCH1 opens 08:30 on Tuesdays.
# From Tue Dec 15 11:00 AKST the next two weeks hold Tue Dec 22 and Tue Dec 29.
DEC22 = [utc(2026, 12, 22, 17, 30), utc(2026, 12, 22, 18), utc(2026, 12, 22, 18, 30)]
DEC29 = [utc(2026, 12, 29, 17, 30), utc(2026, 12, 29, 18), utc(2026, 12, 29, 18, 30)]


@pytest.fixture
def world(deps: Deps, tmp_path: Path, clock: FixedClock, slack: LocalSlack) -> Deps:
    seed_minutes(deps, tmp_path, clock)
    with deps.session_factory.begin() as s:  # no winter break: two open Tuesdays ahead
        s.query(m.SchoolCalendarDay).delete()
    slack.clear()
    return deps


def missed_id(deps: Deps, key: str, student: str) -> int:
    with deps.session_factory() as s:
        return s.query(m.TherapySession).filter_by(session_key=key, student_id=student).one().id


def starts(options: svc.MakeupOptions) -> list[datetime]:
    return [slot.starts_at for slot in options.slots]


def test_options_fit_school_hours_availability_and_other_sessions(world: Deps) -> None:
    a3 = missed_id(world, "a3", "S1")
    assert starts(svc.makeup_options(world, "U0P1", a3)) == DEC22 + DEC29
    # Another session of P1 at 09:00 AKST on Dec 22, and the district closed on Dec 29.
    add_session(world, "busy", "S3", utc(2026, 12, 22, 18), status="scheduled")
    with world.session_factory.begin() as s:
        s.add(closed_days(date(2026, 12, 28), date(2026, 12, 31)))
    options = svc.makeup_options(world, "U0P1", a3)
    assert starts(options) == [DEC22[0], DEC22[2]]
    assert (options.student, options.minutes) == ("T.E. (S1)", 30)


def test_options_keep_the_week_within_weekly_hours(world: Deps) -> None:
    add_session(world, "busy", "S3", utc(2026, 12, 22, 18), status="scheduled")
    with world.session_factory.begin() as s:
        provider = s.get(m.Provider, "P1")
        assert provider is not None
        provider.weekly_hours = Decimal("0.5")  # the week of Dec 21 is full already
    assert starts(svc.makeup_options(world, "U0P1", missed_id(world, "a3", "S1"))) == DEC29


def test_booking_creates_one_makeup_session_that_pays_back_when_held(world: Deps) -> None:
    a3 = missed_id(world, "a3", "S1")
    with pytest.raises(NotAllowed):
        svc.makeup_options(world, "U0P2", a3)
    with pytest.raises(Conflict, match="no longer fits"):
        svc.book_makeup(world, "U0P1", a3, "2026-12-22T19:00Z")
    booked = svc.book_makeup(world, "U0P1", a3, "2026-12-22T17:30Z")
    with pytest.raises(Conflict, match="already booked"):
        svc.book_makeup(world, "U0P1", a3, "2026-12-22T18:30Z")
    with world.session_factory() as s:
        row = s.get(m.TherapySession, booked.session_id)
        assert row is not None
        assert (row.session_key, row.makeup, row.status, row.provider_id) == (
            q.makeup_key(a3, 0),
            True,
            "scheduled",
            "P1",
        )
        assert row.starts_at == DEC22[0]
    # A cancelled make-up leaves the debt open, and a new one can be booked.
    with world.session_factory.begin() as s:
        s.query(m.TherapySession).filter_by(id=booked.session_id).update(
            {"status": "cancelled", "cancel_reason": "provider"}
        )
    again = svc.book_makeup(world, "U0P1", a3, "2026-12-22T18:30Z")
    with world.session_factory() as s:
        row = s.get(m.TherapySession, again.session_id)
        assert row is not None and row.session_key == q.makeup_key(a3, 1)


def dms(slack: LocalSlack) -> list[tuple[str, str, list[str]]]:
    """(channel, text, button values) of each DM posted."""
    out = []
    for call in slack.calls:
        if call.method != "chat.postMessage":
            continue
        blocks = call.params.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        values = [b["accessory"]["value"] for b in blocks if b.get("accessory", {}).get("value")]
        out.append((str(call.params.get("channel")), str(call.params.get("text")), values))
    return out


def run(deps: Deps, clock: FixedClock, at: datetime) -> minutes_jobs.MakeupRun:
    clock.at = at
    return minutes_jobs.run_once(deps, at)


def test_one_dm_then_weekly_reminders_then_the_manager(
    world: Deps, clock: FixedClock, slack: LocalSlack
) -> None:
    a3, b3 = missed_id(world, "a3", "S1"), missed_id(world, "b3", "S3")
    assert run(world, clock, NOW) == minutes_jobs.MakeupRun(queued=2, sent=1)
    [(_, text, values)] = dms(slack)
    assert text == "2 make-ups owed: please schedule"
    assert values == [str(b3), str(a3)]  # oldest first
    assert run(world, clock, NOW + timedelta(hours=1)) == minutes_jobs.MakeupRun(0, 0)
    # Outside working hours (Saturday) the reminder waits for Monday 08:00 Pacific.
    saturday = datetime(2026, 12, 19, 20, 0, tzinfo=UTC)
    assert run(world, clock, saturday + timedelta(days=3)).sent == 1  # Tue Dec 22: week 1
    slack.clear()
    svc.book_makeup(world, "U0P1", a3, "2026-12-29T17:30Z")
    result = run(world, clock, NOW + timedelta(days=14))
    # To P1: b3's week-2 reminder (a3 is booked), and a5, never marked since Dec 15, is new.
    # To M1: b3, unbooked for two weeks.
    assert result.sent == 2
    [(_, to_m1, m1_values), (_, to_p1, p1_values)] = sorted(dms(slack), key=lambda d: d[0])
    a5 = missed_id(world, "a5", "S1")
    assert (to_p1, p1_values) == ("2 make-ups owed: please schedule", [str(b3), str(a5)])
    assert to_m1 == "1 make-up still not scheduled after two weeks" and m1_values == []


def test_the_dm_names_students_by_initials(world: Deps) -> None:
    item = svc.MakeupItem(7, "T.E. (S1)", "slp", utc(2026, 12, 8, 17), 30, "Ana Reyes", 0)
    text, blocks = render_makeup(svc.MakeupMessage(False, "Ana Reyes", (item,)))
    assert "Tala" not in json.dumps(blocks) and "T.E. (S1)" in json.dumps(blocks)
    assert text == "1 make-up owed: please schedule"
