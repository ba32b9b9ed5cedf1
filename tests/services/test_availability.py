"""Services: availability previews, saves, undo, effective dates, permissions, on a real DB."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from bot.clock import FixedClock
from bot.deps import Deps
from bot.services import availability as svc
from bot.services.errors import Conflict, NotAllowed, NotFound
from storage import models as m
from storage.roster import import_roster
from tests.storage.roster_files import write_roster


@pytest.fixture
def roster(deps: Deps, tmp_path: Path) -> Deps:
    assert import_roster(write_roster(tmp_path / "r"), deps.session_factory).ok
    return deps


def windows(
    deps: Deps, provider: str = "P1"
) -> list[tuple[int, int, int, str, date | None, date | None]]:
    with deps.session_factory() as s:
        rows = s.scalars(
            select(m.AvailabilityWindow).where(m.AvailabilityWindow.provider_id == provider)
        )
        return sorted(
            (r.day, r.start_minute, r.end_minute, r.timezone, r.effective_from, r.effective_to)
            for r in rows
        )


def preview(deps: Deps, text: str, user: str = "U0P1", target: str | None = None) -> svc.Preview:
    result = svc.preview(deps, user, text, target)
    assert isinstance(result, svc.Preview), result
    return result


def test_replace_preview_then_save_then_undo(roster: Deps) -> None:
    p = preview(roster, "M/W 8-12, Fri 1-4")
    assert [str(w.day) for w in p.before] == ["1"]
    assert [(w.day, w.start, w.end) for w in p.after] == [
        (0, 480, 720),
        (2, 480, 720),
        (4, 780, 960),
    ]
    assert "read 1-4 as 1 pm–4 pm" in p.assumptions
    assert p.school_zones == ("America/Anchorage",)  # P1 serves an Anchorage school
    assert windows(roster) == [(1, 480, 660, "America/Los_Angeles", None, None)]  # not saved yet

    saved = svc.save(roster, "U0P1", p.pending_id)
    assert not saved.already
    assert [(w[0], w[1], w[2]) for w in windows(roster)] == [
        (0, 480, 720),
        (2, 480, 720),
        (4, 780, 960),
    ]
    with roster.session_factory() as s:
        audit = s.scalars(select(m.AuditLog)).one()
    assert (audit.actor, audit.action, audit.subject_id) == (
        "provider:P1",
        "availability.replace",
        "P1",
    )
    assert audit.before == {
        "windows": [[1, 480, 660, "America/Los_Angeles", None, None]],
        "time_off": [],
    }
    assert len(audit.after["windows"]) == 3  # type: ignore[index]

    again = svc.save(roster, "U0P1", p.pending_id)
    assert again.already
    assert len(windows(roster)) == 3

    undone = svc.undo(roster, "U0P1", p.pending_id)
    assert not undone.already
    assert windows(roster) == [(1, 480, 660, "America/Los_Angeles", None, None)]
    assert svc.undo(roster, "U0P1", p.pending_id).already


def test_message_zone_is_kept_and_shown_in_the_providers_zone(roster: Deps) -> None:
    p = preview(roster, "Tue 11-2 ET")
    assert [(w.day, w.start, w.end, w.tz) for w in p.after] == [
        (1, 480, 660, "America/Los_Angeles")
    ]
    svc.save(roster, "U0P1", p.pending_id)
    assert windows(roster) == [(1, 660, 840, "America/New_York", None, None)]


def test_remove_and_add(roster: Deps) -> None:
    svc.save(roster, "U0P1", preview(roster, "add Thu 8-5").pending_id)
    p = preview(roster, "no longer available Thursdays after 2")
    assert [(w.day, w.start, w.end) for w in p.after] == [(1, 480, 660), (3, 480, 840)]
    svc.save(roster, "U0P1", p.pending_id)
    assert [(w[0], w[1], w[2]) for w in windows(roster)] == [(1, 480, 660), (3, 480, 840)]


def test_effective_date_keeps_this_week_and_switches_later(roster: Deps, clock: FixedClock) -> None:
    p = preview(roster, "starting Jan 4 M-F 9-3")
    assert p.effective_from == date(2027, 1, 4)
    saved = svc.save(roster, "U0P1", p.pending_id)
    assert [(w.day, w.start) for w in saved.view.windows] == [(1, 480)]  # today: unchanged
    assert [d for d, _ in saved.view.upcoming] == [date(2027, 1, 4)]
    pt = "America/Los_Angeles"
    jan3, jan4 = date(2027, 1, 3), date(2027, 1, 4)
    assert windows(roster) == [
        (0, 540, 900, pt, jan4, None),
        (1, 480, 660, pt, None, jan3),  # the old Tuesday ends the day before the change
        (1, 540, 900, pt, jan4, None),
        (2, 540, 900, pt, jan4, None),
        (3, 540, 900, pt, jan4, None),
        (4, 540, 900, pt, jan4, None),
    ]
    clock.at = datetime(2027, 1, 5, 18, tzinfo=UTC)
    view = svc.show(roster, "U0P1")
    assert [(w.day, w.start, w.end) for w in view.windows] == [(d, 540, 900) for d in range(5)]
    assert view.upcoming == ()


def test_time_off_saved_and_listed_then_undone(roster: Deps) -> None:
    p = preview(roster, "out Dec 23 - Jan 2")
    assert p.time_off == svc.TimeOffSpan(date(2026, 12, 23), date(2027, 1, 2))
    saved = svc.save(roster, "U0P1", p.pending_id)
    assert saved.view.time_off == (svc.TimeOffSpan(date(2026, 12, 23), date(2027, 1, 2)),)
    svc.undo(roster, "U0P1", p.pending_id)
    with roster.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(m.TimeOff)) == 0


def test_stale_preview_is_not_saved(roster: Deps) -> None:
    first = preview(roster, "Tue 9-12")
    second = preview(roster, "Wed 9-12")
    svc.save(roster, "U0P1", second.pending_id)
    with pytest.raises(Conflict, match="changed since this preview"):
        svc.save(roster, "U0P1", first.pending_id)
    assert [(w[0], w[1]) for w in windows(roster)] == [(2, 540)]


def test_undo_after_a_later_change_is_refused(roster: Deps) -> None:
    first = preview(roster, "Tue 9-12")
    svc.save(roster, "U0P1", first.pending_id)
    svc.save(roster, "U0P1", preview(roster, "add Fri 1-4").pending_id)
    with pytest.raises(Conflict, match="changed again"):
        svc.undo(roster, "U0P1", first.pending_id)


def test_cancel_then_save_is_refused(roster: Deps) -> None:
    p = preview(roster, "Tue 9-12")
    assert svc.cancel(roster, "U0P1", p.pending_id)
    assert not svc.cancel(roster, "U0P1", p.pending_id)
    with pytest.raises(Conflict, match="cancelled"):
        svc.save(roster, "U0P1", p.pending_id)


def test_question_comes_back_and_nothing_is_stored(roster: Deps) -> None:
    result = svc.preview(roster, "U0P1", "can you move my 2pm with J to Thursday?")
    assert isinstance(result, svc.Question) and result.question
    with roster.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(m.PendingAction)) == 0


def test_show_intent_returns_the_schedule(roster: Deps) -> None:
    result = svc.preview(roster, "U0P1", "what do I have")
    assert isinstance(result, svc.ScheduleView)
    assert [(w.day, w.start, w.end) for w in result.windows] == [(1, 480, 660)]


def test_permissions(roster: Deps) -> None:
    with pytest.raises(NotAllowed, match="only change your own"):
        svc.preview(roster, "U0P2", "Tue 8-11", target_slack_id="U0P1")
    with pytest.raises(NotAllowed, match="roster"):
        svc.preview(roster, "U0NOBODY", "Tue 8-11")
    with pytest.raises(NotFound):
        svc.preview(roster, "U0M1", "Tue 8-11", target_slack_id="U0XYZ")
    p = preview(roster, "Wed 8-11", user="U0P1")
    with pytest.raises(NotAllowed, match="Only the person who asked"):
        svc.save(roster, "U0P2", p.pending_id)
    assert windows(roster)[0][0] == 1


def test_manager_edits_a_provider_and_the_audit_names_the_manager(roster: Deps) -> None:
    p = preview(roster, "Thu 10-2", user="U0M1", target="U0P1")
    assert p.on_behalf and p.provider_name == "Ana Reyes"
    svc.save(roster, "U0M1", p.pending_id)
    with roster.session_factory() as s:
        audit = s.scalars(select(m.AuditLog)).one()
    assert (audit.actor, audit.subject_id) == ("manager:M1", "P1")


def test_concurrent_double_click_saves_once(roster: Deps) -> None:
    p = preview(roster, "add Fri 1-4")
    results: list[object] = []
    barrier = threading.Barrier(4)

    def click() -> None:
        barrier.wait()
        try:
            results.append(svc.save(roster, "U0P1", p.pending_id))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            results.append(exc)

    threads = [threading.Thread(target=click) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    fresh = [r for r in results if isinstance(r, svc.Saved) and not r.already]
    assert len(fresh) == 1, results
    assert all(isinstance(r, svc.Saved | Conflict) for r in results), results
    assert [(w[0], w[1]) for w in windows(roster)] == [(1, 480), (4, 780)]
    with roster.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(m.AuditLog)) == 1


@pytest.fixture
def slow_statements(roster: Deps) -> Iterator[None]:
    """Every SQL statement waits 2 ms first, so concurrent transactions really interleave (a
    real server's network round trips do the same); without it the GIL runs them in turn."""

    def pause(*_args: object) -> None:
        time.sleep(0.002)

    engine = roster.session_factory.kw["bind"]
    event.listen(engine, "before_cursor_execute", pause)
    yield
    event.remove(engine, "before_cursor_execute", pause)


def _at_once(calls: list[Callable[[], object]], stagger: float = 0.0) -> list[object]:
    """Runs the calls on threads released together (the i-th after i * stagger seconds, as real
    clicks arrive spread out); returns each result or exception."""
    results: list[object] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(index: int) -> None:
        barrier.wait()
        time.sleep(index * stagger)
        try:
            results[index] = calls[index]()
        except Exception as exc:  # noqa: BLE001 - collected and asserted by the caller
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.usefixtures("slow_statements")
def test_twenty_clicks_on_one_save_are_all_told_saved(roster: Deps) -> None:
    p = preview(roster, "add Fri 1-4")
    results = _at_once([lambda: svc.save(roster, "U0P1", p.pending_id)] * 20, stagger=0.004)
    assert all(isinstance(r, svc.Saved) for r in results), results
    assert sum(1 for r in results if isinstance(r, svc.Saved) and not r.already) == 1
    assert [(w[0], w[1]) for w in windows(roster)] == [(1, 480), (4, 780)]
    with roster.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(m.AuditLog)) == 1


@pytest.mark.usefixtures("slow_statements")
def test_two_previews_saved_at_the_same_instant_the_second_is_refused(roster: Deps) -> None:
    first = preview(roster, "add Mon 1-4")
    second = preview(roster, "add Wed 1-4")
    results = _at_once(
        [
            lambda: svc.save(roster, "U0P1", first.pending_id),
            lambda: svc.save(roster, "U0P1", second.pending_id),
        ]
    )
    saved = [r for r in results if isinstance(r, svc.Saved)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(saved) == 1 and len(refused) == 1, results
    assert "changed since this preview" in str(refused[0])
    added = 0 if saved[0].pending_id == first.pending_id else 2
    assert [(w[0], w[1]) for w in windows(roster)] == sorted([(1, 480), (added, 780)])
    with roster.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(m.AuditLog)) == 1
