"""Services: a ``not_recorded`` session the bot wrote is withdrawn when the date's session
arrives after all (a sessions.csv import, a session moved there): not owed, no make-up DM, not
written again, gone from the service log, with an audit row that keeps what it said."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.clock import FixedClock
from bot.deps import Deps
from bot.domain.minutes import Month
from bot.domain.sessions import session_key
from bot.services import minutes as minutes_svc
from bot.services.errors import Conflict, NotAllowed
from bot.services.makeups import deliver_makeups, makeup_options, sweep_makeups
from bot.services.minutes_report import write_report
from bot.services.unrecorded import record_unrecorded
from devtools.local_slack import LocalSlack
from jobs import minutes_jobs
from storage import minutes as q
from storage import models as m
from storage.not_recorded import WITHDRAWN
from storage.roster import import_roster
from tests.services.caseload_seed import ASSIGNED, SERVICES, STUDENTS, add_session, add_slot, utc
from tests.services.minutes_seed import NOW, seed_unrecorded
from tests.storage.roster_files import write_roster

DEC = Month(2026, 12)
TS = m.TherapySession
HEADER = "session_id,provider_id,student_id,service,starts_at,minutes,status,note_done_at\n"


@pytest.fixture
def world(deps: Deps, tmp_path: Path, clock: FixedClock, slack: LocalSlack) -> tuple[Deps, int]:
    """S2's OT (P2): Tuesdays 10:00-10:30 Anchorage since Nov 20, no session on file."""
    slot = seed_unrecorded(deps, tmp_path, clock)
    slack.clear()
    return deps, slot


def _import(deps: Deps, tmp_path: Path, *sessions: str) -> None:
    """Import the seed's roster again, with these sessions.csv lines."""
    folder = write_roster(
        tmp_path / "again",
        students_csv=STUDENTS,
        services_csv=SERVICES,
        assignments_csv=ASSIGNED,
        sessions_csv=HEADER + "".join(f"{line}\n" for line in sessions),
    )
    report = import_roster(folder, deps.session_factory, now=NOW)
    assert report.ok, report.problems


def _not_recorded(deps: Deps) -> dict[date, int]:
    """The bot's rows for S2: school-local date -> session id."""
    with deps.session_factory() as s:
        rows = s.execute(
            select(TS.starts_at, TS.id).where(
                TS.student_id == "S2", TS.cancel_reason == "not_recorded"
            )
        ).all()
    return {(at - timedelta(hours=9)).date(): sid for at, sid in rows}  # AKST


def _line(deps: Deps) -> minutes_svc.MinutesLine:
    with deps.session_factory() as s:
        items = minutes_svc.month_minutes(s, q.Scope(), DEC, NOW, deps.settings)
    return next(i.line for i in items if i.student_id == "S2")


def _offered(slack: LocalSlack) -> set[int]:
    """The missed sessions the DMs to P2 offer a [Schedule make-up] for."""
    out: set[int] = set()
    for c in slack.calls:
        if c.method != "chat.postMessage" or c.params.get("channel") != "DU0P2":
            continue
        blocks = c.params["blocks"]
        blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
        out |= {int(b["accessory"]["value"]) for b in blocks if "value" in b.get("accessory", {})}
    return out


def test_a_session_imported_for_the_date_withdraws_the_row(
    world: tuple[Deps, int], tmp_path: Path, slack: LocalSlack, clock: FixedClock
) -> None:
    deps, slot = world
    # The make-ups job records Nov 24, Dec 1 and Dec 8 and queues their DM; it is not sent yet.
    assert record_unrecorded(deps, NOW) == 3
    assert sweep_makeups(deps, NOW) >= 3
    rows = _not_recorded(deps)
    assert sorted(rows) == [date(2026, 11, 24), date(2026, 12, 1), date(2026, 12, 8)]
    assert (_line(deps).owed, _line(deps).delivered) == (90, 0)
    # The roster import brings Dec 1's session after all (held, 10:00 Anchorage), under its
    # own id; Dec 8's is still missing.
    _import(deps, tmp_path, "csv-1,P2,S2,ot,2026-12-01T19:00:00+00:00,30,held,")
    dec1 = rows[date(2026, 12, 1)]
    assert sorted(_not_recorded(deps)) == [date(2026, 11, 24), date(2026, 12, 8)]
    with deps.session_factory() as s:
        audit = s.scalars(select(m.AuditLog).where(m.AuditLog.action == WITHDRAWN)).one()
        csv1 = s.scalars(select(TS.id).where(TS.session_key == "csv-1")).one()
    assert (audit.actor, audit.subject_id) == ("roster-import", str(dec1))
    assert audit.before["session_key"] == session_key(slot, None, date(2026, 12, 1))
    assert (audit.before["cancel_reason"], audit.after) == ("not_recorded", {"on_file": csv1})
    # Not owed any more; the session on file delivered its minutes.
    assert (_line(deps).owed, _line(deps).delivered) == (60, 30)
    # The queued DM goes out without it, and the row for it is dropped unsent.
    assert deliver_makeups(deps) == 2  # to P1 (the seed's own debts) and P2
    assert _offered(slack) == {rows[date(2026, 11, 24)], rows[date(2026, 12, 8)]}
    with deps.session_factory() as s:
        queued = s.scalars(select(m.Nudge).where(m.Nudge.subject_id == str(dec1))).one()
    assert (queued.sent_at, queued.last_error) == (None, "no_longer_owed")
    # The sweeper sees Dec 1's session: it never writes the row again; no reminder, no
    # escalation for it in the weeks after.
    for week in (1, 2, 3):
        clock.at = NOW + timedelta(weeks=week)
        run = minutes_jobs.run_once(deps, clock.at)
        assert run.sent >= 1 and date(2026, 12, 1) not in _not_recorded(deps)
    assert dec1 not in _offered(slack)
    # The first DM's button for it (had it gone out) says so to P2, and nothing to anyone else.
    with pytest.raises(Conflict, match="on file after all"):
        makeup_options(deps, "U0P2", dec1)
    with pytest.raises(NotAllowed, match="Only the student's provider"):
        makeup_options(deps, "U0P1", dec1)
    with deps.session_factory() as s:
        again = s.scalars(select(m.Nudge).where(m.Nudge.subject_id == str(dec1))).all()
    assert [n.sent_at for n in again] == [None]
    # The service log shows the session on file, not a missed slot.
    out = io.StringIO()
    write_report(deps, "anc", DEC, out)
    dec1_rows = [r for r in out.getvalue().splitlines() if ",S2," in r and "2026-12-01" in r]
    assert len(dec1_rows) == 1 and ",held," in dec1_rows[0]


