"""Test helper: the caseload roster plus a December of sessions for the minutes tests.

The clock is Tue 2026-12-15 20:00Z (11:00 in Anchorage). SCH1 meets Mon/Tue, so Dec 1, 7, 8,
14 and 15 are its school days so far. S1 (P1, 2 x 30 a week): held Dec 1 and 7, cancelled by
the provider Dec 8 (owed), cancelled by the school Dec 14 (not owed), one still to come today.
S3 (P1, 1 x 30): held Dec 1 and 8, Dec 7 never marked (owed). S1 and S3 share a held group on
Dec 14. S2 (P2, OT) has no sessions.
"""

from __future__ import annotations

from pathlib import Path

from bot.clock import FixedClock
from bot.deps import Deps
from storage import models as m
from tests.services.caseload_seed import add_session, add_slot, seed, utc

NOW = utc(2026, 12, 15, 20, 0)


def seed_minutes(deps: Deps, tmp_path: Path, clock: FixedClock) -> Deps:
    clock.at = NOW
    seed(deps, tmp_path)
    h = 17  # 08:00 Anchorage (AKST = UTC-9)
    add_session(deps, "a1", "S1", utc(2026, 12, 1, h))
    add_session(deps, "a2", "S1", utc(2026, 12, 7, h))
    add_session(deps, "a3", "S1", utc(2026, 12, 8, h), status="cancelled")
    add_session(deps, "a4", "S1", utc(2026, 12, 14, h), status="cancelled")
    add_session(deps, "a5", "S1", utc(2026, 12, 15, 22), status="scheduled")  # later today
    add_session(deps, "b1", "S3", utc(2026, 12, 1, 18))
    add_session(deps, "b2", "S3", utc(2026, 12, 8, 18))
    add_session(deps, "b3", "S3", utc(2026, 12, 7, 18), status="scheduled")  # never marked
    for student in ("S1", "S3"):  # a group of two: 30 minutes for each
        add_session(deps, "g1", student, utc(2026, 12, 14, 19))
    with deps.session_factory.begin() as s:
        for key, reason in (("a3", "provider"), ("a4", "school")):
            for row in s.query(m.TherapySession).filter(m.TherapySession.session_key == key):
                row.cancel_reason = reason
    return deps


def seed_unrecorded(deps: Deps, tmp_path: Path, clock: FixedClock) -> int:
    """``seed_minutes``, and S2's OT (P2) on a Tuesday 10:00-10:30 slot approved Fri Nov 20,
    with no session at all: by Tue Dec 15 11:00 Anchorage the grace is over for Nov 24, Dec 1
    and Dec 8 (not Dec 15). Returns the slot's id."""
    seed_minutes(deps, tmp_path, clock)
    slot = add_slot(deps, "S2", "ot", 1, "10:00", "10:30")
    with deps.session_factory.begin() as s:
        s.query(m.Assignment).filter_by(student_id="S2", service="ot").update(
            {"approved_at": utc(2026, 11, 20, 18)}
        )
    return slot
