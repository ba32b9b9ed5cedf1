"""Services: dated sessions from slots (14 days, idempotent, time off, school hours, groups) and
a provider marking a session, on a real database."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.deps import Deps
from bot.domain.vocabulary import CancelReason
from bot.services import sessions as svc
from bot.services.errors import Conflict, InvalidInput, NotAllowed
from storage import models as m
from tests.services.caseload_seed import add_session, add_slot, seed, utc

TS = m.TherapySession


@pytest.fixture
def roster(deps: Deps, tmp_path: Path) -> Deps:
    return seed(deps, tmp_path)


def sessions(deps: Deps) -> list[tuple[str, str, str, str, int]]:
    with deps.session_factory() as s:
        rows = s.execute(
            select(
                TS.session_key, TS.student_id, TS.provider_id, TS.starts_at, TS.minutes
            ).order_by(TS.starts_at, TS.student_id)
        ).all()
    return [(k, st, p, a.isoformat(), n) for k, st, p, a, n in rows]


def test_next_14_days_from_a_weekly_slot_then_nothing_twice(
    roster: Deps, clock: FixedClock
) -> None:
    slot = add_slot(roster, "S1", "slp", 1, "09:00", "09:30")  # Tue 09:00 Alaska
    assert svc.generate_sessions(roster, clock.now()) == 2
    assert sessions(roster) == [
        (f"slot:{slot}:2026-12-01", "S1", "P1", "2026-12-01T18:00:00+00:00", 30),
        (f"slot:{slot}:2026-12-08", "S1", "P1", "2026-12-08T18:00:00+00:00", 30),
    ]
    assert svc.generate_sessions(roster, clock.now()) == 0
    clock.advance(days=7)  # a week later the window reaches one more Tuesday
    assert svc.generate_sessions(roster, clock.now()) == 1
    assert len(sessions(roster)) == 3


def test_group_slot_shares_one_key_with_a_row_per_student(roster: Deps, clock: FixedClock) -> None:
    add_slot(roster, "S1", "slp", 1, "10:00", "10:30", group="g1:100")
    add_slot(roster, "S3", "slp", 1, "10:00", "10:30", group="g1:100")
    assert svc.generate_sessions(roster, clock.now()) == 4
    rows = sessions(roster)
    assert {(k, st) for k, st, *_ in rows} == {
        ("group:g1:100:2026-12-01", "S1"),
        ("group:g1:100:2026-12-01", "S3"),
        ("group:g1:100:2026-12-08", "S1"),
        ("group:g1:100:2026-12-08", "S3"),
    }
    assert svc.generate_sessions(roster, clock.now()) == 0


def test_slot_outside_school_hours_that_day_is_skipped(roster: Deps, clock: FixedClock) -> None:
    add_slot(roster, "S1", "slp", 0, "11:15", "11:45")  # Mon: runs into the lunch gap
    add_slot(roster, "S1", "slp", 3, "09:00", "09:30")  # Thu: no school hours at all
    add_slot(roster, "S1", "slp", 0, "12:15", "12:45")  # Mon afternoon window: fine
    assert svc.generate_sessions(roster, clock.now()) == 2
    assert {a[11:16] for _, _, _, a, _ in sessions(roster)} == {"21:15"}


def statuses(deps: Deps) -> list[tuple[str, str, str | None]]:
    with deps.session_factory() as s:
        rows = s.execute(select(TS.starts_at, TS.status, TS.cancel_reason).order_by(TS.starts_at))
        return [(a.date().isoformat(), st, r) for a, st, r in rows]


def test_time_off_dates_come_cancelled_and_later_time_off_cancels_untouched_sessions(
    roster: Deps, clock: FixedClock
) -> None:
    add_slot(roster, "S1", "slp", 1, "09:00", "09:30")
    add_slot(roster, "S1", "slp", 0, "09:00", "09:30")
    with roster.session_factory.begin() as s:
        s.add(
            m.TimeOff(
                provider_id="P1",
                start_date=date(2026, 12, 7),
                end_date=date(2026, 12, 8),
                created_at=clock.now(),
            )
        )
    # Mon Nov 30 09:00 Alaska is still ahead at 08:00; Dec 7 and 8 are off (cancelled, owed to
    # the student, no note asked); Dec 14 09:00 is past the 14 days.
    assert svc.generate_sessions(roster, clock.now()) == 4
    assert statuses(roster)[-4:] == [
        ("2026-11-30", "scheduled", None),
        ("2026-12-01", "scheduled", None),
        ("2026-12-07", "cancelled", "provider_out"),
        ("2026-12-08", "cancelled", "provider_out"),
    ]
    assert svc.generate_sessions(roster, clock.now()) == 0

    # Time off taken after generation: Nov 30 (cancelled by hand) stays as it is, Dec 1 is
    # cancelled for the time off.
    with roster.session_factory.begin() as s:
        s.execute(
            TS.__table__.update()
            .where(TS.starts_at < utc(2026, 12, 1), TS.starts_at > clock.now())
            .values(status="cancelled", cancel_reason="provider")
        )
        s.add(
            m.TimeOff(
                provider_id="P1",
                start_date=date(2026, 11, 30),
                end_date=date(2026, 12, 31),
                created_at=clock.now(),
            )
        )
    assert svc.generate_sessions(roster, clock.now()) == 0
    assert statuses(roster)[-4:-2] == [
        ("2026-11-30", "cancelled", "provider"),
        ("2026-12-01", "cancelled", "provider_out"),
    ]


def test_concurrent_runs_create_each_session_once(roster: Deps, clock: FixedClock) -> None:
    add_slot(roster, "S1", "slp", 1, "09:00", "09:30")
    add_slot(roster, "S3", "slp", 0, "12:15", "12:45")
    results: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(svc.generate_sessions(roster, clock.now()))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(results) == 4
    with roster.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(TS)) == 4


def test_imported_and_past_sessions_are_never_touched(roster: Deps, clock: FixedClock) -> None:
    add_session(roster, "DS1", "S1", clock.now() + timedelta(days=2), status="scheduled")
    add_session(roster, "slot:999:2026-11-23", "S1", clock.now() - timedelta(days=7))
    svc.generate_sessions(roster, clock.now())
    assert {k for k, *_ in sessions(roster)} == {"DS1", "slot:999:2026-11-23"}


# --- marking -------------------------------------------------------------------------------


@pytest.fixture
def past(roster: Deps, clock: FixedClock) -> int:
    return add_session(roster, "K1", "S1", clock.now() - timedelta(days=1), status="scheduled")


def status_of(deps: Deps, session_id: int) -> str:
    with deps.session_factory() as s:
        row = s.get(TS, session_id)
        assert row is not None
        return row.status


def test_provider_marks_own_session_and_it_is_audited(roster: Deps, past: int) -> None:
    marked = svc.mark_session(roster, "U0P1", past, "no_show")
    assert (marked.status, marked.already) == ("no_show", False)
    assert status_of(roster, past) == "no_show"
    assert svc.mark_session(roster, "U0P1", past, "no_show").already
    with roster.session_factory() as s:
        audit = s.scalars(select(m.AuditLog).where(m.AuditLog.action == "session.mark")).one()
    assert (audit.actor, audit.subject_id, audit.before, audit.after) == (
        "provider:P1",
        str(past),
        {"status": "scheduled"},
        {"status": "no_show"},
    )


def test_a_cancellation_records_who_cancelled(roster: Deps, past: int) -> None:
    marked = svc.mark_session(roster, "U0P1", past, "cancelled", CancelReason.SCHOOL)
    assert (marked.status, marked.reason, marked.already) == ("cancelled", "school", False)
    assert svc.mark_session(roster, "U0P1", past, "cancelled", CancelReason.SCHOOL).already
    changed = svc.mark_session(roster, "U0P1", past, "cancelled", CancelReason.PROVIDER)
    assert (changed.reason, changed.already) == ("provider", False)
    with roster.session_factory() as s:
        row = s.get(TS, past)
        assert row is not None and (row.status, row.cancel_reason) == ("cancelled", "provider")
    svc.mark_session(roster, "U0P1", past, "held")
    with roster.session_factory() as s:
        row = s.get(TS, past)
        assert row is not None and (row.status, row.cancel_reason) == ("held", None)
    # Time off, closures and exits are recorded by the bot, not chosen from the menu.
    for reason in (CancelReason.PROVIDER_OUT, CancelReason.SCHOOL_CLOSED, "weather"):
        with pytest.raises(InvalidInput):
            svc.mark_session(roster, "U0P1", past, "cancelled", reason)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("user", "message"),
    [
        ("U0P2", "Only the session's own provider can mark it."),  # another provider
        ("U0M1", "Only the session's own provider can mark it."),  # a manager
        ("U0NOBODY", "I don't have you in the roster"),  # unknown Slack user
    ],
)
def test_only_the_sessions_provider_may_mark_it(
    roster: Deps, past: int, user: str, message: str
) -> None:
    with pytest.raises(NotAllowed, match=message):
        svc.mark_session(roster, user, past, "held")
    assert status_of(roster, past) == "scheduled"


def test_future_sessions_can_only_be_cancelled(roster: Deps, clock: FixedClock) -> None:
    later = add_session(roster, "K2", "S1", clock.now() + timedelta(days=1), status="scheduled")
    with pytest.raises(InvalidInput, match="hasn't started yet"):
        svc.mark_session(roster, "U0P1", later, "held")
    assert (
        svc.mark_session(roster, "U0P1", later, "cancelled", CancelReason.PROVIDER).status
        == "cancelled"
    )
    with roster.session_factory() as s:
        row = s.get(TS, later)
        assert row is not None
        assert (row.cancel_reason, row.makeup) == ("provider", False)


def test_documented_session_stays_held(roster: Deps, clock: FixedClock) -> None:
    done = add_session(
        roster, "K3", "S1", clock.now() - timedelta(days=3), note_done_at=clock.now()
    )
    with pytest.raises(Conflict, match="already written"):
        svc.mark_session(roster, "U0P1", done, "cancelled", CancelReason.PROVIDER)
    with pytest.raises(InvalidInput):
        svc.mark_session(roster, "U0P1", done, "deleted")


def test_a_missing_session_and_someone_elses_get_the_same_answer(roster: Deps, past: int) -> None:
    with pytest.raises(NotAllowed) as missing:
        svc.mark_session(roster, "U0P2", 424242, "held")
    with pytest.raises(NotAllowed) as other:
        svc.mark_session(roster, "U0P2", past, "held")
    assert missing.value.message == other.value.message
