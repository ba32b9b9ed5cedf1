"""Services: month minutes on a real database (required, delivered, owed, make-ups)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete

from bot.clock import FixedClock
from bot.deps import Deps
from bot.domain.minutes import Month
from bot.domain.sessions import session_key
from bot.domain.vocabulary import CancelReason
from bot.services import minutes as svc
from bot.services import sessions as sessions_svc
from bot.services.errors import InvalidInput, NotAllowed
from bot.services.home import home_for
from storage import minutes as q
from storage import models as m
from storage.roster import import_roster
from tests.services.caseload_seed import (
    ASSIGNED,
    NO_SESSIONS,
    SERVICES,
    STUDENTS,
    add_session,
    add_slot,
    closed_days,
    utc,
)
from tests.services.minutes_seed import NOW, seed_minutes
from tests.storage.roster_files import VALID, write_roster

DEC = Month(2026, 12)


@pytest.fixture
def minutes_deps(deps: Deps, tmp_path: Path, clock: FixedClock) -> Deps:
    return seed_minutes(deps, tmp_path, clock)


def _lines(deps: Deps, scope: q.Scope | None = None) -> dict[tuple[str, str], svc.StudentMinutes]:
    with deps.session_factory() as s:
        items = svc.month_minutes(s, scope or q.Scope(), DEC, NOW, deps.settings)
    return {(i.student_id, i.service): i for i in items}


def test_month_minutes_counts_held_group_owed_and_unmarked(minutes_deps: Deps) -> None:
    lines = _lines(minutes_deps)
    s1 = lines[("S1", "slp")].line
    # 2 x 30 a week over two school days a week: 30 per open day; December has 5 open days
    # (Dec 21 - Jan 1 is the district's winter break).
    # Due so far follows the sessions: Dec 1 (the partial first week, a 30 share) held 30;
    # Dec 7-8 is a whole week whose grace is over: 60 in full; this week (Dec 14-15) settled
    # 60 (the school's cancellation is due, as in a whole week; today's is still to come).
    assert (s1.required, s1.required_to_date) == (150, 150)
    # Held Dec 1, Dec 7 and the group on Dec 14; Dec 8 cancelled by the provider is owed,
    # Dec 14 cancelled by the school is not.
    assert (s1.delivered, s1.owed, s1.status) == (90, 30, "behind")
    s3 = lines[("S3", "slp")].line
    # Held Dec 1, Dec 8 and the group; Dec 7 was never marked and its grace is over: owed.
    # Due: 15 (Dec 1's share) + 30 (Dec 7-8, whole) + 30 (the group this week).
    assert (s3.required_to_date, s3.delivered, s3.owed, s3.status) == (75, 90, 30, "on track")
    s2 = lines[("S2", "ot")].line
    # No session at all: Dec 7-8 was a whole week, so its 45 are due: behind for a real reason.
    assert (s2.required_to_date, s2.delivered, s2.owed, s2.status) == (45, 0, 0, "behind")
    assert lines[("S2", "ot")].provider_id == "P2"


def test_a_held_make_up_pays_back_the_debt(minutes_deps: Deps) -> None:
    with minutes_deps.session_factory() as s:
        missed = s.query(m.TherapySession).filter_by(session_key="a3").one().id
        owed = svc.owed_makeups(s, q.Scope(), NOW, minutes_deps.settings)
    assert sorted((o.student_id, o.provider_id) for o in owed) == [("S1", "P1"), ("S3", "P1")]
    add_session(
        minutes_deps, q.makeup_key(missed, 0), "S1", utc(2026, 12, 15, 18), status="scheduled"
    )
    with minutes_deps.session_factory.begin() as s:
        s.query(m.TherapySession).filter_by(session_key=q.makeup_key(missed, 0)).update(
            {"makeup": True}
        )
    with minutes_deps.session_factory() as s:
        owed = svc.owed_makeups(s, q.Scope(), NOW, minutes_deps.settings)
    assert [o.student_id for o in owed] == ["S3"]  # booked, so no longer waiting
    assert _lines(minutes_deps)[("S1", "slp")].line.owed == 30  # but not paid back yet
    with minutes_deps.session_factory.begin() as s:
        s.query(m.TherapySession).filter_by(session_key=q.makeup_key(missed, 0)).update(
            {"status": "held"}
        )
    s1 = _lines(minutes_deps)[("S1", "slp")].line
    assert (s1.delivered, s1.owed) == (120, 0)


def test_monthly_mandate_calendar_and_service_dates(minutes_deps: Deps) -> None:
    with minutes_deps.session_factory.begin() as s:
        s2 = s.query(m.StudentService).filter_by(student_id="S2").one()
        s2.minutes_per_month = 90
        s1 = s.query(m.StudentService).filter_by(student_id="S1").one()
        s1.starts_on = date(2026, 12, 7)
        s.add(closed_days(date(2026, 12, 21), date(2027, 1, 1)))
    lines = _lines(minutes_deps)
    # December's open days at SCH1 are now Dec 1,7,8,14,15: S2's 90 a month over five days.
    # A monthly mandate is due as its sessions settle (S2 has none yet), but at least the
    # share of its whole weeks that are over (Dec 7-8: 2 of the 5 days, 36), the whole month
    # once the month is over.
    s2 = lines[("S2", "ot")].line
    assert (s2.required, s2.required_to_date, s2.status) == (90, 36, "behind")
    # Its first session, cancelled by the provider: 30 due at once (under the 36 already due),
    # none delivered.
    missed = add_session(
        minutes_deps, "m1", "S2", utc(2026, 12, 14, 19), provider="P2", service="ot",
        status="cancelled",
    )  # fmt: skip
    with minutes_deps.session_factory.begin() as s:
        s.query(m.TherapySession).filter_by(id=missed).update({"cancel_reason": "provider"})
    s2 = _lines(minutes_deps)[("S2", "ot")].line
    assert (s2.required_to_date, s2.owed, s2.status) == (36, 30, "behind")
    with minutes_deps.session_factory() as s:
        later = svc.month_minutes(s, q.Scope(), DEC, utc(2027, 1, 5, 20), minutes_deps.settings)
    s2 = next(i.line for i in later if i.student_id == "S2")
    assert (s2.required, s2.required_to_date, s2.status) == (90, 90, "behind")
    # S1 starts on Dec 7: four of the five open days, 30 each.
    assert lines[("S1", "slp")].line.required == 120


def test_district_and_provider_views(minutes_deps: Deps) -> None:
    with minutes_deps.session_factory() as s:
        anc = s.get(m.District, "anc")
        assert anc is not None
        view = svc.district_minutes(s, anc, DEC, NOW, minutes_deps.settings)
        provider = s.get(m.Provider, "P1")
        assert provider is not None
        own = svc.provider_minutes(s, provider, DEC, NOW, minutes_deps.settings)
        lines = svc.district_lines(s, None, NOW, minutes_deps.settings)
    assert [(r.student_id, r.service) for r in view.behind] == [("S2", "ot"), ("S1", "slp")]
    assert view.behind[1].student == "T.E. (S1)"
    assert [(p.provider_id, p.count, p.minutes) for p in view.makeups] == [("P1", 2, 60)]
    assert [(r.student_id, r.status) for r in own.rows] == [("S1", "behind"), ("S3", "on track")]
    assert own.makeups_owed == 2
    assert [(d.district_id, d.text()) for d in lines] == [
        ("anc", "2 students behind, 2 make-ups owed"),
        ("mesa", "0 students behind, 0 make-ups owed"),
    ]


def test_minutes_for_checks_who_asks(minutes_deps: Deps) -> None:
    with pytest.raises(NotAllowed):
        svc.minutes_for(minutes_deps, "U0P1", svc.parse_args("district=anc"))
    with pytest.raises(NotAllowed):
        svc.minutes_for(minutes_deps, "UNOBODY", svc.parse_args(""))
    assert isinstance(
        svc.minutes_for(minutes_deps, "U0P1", svc.parse_args("")), svc.ProviderMinutes
    )
    org = svc.minutes_for(minutes_deps, "U0M1", svc.parse_args(""))
    assert isinstance(org, svc.OrgMinutes)
    district = svc.minutes_for(minutes_deps, "U0M1", svc.parse_args("district=anchorage"))
    assert isinstance(district, svc.DistrictMinutes) and district.students_behind == 2
    for bad in ["month=2026-13", "district", "foo=bar"]:
        with pytest.raises(InvalidInput):
            svc.parse_args(bad)


def test_no_shows_are_owed_only_under_the_setting(minutes_deps: Deps) -> None:
    add_session(minutes_deps, "ns", "S3", utc(2026, 12, 14, 18), status="no_show")
    assert _lines(minutes_deps)[("S3", "slp")].line.owed == 30
    settings = minutes_deps.settings.model_copy(update={"makeup_for_no_shows": True})
    with minutes_deps.session_factory() as s:
        items = svc.month_minutes(s, q.Scope(), DEC, NOW, settings)
    assert {(i.student_id, i.line.owed) for i in items if i.student_id == "S3"} == {("S3", 60)}


def test_a_weekly_slot_date_with_no_session_on_file_is_owed(minutes_deps: Deps) -> None:
    # S2's OT (P2) has a Tuesday slot since Nov 20 and no session at all: by Tue Dec 15 20:00Z
    # the 48-hour grace is over for Dec 1 and Dec 8 (Dec 15 is still within it).
    slot = add_slot(minutes_deps, "S2", "ot", 1, "10:00", "10:30")
    with minutes_deps.session_factory.begin() as s:
        s.query(m.Assignment).filter_by(student_id="S2", service="ot").update(
            {"approved_at": utc(2026, 11, 20, 18)}
        )
    assert _lines(minutes_deps)[("S2", "ot")].line.owed == 60
    # Dec 8's session is on file, cancelled by the school: recorded, and not owed.
    dec8 = add_session(
        minutes_deps, session_key(slot, None, date(2026, 12, 8)), "S2",
        utc(2026, 12, 8, 19), provider="P2", service="ot", status="cancelled",
    )  # fmt: skip
    with minutes_deps.session_factory.begin() as s:
        s.query(m.TherapySession).filter_by(id=dec8).update({"cancel_reason": "school"})
    assert _lines(minutes_deps)[("S2", "ot")].line.owed == 30
    # Both dates on file: nothing owed (settled by counting the slot's sessions).
    dec1 = add_session(
        minutes_deps, session_key(slot, None, date(2026, 12, 1)), "S2",
        utc(2026, 12, 1, 19), provider="P2", service="ot", status="held",
    )  # fmt: skip
    assert _lines(minutes_deps)[("S2", "ot")].line.owed == 0
    # Another service's session that day does not stand in for this one's.
    with minutes_deps.session_factory.begin() as s:
        s.query(m.TherapySession).filter_by(id=dec1).update(
            {"service": "slp", "session_key": "csv-77"}
        )
    assert _lines(minutes_deps)[("S2", "ot")].line.owed == 30
    # A second OT slot on Tuesdays: Dec 1 now needs two sessions, and has one (under another
    # key), which stands for one of them; Dec 8's cancelled session is its own slot's.
    second = add_slot(minutes_deps, "S2", "ot", 1, "13:00", "13:30")
    with minutes_deps.session_factory.begin() as s:
        s.query(m.TherapySession).filter_by(id=dec1).update({"service": "ot"})
        s.query(m.Assignment).filter_by(student_id="S2", service="ot").update(
            {"approved_at": utc(2026, 11, 20, 18)}
        )
    assert _lines(minutes_deps)[("S2", "ot")].line.owed == 60  # Dec 1 and Dec 8, one slot each
    with minutes_deps.session_factory.begin() as s:
        s.query(m.AssignmentSlot).filter_by(id=second).delete()
        s.query(m.TherapySession).filter_by(id=dec1).update({"service": "slp"})
    # Approved in the afternoon of Dec 1 (Anchorage): that day's slot was never promised.
    with minutes_deps.session_factory.begin() as s:
        s.query(m.Assignment).filter_by(student_id="S2", service="ot").update(
            {"approved_at": utc(2026, 12, 2, 0)}
        )
    assert _lines(minutes_deps)[("S2", "ot")].line.owed == 0
    # The same in a district's view and the summary CSV (one rule behind both).
    with minutes_deps.session_factory.begin() as s:
        s.query(m.Assignment).filter_by(student_id="S2", service="ot").update(
            {"approved_at": utc(2026, 11, 20, 18)}
        )
        s.query(m.TherapySession).filter_by(id=dec8).delete()
    district = _lines(minutes_deps, q.Scope(district_ids=frozenset({"anc"})))
    assert district[("S2", "ot")].line.owed == 60


def test_sessions_are_placed_in_their_schools_week_of_the_month(minutes_deps: Deps) -> None:
    # Two schools far apart (Anchorage, UTC-9, and one moved to Tokyo, UTC+9): a session near a
    # Monday midnight or a month's edge belongs to a different week in each. Sessions every 5
    # hours from Nov 27 to Jan 3; the grouped sums must match placing each by its local date.
    from zoneinfo import ZoneInfo

    from bot.domain.minutes import OpenDays, SchoolDays

    with minutes_deps.session_factory.begin() as s:
        s.query(m.TherapySession).delete()
        sch2 = s.get(m.School, "SCH2")
        assert sch2 is not None
        sch2.timezone = "Asia/Tokyo"
        s3 = s.get(m.Student, "S3")
        assert s3 is not None
        s3.school_id = "SCH2"
    zones = {"S1": "America/Anchorage", "S3": "Asia/Tokyo"}
    weeks = OpenDays.of(SchoolDays(), DEC)
    expected: dict[tuple[str, str, int], int] = {}
    at, n = utc(2026, 11, 27, 0), 0
    while at < utc(2027, 1, 3, 0):
        for student, zone in zones.items():
            n += 1
            add_session(minutes_deps, f"z{n}", student, at, status="cancelled")
            day = at.astimezone(ZoneInfo(zone)).date()
            where = q.BEFORE if day < DEC.first else q.IN if day <= DEC.last else q.AFTER
            week = weeks.week_of(day) if where == q.IN else -1
            expected[(student, where, week)] = expected.get((student, where, week), 0) + 30
        at += timedelta(hours=5)
    got: dict[tuple[str, str, int], int] = {}
    with minutes_deps.session_factory() as s:
        groups = q.minute_groups(s, q.Scope(), DEC.first, DEC.last, NOW)
    for row in groups:
        g = q.MinuteGroup(*row[:9])
        weeks = tuple(row[9:])
        assert len(weeks) == 5  # December 2026 touches five weeks
        if g.period != q.IN:
            assert weeks == (0,) * 5
            weeks = ()
            got[(g.student_id, g.period, -1)] = got.get((g.student_id, g.period, -1), 0) + g.minutes
        for i, minutes in enumerate(weeks):
            if minutes:
                got[(g.student_id, g.period, i)] = got.get((g.student_id, g.period, i), 0) + minutes
    # After the month is read only where a zone's edge makes it unsure; the rest is left out.
    assert {k: v for k, v in got.items() if k[1] != q.AFTER} == {
        k: v for k, v in expected.items() if k[1] != q.AFTER
    }


class Statements:
    """Counts the SQL statements run on an engine (a real measure of work, no patching)."""

    def __init__(self, deps: Deps) -> None:
        from sqlalchemy import event

        self.count = 0
        self.engine = deps.engine

        def seen(*_: object) -> None:
            self.count += 1

        self._seen = seen
        event.listen(self.engine, "before_cursor_execute", seen)

    def close(self) -> None:
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._seen)


def test_home_lines_are_reused_until_something_is_recorded(
    minutes_deps: Deps, clock: FixedClock
) -> None:
    deps = minutes_deps
    counter = Statements(deps)
    try:
        with deps.session_factory() as s:
            first = svc.cached_district_lines(deps, s, None, NOW)
            before = counter.count
            again = svc.cached_district_lines(deps, s, None, NOW + timedelta(minutes=1))
            assert again is first and counter.count - before == 1  # the change stamp only
    finally:
        counter.close()
    # Today's later session marked cancelled by the provider (audited): worked out again.
    with deps.session_factory() as s:
        a5 = s.query(m.TherapySession).filter_by(session_key="a5").one().id
    clock.at = utc(2026, 12, 15, 23)
    sessions_svc.mark_session(deps, "U0P1", a5, "cancelled", CancelReason.PROVIDER)
    with deps.session_factory() as s:
        after = svc.cached_district_lines(deps, s, None, NOW + timedelta(minutes=2))
        assert after is not first
        assert after == svc.district_lines(s, None, NOW + timedelta(minutes=2), deps.settings)
        # And never older than LINES_TTL, whatever the stamp says.
        later = svc.cached_district_lines(deps, s, None, NOW + timedelta(minutes=8))
        assert later is not after


def test_home_lines_follow_a_roster_import_at_once(minutes_deps: Deps, tmp_path: Path) -> None:
    """An import can write without a row-by-row audit (into a table that had no rows: here
    the first calendar.csv); its own stamp still makes Home work the lines out again at once."""
    deps = minutes_deps
    with deps.session_factory.begin() as s:
        s.execute(delete(m.SchoolCalendarDay))

    def behind() -> int:
        home = home_for(deps, "U0M1")
        assert home.manager is not None
        return sum(line.students_behind for line in home.manager.minutes)

    assert behind() == 2
    assert behind() == 2  # (from the cache)
    # Dec 7-8 closed: no whole week is over, so only what the sessions settled is due, and
    # nobody is behind.
    calendar = VALID["calendar.csv"] + "anc,,2026-12-07,2026-12-08,closed,\n"
    folder = write_roster(
        tmp_path / "again", students_csv=STUDENTS, services_csv=SERVICES,
        assignments_csv=ASSIGNED, sessions_csv=NO_SESSIONS, calendar_csv=calendar,
    )  # fmt: skip
    assert import_roster(folder, deps.session_factory, now=NOW).ok
    with deps.session_factory() as s:
        fresh = svc.district_lines(s, None, NOW, deps.settings)
    assert behind() == sum(line.students_behind for line in fresh) == 0


def test_a_digest_run_works_out_each_district_once(minutes_deps: Deps) -> None:
    once = svc.DistrictLinesOnce(NOW, minutes_deps.settings)
    with minutes_deps.session_factory() as s:
        anc = once.lines(s, frozenset({"anc"}))
        every = once.lines(s, None)
        counter = Statements(minutes_deps)
        try:
            assert once.lines(s, frozenset({"anc"})) == anc
            assert once.lines(s, None) == every
            assert counter.count == 2  # the districts' names, nothing worked out again
        finally:
            counter.close()
        assert every == svc.district_lines(s, None, NOW, minutes_deps.settings)
    assert [d.district_id for d in anc] == ["anc"]
