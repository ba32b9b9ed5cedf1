"""Services: conflicts per district, read from the database as it is now (the caseload seed:
P1 Pacific SLP Tue 08:00-11:00 PT; P2 Alaska OT Mon 09:00-12:00 AKT, AK licence until
2026-12-20; Anchorage closed Dec 21 - Jan 1; clock Mon 2026-11-30 17:00Z)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.clock import FixedClock
from bot.deps import Deps
from bot.domain.conflicts import Cause
from bot.services.conflicts import district_conflicts
from bot.views.conflicts import digest_line, district_lines
from storage import models as m
from tests.services.caseload_seed import add_slot, seed

AK = "America/Anchorage"


@pytest.fixture
def roster(deps: Deps, tmp_path: Path) -> Deps:
    return seed(deps, tmp_path)


def lines(deps: Deps, clock: FixedClock, scope: set[str] | None = None) -> dict[str, list[str]]:
    with deps.session_factory() as s:
        found = district_conflicts(s, clock.now(), AK, False, scope)
    return {d.district_id: district_lines(d) for d in found}


def test_licence_gap_availability_and_winter_break_per_district(
    roster: Deps, clock: FixedClock
) -> None:
    add_slot(roster, "S2", "ot", 0, "09:00", "09:45")  # P2, inside Mon 09:00-12:00 AKT
    add_slot(roster, "S1", "slp", 1, "11:00", "11:30")  # 12:00 PT: outside P1's Tue 8-11 PT
    got = lines(roster, clock)
    assert list(got) == ["anc"]
    assert got["anc"] == [
        "*2 conflicts* in the next 60 days: 1 no licence, 1 outside availability",
        "• Ben Ko: AK licence ends Dec 20: 1 service needs a new provider from Dec 20 unless "
        "renewed",
        "• Tue 11:00 AKT, T.E. (S1), SLP with Ana Reyes: outside availability from Dec 1 (7 dates)",
        "• closed Dec 21 – Jan 1",
    ]


def test_renewal_and_new_hours_clear_them(roster: Deps, clock: FixedClock) -> None:
    add_slot(roster, "S2", "ot", 0, "09:00", "09:45")
    add_slot(roster, "S1", "slp", 1, "11:00", "11:30")
    with roster.session_factory.begin() as s:
        s.execute(update(m.License).values(expires_on=date(2028, 1, 1)))
        s.add(m.AvailabilityWindow(provider_id="P1", day=1, start_minute=11 * 60,
                                   end_minute=13 * 60, timezone="America/Los_Angeles"))  # fmt: skip
    assert lines(roster, clock) == {"anc": ["• closed Dec 21 – Jan 1"]}


def test_a_manager_sees_only_their_districts(roster: Deps, clock: FixedClock) -> None:
    add_slot(roster, "S2", "ot", 0, "09:00", "09:45")
    assert lines(roster, clock, {"mesa"}) == {}
    assert list(lines(roster, clock, {"anc"})) == ["anc"]


def test_exited_student_and_removed_provider(roster: Deps, clock: FixedClock) -> None:
    add_slot(roster, "S2", "ot", 0, "09:00", "09:45")
    add_slot(roster, "S1", "slp", 1, "09:00", "09:30")
    with roster.session_factory.begin() as s:
        s.execute(update(m.Student).where(m.Student.id == "S1").values(exited_at=clock.now()))
        s.execute(update(m.Provider).where(m.Provider.id == "P2").values(removed_at=clock.now()))
    with roster.session_factory() as s:
        [anc] = district_conflicts(s, clock.now(), AK, False, None)
    assert dict(anc.counts) == {Cause.PROVIDER_REMOVED: 1, Cause.STUDENT_EXITED: 1}


def test_the_digest_line_per_district(roster: Deps, clock: FixedClock) -> None:
    add_slot(roster, "S2", "ot", 0, "09:00", "09:45")
    with roster.session_factory() as s:
        [anc] = district_conflicts(s, clock.now(), AK, False, None)
    assert digest_line(anc) == (
        "Anchorage School District: 1 conflict (1 no licence); closed Dec 21 – Jan 1"
    )
