"""Services: weekly-slot dates that passed with nothing on file become sessions cancelled
``not_recorded``, and from then on are debts like any other: owed (across months), a make-up DM
once, the manager's views, the service log, paid back by a held make-up."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.deps import Deps
from bot.domain.minutes import Month
from bot.domain.sessions import session_key
from bot.services import minutes as minutes_svc
from bot.services.minutes_report import write_report
from bot.services.unrecorded import record_unrecorded, unrecorded_rows
from devtools.local_slack import LocalSlack
from jobs import minutes_jobs
from storage import minutes as q
from storage import models as m
from tests.services.caseload_seed import add_session, closed_days, utc
from tests.services.minutes_seed import NOW, seed_unrecorded

DEC = Month(2026, 12)
TS = m.TherapySession


@pytest.fixture
def world(deps: Deps, tmp_path: Path, clock: FixedClock, slack: LocalSlack) -> tuple[Deps, int]:
    """S2's OT (P2): a Tuesday 10:00-10:30 slot approved Fri Nov 20, and no session at all. By
    Tue Dec 15 11:00 Anchorage the grace is over for Nov 24, Dec 1 and Dec 8 (not Dec 15)."""
    slot = seed_unrecorded(deps, tmp_path, clock)
    slack.clear()
    return deps, slot


def s2_rows(deps: Deps) -> list[tuple[str, str, str | None, int]]:
    with deps.session_factory() as s:
        return [
            (r.session_key, r.status, r.cancel_reason, r.minutes)
            for r in s.query(TS).filter_by(student_id="S2").order_by(TS.starts_at)
        ]


def s2_line(deps: Deps) -> minutes_svc.MinutesLine:
    with deps.session_factory() as s:
        items = minutes_svc.month_minutes(s, q.Scope(), DEC, NOW, deps.settings)
    return next(i.line for i in items if i.student_id == "S2")


def test_passed_slot_dates_are_recorded_once_as_not_recorded(world: tuple[Deps, int]) -> None:
    deps, slot = world
    owed_before = s2_line(deps).owed  # the rule counted December's two dates already
    assert owed_before == 60
    assert record_unrecorded(deps, NOW) == 3
    keys = [session_key(slot, None, date(2026, m_, d)) for m_, d in ((11, 24), (12, 1), (12, 8))]
    assert s2_rows(deps) == [(k, "cancelled", "not_recorded", 30) for k in keys]
    with deps.session_factory() as s:
        row = s.query(TS).filter_by(session_key=keys[1]).one()
        assert (row.provider_id, row.starts_at, row.makeup) == ("P2", utc(2026, 12, 1, 19), False)
    assert record_unrecorded(deps, NOW) == 0  # the key is unique: a re-run adds nothing
    # November's debt is carried into December: Nov 24 + Dec 1 + Dec 8.
    line = s2_line(deps)
    assert line.owed == 90
    # The service log shows each as a missed slot.
    out = io.StringIO()
    write_report(deps, "anc", DEC, out)
    s2 = [r for r in out.getvalue().splitlines() if ",S2," in r]
    assert len(s2) == 2 and all(",cancelled,not_recorded," in r for r in s2)  # December's two


def test_closed_days_exits_and_dates_before_the_service_are_left_alone(
    world: tuple[Deps, int],
) -> None:
    deps, _ = world
    with deps.session_factory.begin() as s:
        s.add(closed_days(date(2026, 11, 23), date(2026, 11, 27)))
        service = s.query(m.StudentService).filter_by(student_id="S2").one()
        service.starts_on = date(2026, 11, 30)
        student = s.get(m.Student, "S2")
        assert student is not None
        student.exited_at = utc(2026, 12, 5, 20)
    with deps.session_factory() as s:
        rows = unrecorded_rows(s, NOW, deps.settings)
    # Nov 24 closed (and before the service starts), Dec 8 after the exit: only Dec 1.
    assert [r["starts_at"] for r in rows] == [utc(2026, 12, 1, 19)]


def test_a_recorded_date_gets_one_make_up_dm_and_a_held_make_up_clears_it(
    world: tuple[Deps, int], clock: FixedClock, slack: LocalSlack
) -> None:
    deps, _ = world
    run = minutes_jobs.run_once(deps, NOW)
    assert (run.recorded, run.sent) >= (3, 1)
    to_p2 = [
        c.params
        for c in slack.calls
        if c.method == "chat.postMessage" and c.params.get("channel") == "DU0P2"
    ]
    assert len(to_p2) == 1 and to_p2[0]["text"] == "3 make-ups owed: please schedule"
    blocks = to_p2[0]["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    buttons = [b["accessory"] for b in blocks if (b.get("accessory") or {}).get("value")]
    assert {b["action_id"] for b in buttons} == {"makeup_schedule"} and len(buttons) == 3
    slack.clear()
    assert minutes_jobs.run_once(deps, NOW + timedelta(hours=1)).sent == 0  # exactly once
    # The manager's view counts them with P2's make-ups.
    with deps.session_factory() as s:
        anc = s.get(m.District, "anc")
        assert anc is not None
        view = minutes_svc.district_minutes(s, anc, DEC, NOW, deps.settings)
    assert ("P2", 3, 90) in [(p.provider_id, p.count, p.minutes) for p in view.makeups]
    # A make-up for Dec 1, held: the debt drops by its 30 minutes, and it is no longer waiting.
    dec1 = int(buttons[1]["value"])
    add_session(deps, q.makeup_key(dec1, 0), "S2", utc(2026, 12, 14, 19), provider="P2",
                service="ot")  # fmt: skip
    with deps.session_factory.begin() as s:
        s.query(TS).filter_by(session_key=q.makeup_key(dec1, 0)).update({"makeup": True})
    assert s2_line(deps).owed == 60
    with deps.session_factory() as s:
        owed = minutes_svc.owed_makeups(s, q.Scope(), NOW, deps.settings)
    assert dec1 not in {o.session_id for o in owed}


def p2_dms(slack: LocalSlack) -> list[dict[str, object]]:
    return [
        c.params
        for c in slack.calls
        if c.method == "chat.postMessage" and c.params.get("channel") == "DU0P2"
    ]


@pytest.mark.parametrize("few", [500, 0])  # the students named in the query, or the scope read
def test_a_session_on_file_under_another_key_is_the_dates_session(
    world: tuple[Deps, int], slack: LocalSlack, monkeypatch: pytest.MonkeyPatch, few: int
) -> None:
    """Sessions imported from sessions.csv (their own ids) on every slot date, whatever their
    status: nothing is owed for the slot, nothing is written, no make-up DM."""
    deps, _ = world
    monkeypatch.setattr(q, "FEW_STUDENTS", few)
    add_session(deps, "csv-1", "S2", utc(2026, 11, 24, 19), provider="P2", service="ot")
    # Dec 1 17:00 in Anchorage is already Dec 2 in UTC: the school's date is what counts.
    add_session(deps, "csv-2", "S2", utc(2026, 12, 2, 2), provider="P2", service="ot",
                status="no_show")  # fmt: skip
    add_session(deps, "csv-3", "S2", utc(2026, 12, 8, 19), provider="P2", service="ot",
                status="scheduled", note_done_at=utc(2026, 12, 8, 20))  # fmt: skip
    line = s2_line(deps)
    assert (line.owed, line.delivered) == (0, 30)  # Dec 8's note; Dec 1 absent, not owed
    with deps.session_factory() as s:
        assert unrecorded_rows(s, NOW, deps.settings) == []
    run = minutes_jobs.run_once(deps, NOW)
    assert run.recorded == 0
    assert p2_dms(slack) == []
    assert [key for key, *_ in s2_rows(deps)] == ["csv-1", "csv-2", "csv-3"]
    assert s2_line(deps) == line


def test_only_the_dates_with_nothing_on_them_in_the_schools_zone_are_owed(
    world: tuple[Deps, int], slack: LocalSlack
) -> None:
    """Nov 24 has a session under another key; Dec 1 has one the day before in Anchorage (though
    the same day in UTC) and a make-up, neither of which is that date's session; Dec 8 has
    nothing. Dec 1 and Dec 8 are recorded not_recorded, and the DM offers those two."""
    deps, slot = world
    add_session(deps, "csv-1", "S2", utc(2026, 11, 24, 19), provider="P2", service="ot")
    add_session(deps, "csv-0", "S2", utc(2026, 12, 1, 8), provider="P2", service="ot")  # Nov 30
    add_session(deps, q.makeup_key(1, 0), "S2", utc(2026, 12, 1, 21), provider="P2",
                service="ot", status="cancelled")  # fmt: skip
    with deps.session_factory.begin() as s:
        s.query(TS).filter_by(session_key=q.makeup_key(1, 0)).update({"makeup": True})
    owed = s2_line(deps).owed
    assert owed == 60  # Dec 1 and Dec 8
    assert minutes_jobs.run_once(deps, NOW).recorded == 2
    dec = [session_key(slot, None, date(2026, 12, d)) for d in (1, 8)]
    with deps.session_factory() as s:
        written = s.query(TS).filter_by(cancel_reason="not_recorded").order_by(TS.starts_at)
        assert [r.session_key for r in written] == dec
        ids = {r.id for r in written}
    (dm,) = p2_dms(slack)
    blocks = dm["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    assert isinstance(blocks, list)
    offered = {int(b["accessory"]["value"]) for b in blocks if "value" in b.get("accessory", {})}
    assert offered == ids
    assert s2_line(deps).owed == owed  # the same debt, now as sessions


def test_a_closed_dates_own_session_does_not_stand_for_a_date_still_due(
    world: tuple[Deps, int],
) -> None:
    """The school closes Tue Dec 8 after its session was made, which is cancelled for it. That
    session is the slot's, but of a date no longer due: Dec 1, with nothing on file, is owed
    all the same (a count of the slot's sessions alone would take it for Dec 1's)."""
    deps, slot = world
    with deps.session_factory.begin() as s:
        s.add(closed_days(date(2026, 12, 8), date(2026, 12, 8)))
    closed = add_session(
        deps, session_key(slot, None, date(2026, 12, 8)), "S2", utc(2026, 12, 8, 19),
        provider="P2", service="ot", status="cancelled",
    )  # fmt: skip
    with deps.session_factory.begin() as s:
        row = s.get(TS, closed)
        assert row is not None
        row.cancel_reason = "school_closed"
    assert s2_line(deps).owed == 30  # Dec 1
    with deps.session_factory() as s:
        rows = unrecorded_rows(s, NOW, deps.settings)
    assert [r["starts_at"] for r in rows] == [utc(2026, 11, 24, 19), utc(2026, 12, 1, 19)]
