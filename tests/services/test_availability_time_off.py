"""Services: partial-day time off, cancelling time off, temporary schedules, replacing only the
days named, and "school time", on a real database."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.deps import Deps
from bot.services import availability as svc
from bot.services.errors import NotAllowed
from storage import models as m
from storage.roster import import_roster
from tests.storage.roster_files import write_roster

PT = "America/Los_Angeles"


@pytest.fixture
def roster(deps: Deps, tmp_path: Path) -> Deps:
    assert import_roster(write_roster(tmp_path / "r"), deps.session_factory).ok
    return deps


def preview(deps: Deps, text: str, user: str = "U0P1") -> svc.Preview:
    result = svc.preview(deps, user, text)
    assert isinstance(result, svc.Preview), result
    return result


def time_off(deps: Deps) -> list[tuple[date, date, int | None, int | None, str | None]]:
    with deps.session_factory() as s:
        rows = s.scalars(select(m.TimeOff).where(m.TimeOff.provider_id == "P1"))
        return sorted(
            (r.start_date, r.end_date, r.start_minute, r.end_minute, r.timezone) for r in rows
        )


def windows(deps: Deps) -> list[tuple[int, int, int, date | None, date | None]]:
    with deps.session_factory() as s:
        rows = s.scalars(
            select(m.AvailabilityWindow).where(m.AvailabilityWindow.provider_id == "P1")
        )
        found = [
            (r.day, r.start_minute, r.end_minute, r.effective_from, r.effective_to) for r in rows
        ]
        return sorted(found, key=lambda w: (w[0], w[1], w[3] or date.min))


def test_partial_day_time_off_is_saved_with_its_hours(roster: Deps) -> None:
    p = preview(roster, "out Dec 4 1-4 ET")
    assert p.time_off == svc.TimeOffSpan(
        date(2026, 12, 4), date(2026, 12, 4), ((780, 960),), "America/New_York"
    )
    svc.save(roster, "U0P1", p.pending_id)
    assert time_off(roster) == [
        (date(2026, 12, 4), date(2026, 12, 4), 780, 960, "America/New_York")
    ]
    assert windows(roster) == [(1, 480, 660, None, None)]  # weekly hours untouched


def test_cancel_time_off_removes_shortens_and_splits_and_undo_restores(roster: Deps) -> None:
    svc.save(roster, "U0P1", preview(roster, "out Dec 21 - Dec 31").pending_id)
    svc.save(roster, "U0P1", preview(roster, "out Dec 7").pending_id)
    whole = time_off(roster)

    p = preview(roster, "cancel time off Dec 7")
    assert p.cancel_time_off and p.time_off is not None
    saved = svc.save(roster, "U0P1", p.pending_id)
    assert saved.summary == "Time off cancelled."
    assert time_off(roster) == [(date(2026, 12, 21), date(2026, 12, 31), None, None, None)]

    split = preview(roster, "not out Dec 24 after all")
    svc.save(roster, "U0P1", split.pending_id)
    assert time_off(roster) == [
        (date(2026, 12, 21), date(2026, 12, 23), None, None, None),
        (date(2026, 12, 25), date(2026, 12, 31), None, None, None),
    ]
    svc.undo(roster, "U0P1", split.pending_id)
    svc.undo(roster, "U0P1", p.pending_id)
    assert time_off(roster) == whole


def test_back_earlier_shortens_the_stretch(roster: Deps) -> None:
    svc.save(roster, "U0P1", preview(roster, "out Dec 21 - Jan 3").pending_id)
    svc.save(roster, "U0P1", preview(roster, "back Dec 29 instead of Jan 4").pending_id)
    assert time_off(roster) == [(date(2026, 12, 21), date(2026, 12, 28), None, None, None)]


def test_temporary_schedule_ends_and_the_previous_week_returns(roster: Deps) -> None:
    p = preview(roster, "until Dec 18 M-F 7-11")
    assert p.effective_to == date(2026, 12, 18)
    saved = svc.save(roster, "U0P1", p.pending_id)
    assert "until Fri Dec 18" in saved.summary
    rows = windows(roster)
    today = p.effective_from
    assert today is not None
    assert [r for r in rows if r[4] == date(2026, 12, 18)] == [
        (d, 420, 660, today, date(2026, 12, 18)) for d in range(5)
    ]
    assert (1, 480, 660, date(2026, 12, 19), None) in rows  # Tuesday 8-11 comes back


def test_replace_that_drops_days_names_them_and_change_only_keeps_them(roster: Deps) -> None:
    svc.save(roster, "U0P1", preview(roster, "add Thu 1-4").pending_id)
    p = preview(roster, "Tue 9-12")
    assert p.dropped_days == (3,) and p.named_days == (1,)
    svc.save(roster, "U0P1", p.pending_id, only_named_days=True)
    assert windows(roster) == [(1, 540, 720, None, None), (3, 780, 960, None, None)]


def test_instead_of_changes_only_that_day(roster: Deps) -> None:
    svc.save(roster, "U0P1", preview(roster, "add Wed 9-12").pending_id)
    p = preview(roster, "Wed 1-4 instead of 9-12")
    assert p.dropped_days == ()
    svc.save(roster, "U0P1", p.pending_id)
    assert windows(roster) == [(1, 480, 660, None, None), (2, 780, 960, None, None)]


def test_a_preview_that_changes_nothing_says_so(roster: Deps) -> None:
    assert preview(roster, "add Tue 9-10").unchanged


def test_school_time_is_the_zone_of_the_providers_schools(roster: Deps) -> None:
    p = preview(roster, "Tue 8-11 school time")  # P1's one school is in Anchorage
    svc.save(roster, "U0P1", p.pending_id)
    with roster.session_factory() as s:
        zones = set(s.scalars(select(m.AvailabilityWindow.timezone)))
    assert zones == {"America/Anchorage"}


def test_the_time_off_list_cancel_button_previews_cancelling_that_stretch(roster: Deps) -> None:
    svc.save(roster, "U0P1", preview(roster, "out Dec 21 - Dec 23").pending_id)
    listed = svc.show(roster, "U0P1").time_off
    assert len(listed) == 1 and listed[0].id is not None
    p = svc.preview_cancel_time_off(roster, "U0P1", listed[0].id)
    assert p.cancel_time_off and p.time_off == svc.TimeOffSpan(
        date(2026, 12, 21), date(2026, 12, 23)
    )
    with pytest.raises(NotAllowed):
        svc.preview_cancel_time_off(roster, "U0P2", listed[0].id)  # another provider's
    svc.save(roster, "U0P1", p.pending_id)
    assert time_off(roster) == []


def test_undo_in_a_dm_undoes_the_last_saved_change(roster: Deps) -> None:
    assert svc.undo_last(roster, "U0P1") is None
    svc.save(roster, "U0P1", preview(roster, "add Fri 1-4").pending_id)
    undone = svc.undo_last(roster, "U0P1")
    assert undone is not None and not undone.already
    assert windows(roster) == [(1, 480, 660, None, None)]
