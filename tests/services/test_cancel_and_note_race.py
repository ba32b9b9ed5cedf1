"""Services: a session cancelled and noted at the same moment ends up one or the other, never
both, with exactly one audit row for the transition that happened.

The other person's write is made to land just before ours: a hook runs it on the same
connection right before our conditional UPDATE reaches the database, as a concurrent commit
would under READ COMMITTED (PostgreSQL) or a serialised writer (SQLite).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from bot.clock import FixedClock
from bot.deps import Deps
from bot.domain.sessions import NoteText
from bot.domain.vocabulary import CancelReason
from bot.services import sessions, soap
from bot.services.errors import Conflict
from storage import models as m
from tests.services.caseload_seed import add_session, seed

NOTE = NoteText("s", "Goal 1: 8/10", "a", "p")


@contextmanager
def lands_first(deps: Deps, sql: str) -> Iterator[None]:
    """Run ``sql`` once, right before the first UPDATE of ``sessions`` goes out (in the same
    transaction, so it rolls back with a refused write; what matters is that ours is refused)."""
    done = False

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        nonlocal done
        if not done and statement.lstrip().upper().startswith("UPDATE SESSIONS"):
            done = True
            cursor.execute(sql)

    event.listen(deps.engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(deps.engine, "before_cursor_execute", before)
    assert done


@pytest.fixture
def held(deps: Deps, tmp_path: Path, clock: FixedClock) -> tuple[Deps, int]:
    seed(deps, tmp_path)
    return deps, add_session(deps, "R1", "S1", clock.now() - timedelta(days=1), status="held")


def state(deps: Deps, session_id: int) -> tuple[str, bool, list[str]]:
    with deps.session_factory() as s:
        row = s.get(m.TherapySession, session_id)
        assert row is not None
        notes = s.scalars(select(m.SoapNote).where(m.SoapNote.session_id == session_id)).all()
        audits = s.scalars(select(m.AuditLog.action).order_by(m.AuditLog.id)).all()
        return row.status, row.note_done_at is not None or bool(notes), list(audits)


def test_a_note_saved_just_after_a_cancel_is_refused(held: tuple[Deps, int]) -> None:
    deps, sid = held
    cancel = f"UPDATE sessions SET status = 'cancelled' WHERE id = {sid}"
    with lands_first(deps, cancel), pytest.raises(Conflict):
        soap.save_note(deps, "U0P1", sid, NOTE)
    # (The other write rolled back with ours here, since it shared our connection.)
    _, noted, audits = state(deps, sid)
    assert not noted and "soap.write" not in audits


def test_a_cancel_just_after_a_note_is_refused(held: tuple[Deps, int], clock: FixedClock) -> None:
    deps, sid = held
    noted_at = clock.now().strftime("%Y-%m-%d %H:%M:%S")
    note = f"UPDATE sessions SET note_done_at = '{noted_at}' WHERE id = {sid}"
    with lands_first(deps, note), pytest.raises(Conflict):
        sessions.mark_session(deps, "U0P1", sid, "cancelled", CancelReason.PROVIDER)
    status, _, audits = state(deps, sid)
    assert status == "held" and "session.mark" not in audits


def test_without_a_race_each_transition_has_one_audit_row(held: tuple[Deps, int]) -> None:
    deps, sid = held
    sessions.mark_session(deps, "U0P1", sid, "cancelled", CancelReason.PROVIDER)
    assert sessions.mark_session(deps, "U0P1", sid, "cancelled", CancelReason.PROVIDER).already
    status, noted, audits = state(deps, sid)
    assert (status, noted, audits.count("session.mark")) == ("cancelled", False, 1)
