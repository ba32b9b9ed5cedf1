"""Services: licences, school calendars, availability and time off reach the sessions, on a real
database (the caseload seed: P1 Pacific SLP, Tue 08:00-11:00 PT; P2 Alaska OT whose AK licence
expires 2026-12-20; Anchorage closed Dec 21 - Jan 1; clock Mon 2026-11-30 17:00Z)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from bot.clock import FixedClock
from bot.deps import Deps
from bot.domain.vocabulary import CancelReason
from bot.services import availability, nudges
from bot.services import sessions as svc
from bot.services.availability import Preview
from bot.services.ports import DeliveryFailed
from bot.services.schedule_effects import ScheduleChanged
from bot.views.dm import render
from storage import models as m
from tests.services.caseload_seed import add_slot, seed
from tests.services.fake_notifier import FakeNotifier

TS = m.TherapySession


@pytest.fixture
def roster(deps: Deps, tmp_path: Path) -> Deps:
    return seed(deps, tmp_path)


def dated(deps: Deps, student: str = "S1") -> list[tuple[str, str, str | None]]:
    """(school-agnostic UTC date, status, cancel_reason) of a student's sessions, in order."""
    with deps.session_factory() as s:
        rows = s.execute(
            select(TS.starts_at, TS.status, TS.cancel_reason)
            .where(TS.student_id == student, TS.session_key.like("slot:%"))
            .order_by(TS.starts_at)
        ).all()
    return [(a.date().isoformat(), st, r) for a, st, r in rows]


def add_time_off(deps: Deps, clock: FixedClock, start: date, end: date) -> int:
    with deps.session_factory.begin() as s:
        row = m.TimeOff(provider_id="P1", start_date=start, end_date=end, created_at=clock.now())
        s.add(row)
        s.flush()
        return row.id


# --- licences ------------------------------------------------------------------------------


def test_no_sessions_after_a_licence_ends_mid_month_and_renewal_brings_them_back(
    roster: Deps, clock: FixedClock
) -> None:
    add_slot(roster, "S2", "ot", 0, "09:00", "09:45")  # Mon 09:00 Alaska, P2
    with roster.session_factory.begin() as s:
        s.execute(
            update(m.License)
            .where(m.License.provider_id == "P2")
            .values(expires_on=date(2026, 12, 5))
        )
    svc.generate_sessions(roster, clock.now())  # the window reaches Mon Nov 30 and Dec 7
    assert dated(roster, "S2") == [("2026-11-30", "scheduled", None)]
    with roster.session_factory.begin() as s:
        s.execute(
            update(m.License)
            .where(m.License.provider_id == "P2")
            .values(expires_on=date(2027, 6, 30))
        )
    svc.generate_sessions(roster, clock.now())
    assert [d for d, *_ in dated(roster, "S2")] == ["2026-11-30", "2026-12-07"]


def test_a_shortened_licence_removes_the_untouched_sessions_after_it(
    roster: Deps, clock: FixedClock
) -> None:
    add_slot(roster, "S2", "ot", 0, "09:00", "09:45")
    svc.generate_sessions(roster, clock.now())
    assert [d for d, *_ in dated(roster, "S2")] == ["2026-11-30", "2026-12-07"]
    with roster.session_factory.begin() as s:
        s.execute(
            update(m.License)
            .where(m.License.provider_id == "P2")
            .values(expires_on=date(2026, 12, 7))
        )
    svc.generate_sessions(roster, clock.now())
    assert [d for d, *_ in dated(roster, "S2")] == ["2026-11-30"]


# --- school calendars ----------------------------------------------------------------------


def test_no_sessions_on_closed_days_or_after_an_early_release(
    roster: Deps, clock: FixedClock
) -> None:
    add_slot(roster, "S1", "slp", 0, "12:15", "12:45")  # Mon afternoon, Alaska
    add_slot(roster, "S1", "slp", 1, "09:00", "09:30")  # Tue morning, Alaska
    with roster.session_factory.begin() as s:
        s.add(
            m.SchoolCalendarDay(
                district_id="anc", start_date=date(2026, 12, 7), end_date=date(2026, 12, 7),
                kind="closed",
            )
        )  # fmt: skip
        s.add(
            m.SchoolCalendarDay(
                school_id="SCH1", start_date=date(2026, 12, 1), end_date=date(2026, 12, 1),
                kind="early_release", ends_at_minute=9 * 60 + 15,
            )
        )  # fmt: skip
    svc.generate_sessions(roster, clock.now())
    assert [d for d, *_ in dated(roster)] == ["2026-11-30", "2026-12-08"]
    clock.advance(days=22)  # Tue Dec 22: the rest of the winter break, then Mon Jan 4
    svc.generate_sessions(roster, clock.now())
    assert [d for d, *_ in dated(roster)][2:] == ["2027-01-04"]


