"""Services: when a manager saves a change to a provider's hours or time off, the provider gets a
DM with the before → after; once, now, or from the clock process when Slack failed."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.deps import Deps
from bot.domain.schedule import WeeklyWindow
from bot.services import availability as svc
from bot.services import nudges
from bot.services.hours_notice import HoursChanged
from bot.services.ports import DeliveryFailed
from bot.views.dm import render
from storage import models as m
from storage.roster import import_roster
from tests.services.fake_notifier import FakeNotifier
from tests.storage.roster_files import write_roster

LA = "America/Los_Angeles"


@pytest.fixture
def fake() -> FakeNotifier:
    return FakeNotifier()


@pytest.fixture
def roster(deps: Deps, fake: FakeNotifier, tmp_path: Path) -> Deps:
    assert import_roster(write_roster(tmp_path / "r"), deps.session_factory).ok
    return replace(deps, notifier_override=fake)


def _save(deps: Deps, user: str, text: str, target: str | None = None) -> svc.Saved:
    p = svc.preview(deps, user, text, target)
    assert isinstance(p, svc.Preview), p
    return svc.save(deps, user, p.pending_id)


def _notices(fake: FakeNotifier, user: str = "U0P1") -> list[HoursChanged]:
    return [x for x in fake.messages_to(user) if isinstance(x, HoursChanged)]


def test_a_managers_change_reaches_the_provider_with_before_and_after(
    roster: Deps, fake: FakeNotifier
) -> None:
    saved = _save(roster, "U0M1", "Thu 10-2", target="U0P1")
    assert saved.view.on_behalf
    [dm] = _notices(fake)
    assert dm.manager == "Mia Park" and dm.tz == LA
    assert dm.before == ((None, (WeeklyWindow(1, 480, 660, LA),)),)
    assert dm.after == ((None, (WeeklyWindow(3, 600, 840, LA),)),)
    assert dm.week_changed and not dm.time_off_changed
    text, blocks = render(dm)
    assert text == "Mia Park changed your hours."
    shown = str(blocks)
    assert "*Before*" in shown and "*After*" in shown and "in Pacific time" in shown
    assert "Tue" in shown and "Thu" in shown
    # The manager is not told about themselves, and nothing else went out.
    assert [u for u, _, _ in fake.sent] == ["U0P1"]


def test_a_providers_own_change_sends_them_nothing(roster: Deps, fake: FakeNotifier) -> None:
    _save(roster, "U0P1", "Thu 10-2")
    assert _notices(fake) == []


def test_time_off_set_by_a_manager_is_shown_as_time_off(roster: Deps, fake: FakeNotifier) -> None:
    _save(roster, "U0M1", "out Dec 23 - Jan 2", target="U0P1")
    [dm] = _notices(fake)
    assert dm.time_off_changed and not dm.week_changed
    assert [(t.start, t.end) for t in dm.time_off_after] == [(date(2026, 12, 23), date(2027, 1, 2))]
    text, blocks = render(dm)
    assert text == "Mia Park changed your time off."
    assert "Time off now" in str(blocks) and "Dec 23" in str(blocks)


def test_saving_twice_sends_one_dm_and_undo_sends_the_way_back(
    roster: Deps, fake: FakeNotifier
) -> None:
    p = svc.preview(roster, "U0M1", "Thu 10-2", "U0P1")
    assert isinstance(p, svc.Preview)
    svc.save(roster, "U0M1", p.pending_id)
    assert svc.save(roster, "U0M1", p.pending_id).already
    assert len(_notices(fake)) == 1
    undone = svc.undo(roster, "U0M1", p.pending_id)
    assert undone.view.on_behalf  # the manager sees whose week is back
    first, back = _notices(fake)
    assert (back.before, back.after) == (first.after, first.before)
    assert svc.undo(roster, "U0M1", p.pending_id).already
    assert len(_notices(fake)) == 2


def test_a_failed_send_goes_out_with_the_providers_next_reminders(
    roster: Deps, fake: FakeNotifier, clock: FixedClock
) -> None:
    fake.fail_next(DeliveryFailed("chat.postMessage failed: ratelimited"))
    _save(roster, "U0M1", "Thu 10-2", target="U0P1")
    assert _notices(fake) == []
    with roster.session_factory() as s:
        row = s.scalars(select(m.Nudge).where(m.Nudge.rule == "hours_changed")).one()
        assert (row.recipient_kind, row.recipient_id, row.sent_at) == ("provider", "P1", None)
    for _ in range(48):  # until the provider's working hours come round
        if nudges.deliver(roster).messages:
            break
        clock.advance(minutes=30)
    [reminder] = [x for x in fake.messages_to("U0P1") if isinstance(x, nudges.NudgeMessage)]
    [notice] = reminder.notices
    assert isinstance(notice, HoursChanged) and notice.manager == "Mia Park"
    text, _ = render(reminder)
    assert "1 change to your hours" in text and "new assignment" not in text
    clock.advance(minutes=30)
    assert nudges.deliver(roster).messages == 0  # exactly once