def test_a_session_that_lands_on_the_date_another_way_is_seen_by_the_sweeper(
    world: tuple[Deps, int],
) -> None:
    deps, _ = world
    assert minutes_jobs.run_once(deps, NOW).recorded == 3
    dec8 = _not_recorded(deps)[date(2026, 12, 8)]
    # A session moved onto Dec 8 (from Dec 9), not by an import: the next run withdraws it.
    moved = add_session(deps, "moved", "S2", utc(2026, 12, 9, 19), provider="P2", service="ot")
    with deps.session_factory.begin() as s:
        s.execute(update(TS).where(TS.id == moved).values(starts_at=utc(2026, 12, 8, 23)))
    assert minutes_jobs.run_once(deps, NOW + timedelta(minutes=15)).recorded == 0
    assert date(2026, 12, 8) not in _not_recorded(deps)
    with deps.session_factory() as s:
        audit = s.scalars(select(m.AuditLog).where(m.AuditLog.action == WITHDRAWN)).one()
    assert (audit.subject_id, audit.after) == (str(dec8), {"on_file": moved})
    assert _line(deps).owed == 60  # Nov 24 (carried) and Dec 1


def test_two_slots_on_a_day_need_two_sessions(world: tuple[Deps, int], tmp_path: Path) -> None:
    deps, first = world
    second = add_slot(deps, "S2", "ot", 1, "13:00", "13:30")
    # Dec 8: the second slot's own session is on file; Nov 24: one session under its own id,
    # for one of the two slots; Dec 1: nothing.
    add_session(deps, session_key(second, None, date(2026, 12, 8)), "S2", utc(2026, 12, 8, 22),
                provider="P2", service="ot")  # fmt: skip
    add_session(deps, "csv-0", "S2", utc(2026, 11, 24, 19), provider="P2", service="ot")
    assert minutes_jobs.run_once(deps, NOW).recorded == 4  # Nov 24, Dec 1 x2, Dec 8
    assert _line(deps).owed == 120
    nov24 = _not_recorded(deps)[date(2026, 11, 24)]
    # One session imported for Dec 1 stands for one of its two slots; Dec 8's own session of
    # the second slot stands for that slot, not for the first.
    _import(deps, tmp_path, "csv-1,P2,S2,ot,2026-12-01T19:00:00+00:00,30,held,")
    assert _line(deps).owed == 90
    with deps.session_factory() as s:
        left = s.scalars(
            select(TS.session_key).where(
                TS.cancel_reason == "not_recorded", TS.starts_at >= utc(2026, 12, 1)
            )
        ).all()
    assert len(left) == 2 and session_key(first, None, date(2026, 12, 8)) in left
    # A second session for Dec 1: both of its slots have theirs.
    _import(deps, tmp_path, "csv-1,P2,S2,ot,2026-12-01T19:00:00+00:00,30,held,",
            "csv-2,P2,S2,ot,2026-12-01T22:00:00+00:00,30,held,")  # fmt: skip
    assert _line(deps).owed == 60
    # The sweeper's next run agrees: Nov 24's session stands for one slot, its row for the
    # other (kept, not withdrawn and written again), and Dec 8's row stays.
    assert minutes_jobs.run_once(deps, NOW + timedelta(minutes=15)).recorded == 0
    assert _not_recorded(deps)[date(2026, 11, 24)] == nov24
    assert _line(deps).owed == 60


def test_a_row_with_a_make_up_booked_stays_until_the_make_up_is_dropped(
    world: tuple[Deps, int], tmp_path: Path
) -> None:
    deps, _ = world
    assert record_unrecorded(deps, NOW) == 3
    dec1 = _not_recorded(deps)[date(2026, 12, 1)]
    makeup = add_session(deps, q.makeup_key(dec1, 0), "S2", utc(2026, 12, 14, 19),
                         provider="P2", service="ot", status="scheduled")  # fmt: skip
    with deps.session_factory.begin() as s:
        s.execute(update(TS).where(TS.id == makeup).values(makeup=True))
    _import(deps, tmp_path, "csv-1,P2,S2,ot,2026-12-01T19:00:00+00:00,30,held,")
    # A person booked that make-up: the row stays, and the make-up pays it back once held.
    assert dec1 in _not_recorded(deps).values()
    assert _line(deps).owed == 90
    # The make-up cancelled after all: the row has nothing holding it, and the next run
    # withdraws it.
    with deps.session_factory.begin() as s:
        s.execute(update(TS).where(TS.id == makeup).values(status="cancelled"))
    minutes_jobs.run_once(deps, NOW + timedelta(minutes=15))
    assert dec1 not in _not_recorded(deps).values()
    assert _line(deps).owed == 60