# --- time off ------------------------------------------------------------------------------


def test_time_off_cancels_with_provider_out_and_its_removal_restores(
    roster: Deps, clock: FixedClock
) -> None:
    add_slot(roster, "S1", "slp", 1, "09:00", "09:30")  # Tue 09:00 Alaska = 10:00 Pacific
    svc.generate_sessions(roster, clock.now())
    off = add_time_off(roster, clock, date(2026, 12, 8), date(2026, 12, 8))
    svc.generate_sessions(roster, clock.now())
    assert dated(roster) == [
        ("2026-12-01", "scheduled", None),
        ("2026-12-08", "cancelled", "provider_out"),
    ]
    with roster.session_factory.begin() as s:
        s.execute(delete(m.TimeOff).where(m.TimeOff.id == off))
    svc.generate_sessions(roster, clock.now())
    assert dated(roster) == [("2026-12-01", "scheduled", None), ("2026-12-08", "scheduled", None)]


def test_a_session_the_provider_cancelled_is_never_restored(
    roster: Deps, clock: FixedClock
) -> None:
    add_slot(roster, "S1", "slp", 1, "09:00", "09:30")
    svc.generate_sessions(roster, clock.now())
    with roster.session_factory() as s:
        first = s.scalars(select(TS.id).order_by(TS.starts_at).where(TS.student_id == "S1")).first()
    assert first is not None
    svc.mark_session(roster, "U0P1", first, "cancelled", CancelReason.PROVIDER)
    svc.generate_sessions(roster, clock.now())
    assert dated(roster)[0] == ("2026-12-01", "cancelled", "provider")


# --- availability and time off saves -------------------------------------------------------


def test_no_longer_tuesdays_names_the_student_and_dms_the_manager_once(
    roster: Deps, clock: FixedClock
) -> None:
    fake = FakeNotifier()
    deps = replace(roster, notifier_override=fake)
    add_slot(deps, "S1", "slp", 1, "09:00", "09:30")
    preview = availability.preview(deps, "U0P1", "no longer Tuesdays")
    assert isinstance(preview, Preview)
    [effect] = preview.effects.outside
    assert (effect.day, effect.start, effect.tz, effect.student_ids) == (
        1, 9 * 60, "America/Anchorage", ("S1",)
    )  # fmt: skip
    assert effect.students == ("T.E. (S1)",)
    saved = availability.save(deps, "U0P1", preview.pending_id)
    assert saved.effects.student_ids == ("S1",)
    [message] = fake.messages_to("U0M1")
    assert isinstance(message, ScheduleChanged)
    assert (message.provider, message.slots) == ("Ana Reyes", (effect,))
    text, blocks = render(message)
    assert "Tue 09:00 AKT, T.E. (S1)" in text
    assert [e["text"]["text"] for e in blocks[-1]["elements"]] == ["Find new times", "Keep for now"]
    with deps.session_factory() as s:
        change = s.get(m.PendingAction, message.change_id)
        assert change is not None and change.payload["services"] == [["S1", "slp"]]
    # Saving the same preview again, and the clock's delivery, tell nobody twice.
    assert availability.save(deps, "U0P1", preview.pending_id).already
    assert nudges.deliver(deps).messages == 0
    assert len(fake.sent) == 1


def test_a_failed_manager_dm_goes_out_with_the_clock_and_its_buttons(
    roster: Deps, clock: FixedClock
) -> None:
    fake = FakeNotifier()
    fake.fail_next(DeliveryFailed("slack down"))
    deps = replace(roster, notifier_override=fake)
    add_slot(deps, "S1", "slp", 1, "09:00", "09:30")
    preview = availability.preview(deps, "U0P1", "no longer Tuesdays")
    assert isinstance(preview, Preview)
    availability.save(deps, "U0P1", preview.pending_id)
    assert fake.sent == []
    clock.advance(minutes=5)
    assert nudges.deliver(deps).messages == 1
    [message] = fake.messages_to("U0M1")
    _, blocks = render(message)
    assert "Find new times" in str(blocks)


