"""Services: what a preview and a request's replay claim cost in database statements.

Every `/availability` preview runs these, so they are counted: a few reads and one insert for
the preview, one statement for the claim (no SELECT first, no BEGIN or COMMIT, no exception on a
replay).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event

from bot.deps import Deps
from bot.services import availability as svc
from bot.services.events import claim_request, forget_old_requests
from bot.services.people import identify
from bot.services.schedule_effects import Effects
from tests.services.caseload_seed import add_slot, seed


@contextmanager
def statements(deps: Deps) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: object, cursor: object, sql: str, *args: object) -> None:
        seen.append(" ".join(sql.split()))

    event.listen(deps.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(deps.engine, "before_cursor_execute", record)


def test_a_preview_with_nothing_planned_costs_four_statements(demo_deps: Deps) -> None:
    with statements(demo_deps) as seen:
        p = svc.preview(demo_deps, "U0DEMOP01", "Tue 8-11")
    assert isinstance(p, svc.Preview) and p.effects == Effects()
    # who is asking; their weekly slots and schools' zones (one statement); their window rows
    # and time off (one statement); the pending action.
    assert len(seen) == 4, seen
    assert sum(sql.startswith("INSERT") for sql in seen) == 1


def test_new_hours_over_weekly_slots_read_no_conflict_facts(deps: Deps, tmp_path: Path) -> None:
    seed(deps, tmp_path)
    add_slot(deps, "S1", "slp", 1, "09:00", "09:30")  # Tue, Anchorage time
    with statements(deps) as seen:
        kept = svc.preview(deps, "U0P1", "add Fri 1-4")
    assert isinstance(kept, svc.Preview) and kept.effects == Effects()
    # The same four as with nothing planned: the slots come with the schools' zones, and the
    # windows are the rows the preview read anyway.
    assert len(seen) == 4, seen
    with statements(deps) as seen:
        dropped = svc.preview(deps, "U0P1", "no longer Tuesdays")
    assert isinstance(dropped, svc.Preview)
    [effect] = dropped.effects.outside
    assert (effect.day, effect.start, effect.tz, effect.students) == (
        1, 9 * 60, "America/Anchorage", ("T.E. (S1)",)
    )  # fmt: skip
    assert len(seen) == 5, seen  # and the one student's name, for the line that names them


def test_a_provider_is_identified_in_one_statement_and_a_manager_in_two(
    demo_deps: Deps,
) -> None:
    with statements(demo_deps) as seen, demo_deps.session_factory() as s:
        provider = identify(s, "U0DEMOP01", "UTC")
        assert len(seen) == 1
        manager = identify(s, "U0DEMOM02", "UTC")
        assert len(seen) == 3
        nobody = identify(s, "U0NOBODY", "UTC")
    assert provider.provider is not None and provider.manager is None
    assert manager.manager is not None and manager.provider is None
    assert not nobody.known


def test_a_request_is_claimed_in_one_insert_and_a_replay_is_refused(deps: Deps) -> None:
    with statements(deps) as seen:
        assert claim_request(deps, 1_700_000_000, "v0=" + "a" * 64)
        assert not claim_request(deps, 1_700_000_000, "v0=" + "a" * 64)
    assert len(seen) == 2, seen  # one statement each: no SET, no SELECT first
    assert all(sql.startswith("INSERT") and "DO NOTHING RETURNING" in sql for sql in seen)
    assert claim_request(deps, 1_700_000_001, "v0=" + "a" * 64)  # another timestamp
    assert forget_old_requests(deps, 1_700_000_001) == 1
    assert claim_request(deps, 1_700_000_000, "v0=" + "a" * 64)  # forgotten: stale anyway


def test_a_time_off_preview_reads_the_schools_once(demo_deps: Deps) -> None:
    with statements(demo_deps) as seen:
        p = svc.preview(demo_deps, "U0DEMOP01", "out Dec 7 - Dec 11")
    assert isinstance(p, svc.Preview) and p.time_off is not None
    # every school's district, state and zone come from one statement, not one for the states
    # and another for the zones
    assert sum(" FROM schools " in sql for sql in seen) == 1, seen
    assert len(seen) == 12, seen
