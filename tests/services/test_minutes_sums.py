"""Services: the month's sums as the database works them out (per student service on
PostgreSQL, per shape elsewhere) equal the plain per-session computation of the rule, on a
randomised month of sessions in two zones (near every week's and the month's edges, before and
after it, every status and reason, make-ups, notes, unmarked ones)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FixedClock
from bot.deps import Deps
from bot.domain.minutes import WEEKS, Month, OpenDays, SchoolDays, SessionFacts, Tally
from bot.domain.vocabulary import CancelReason, SessionStatus
from bot.services.minutes_calendar import unmarked_cutoff
from bot.services.minutes_tallies import month_tallies
from storage import minutes as q
from storage import models as m
from storage.minute_sums import minute_sums
from tests.services.caseload_seed import seed

NOW = datetime(2026, 12, 16, 20, 0, tzinfo=UTC)
DEC = Month(2026, 12)
ZONES = {"SCH1": "America/Anchorage", "SCH2": "America/Phoenix"}
SERVICES = [("S1", "slp", "SCH1"), ("S2", "ot", "SCH1"), ("S3", "slp", "SCH1")]
SERVICES += [("S4", "slp", "SCH2"), ("S4", "ot", "SCH2"), ("S5", "slp", "SCH2")]
REASONS: list[str | None] = [None, *CancelReason]


def _random_month(deps: Deps, tmp_path: Path, rng: random.Random, *, odd: bool = False) -> None:
    seed(deps, tmp_path)
    with deps.session_factory.begin() as s:
        for sid in ("S4", "S5"):
            s.add(
                m.Student(
                    id=sid, school_id="SCH2", first_name="A", last_name="B", grade="2",
                    annual_review_due=date(2027, 5, 1),
                )
            )  # fmt: skip
        s.flush()
        for sid, service in (("S3", "slp"), ("S4", "slp"), ("S4", "ot"), ("S5", "slp")):
            if sid != "S3":
                s.add(
                    m.StudentService(
                        student_id=sid, service=service, sessions_per_week=2,
                        session_minutes=30, group_ok=True,
                    )
                )  # fmt: skip
        s.flush()
        # Around each Monday and the month's edges (in either zone) and anywhere in between.
        edges = [datetime(2026, 11, 23, tzinfo=UTC) + timedelta(weeks=w) for w in range(7)]
        edges += [datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)]
        for n in range(400):
            sid, service, _ = rng.choice(SERVICES)
            if rng.random() < 0.6:
                at = rng.choice(edges) + timedelta(minutes=rng.randrange(-14 * 60, 14 * 60, 15))
            else:
                at = datetime(2026, 11, 20, tzinfo=UTC) + timedelta(
                    minutes=15 * rng.randrange(5000)
                )
            status = rng.choice(list(SessionStatus))
            reason = rng.choice(REASONS) if status == SessionStatus.CANCELLED else None
            if odd and n == 7:  # mid-month, mid-week: summed in the database if anywhere
                at, status, reason = datetime(2026, 12, 9, 18, tzinfo=UTC), "cancelled", "other"
            s.add(
                m.TherapySession(
                    session_key=f"r{n}", provider_id="P1", student_id=sid, service=service,
                    starts_at=at, minutes=rng.choice([15, 30, 45]), status=status,
                    cancel_reason=reason, makeup=rng.random() < 0.2,
                    note_done_at=at + timedelta(hours=1) if rng.random() < 0.5 else None,
                )
            )  # fmt: skip


def _plain(deps: Deps) -> dict[tuple[str, str], list[int]]:
    """Each student service's [delivered, owed, made up, due, due per week], session by session
    through ``Tally.add``."""
    cutoff = unmarked_cutoff(NOW, deps.settings)
    days = OpenDays.of(SchoolDays(), DEC)
    tallies: dict[tuple[str, str], Tally] = {}
    school = {sid: sch for sid, _, sch in SERVICES}
    with deps.session_factory() as s:
        for row in s.query(m.TherapySession):
            on = row.starts_at.astimezone(ZoneInfo(ZONES[school[row.student_id]])).date()
            if on > DEC.last:
                continue
            overdue = row.status == SessionStatus.SCHEDULED and row.starts_at < cutoff
            facts = SessionFacts(
                row.status, row.cancel_reason, row.makeup, row.note_done_at is not None, overdue
            )
            in_month = on >= DEC.first
            key = (row.student_id, row.service)
            tallies[key] = tallies.get(key, Tally()).add(
                facts,
                row.minutes,
                in_month,
                no_show_owed=deps.settings.makeup_for_no_shows,
                week=days.week_of(on) if in_month else None,
            )
    out = {}
    for key, t in tallies.items():
        weeks = list(t.weeks) + [0] * (WEEKS - len(t.weeks))
        out[key] = [t.delivered, t.owed, t.made_up, sum(weeks), *weeks]
    return out


def _database(deps: Deps, *, summed: bool) -> dict[tuple[str, str], list[int]]:
    """``month_tallies``; ``summed``: whether PostgreSQL sums per student service."""
    cutoff = unmarked_cutoff(NOW, deps.settings)
    weeks = list(range(len(OpenDays.of(SchoolDays(), DEC).mondays)))
    with deps.session_factory() as s:
        fast = minute_sums(s, q.Scope(), DEC.first, DEC.last, cutoff, weeks, lambda _: (0, 0, 0, 0))
        postgres = s.get_bind().dialect.name == "postgresql"
        assert (fast is not None) == (postgres and summed)
        sums = month_tallies(s, q.Scope(), DEC, cutoff, deps.settings.makeup_for_no_shows)
    return {k: v for k, v in sums.items() if any(v)}


@pytest.mark.parametrize("seed_", [1, 2, 3])
def test_the_sums_equal_the_rule_session_by_session(
    deps: Deps, tmp_path: Path, clock: FixedClock, seed_: int
) -> None:
    clock.at = NOW
    _random_month(deps, tmp_path, random.Random(seed_))
    plain = {k: v for k, v in _plain(deps).items() if any(v)}
    assert plain  # (the month has owed, delivered and due minutes to compare)
    assert _database(deps, summed=True) == plain


def test_a_reason_outside_the_vocabulary_is_summed_the_same(
    deps: Deps, tmp_path: Path, clock: FixedClock
) -> None:
    clock.at = NOW
    _random_month(deps, tmp_path, random.Random(4), odd=True)
    plain = {k: v for k, v in _plain(deps).items() if any(v)}
    assert _database(deps, summed=False) == plain  # (read per shape instead)