def test_an_unrelated_change_affects_nothing(roster: Deps, clock: FixedClock) -> None:
    add_slot(roster, "S1", "slp", 1, "09:00", "09:30")
    preview = availability.preview(roster, "U0P1", "add Fri 1-4")
    assert isinstance(preview, Preview)
    assert preview.effects.outside == () and preview.effects.cancelled == 0
    availability.save(roster, "U0P1", preview.pending_id)
    with roster.session_factory() as s:
        assert s.scalars(select(m.Nudge).where(m.Nudge.rule == "schedule_change")).all() == []


def test_out_over_a_session_cancels_it_and_undo_restores_it(
    roster: Deps, clock: FixedClock
) -> None:
    add_slot(roster, "S1", "slp", 1, "09:00", "09:30")
    svc.generate_sessions(roster, clock.now())
    preview = availability.preview(roster, "U0P1", "out Dec 8")
    assert isinstance(preview, Preview)
    assert preview.effects.cancelled == 1
    saved = availability.save(roster, "U0P1", preview.pending_id)
    assert saved.effects.cancelled == 1
    assert dated(roster) == [
        ("2026-12-01", "scheduled", None),
        ("2026-12-08", "cancelled", "provider_out"),
    ]
    availability.undo(roster, "U0P1", preview.pending_id)
    assert dated(roster)[1] == ("2026-12-08", "scheduled", None)


def test_time_off_further_out_counts_the_sessions_not_generated_yet(
    roster: Deps, clock: FixedClock
) -> None:
    add_slot(roster, "S1", "slp", 1, "09:00", "09:30")
    preview = availability.preview(roster, "U0P1", "out Jan 4 - Jan 15")
    assert isinstance(preview, Preview)
    assert preview.effects.cancelled == 2  # Tue Jan 5 and Jan 12
    availability.save(roster, "U0P1", preview.pending_id)
    clock.advance(days=35)  # the generator reaches January: those dates come cancelled
    svc.generate_sessions(roster, clock.now())
    assert [x for x in dated(roster) if x[0] >= "2027-01-05"] == [
        ("2027-01-05", "cancelled", "provider_out"),
        ("2027-01-12", "cancelled", "provider_out"),
    ]


def test_cancelling_time_off_previews_and_restores_the_sessions_still_ahead(
    roster: Deps, clock: FixedClock
) -> None:
    add_slot(roster, "S1", "slp", 1, "09:00", "09:30")
    first = availability.preview(roster, "U0P1", "out Dec 8")
    assert isinstance(first, Preview)
    availability.save(roster, "U0P1", first.pending_id)
    svc.generate_sessions(roster, clock.now())
    assert dated(roster)[1] == ("2026-12-08", "cancelled", "provider_out")
    again = availability.preview(roster, "U0P1", "cancel time off Dec 8")
    assert isinstance(again, Preview) and again.cancel_time_off
    assert again.effects.restored == 1
    saved = availability.save(roster, "U0P1", again.pending_id)
    assert saved.effects.restored == 1
    assert dated(roster)[1] == ("2026-12-08", "scheduled", None)


def test_partial_time_off_cancels_only_the_sessions_in_its_hours(
    roster: Deps, clock: FixedClock
) -> None:
    add_slot(roster, "S1", "slp", 1, "09:00", "09:30")  # 10:00 Pacific
    add_slot(roster, "S1", "slp", 0, "12:15", "12:45")  # Mon 13:15 Pacific
    svc.generate_sessions(roster, clock.now())
    preview = availability.preview(roster, "U0P1", "out Dec 7 - Dec 8 1-4 PT")
    assert isinstance(preview, Preview) and preview.time_off and preview.time_off.hours
    assert preview.effects.cancelled == 1
    availability.save(roster, "U0P1", preview.pending_id)
    assert [(d, st) for d, st, _ in dated(roster)] == [
        ("2026-11-30", "scheduled"),
        ("2026-12-01", "scheduled"),
        ("2026-12-07", "cancelled"),
        ("2026-12-08", "scheduled"),
    ]
