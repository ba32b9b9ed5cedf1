"""Storage: reads run ``Beside`` the caller's see the database as of one moment (PostgreSQL: the
caller's exported snapshot, on connections of their own, at the same time); elsewhere they run on
the caller's session when their answer is asked for."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from storage import models as m
from storage.db import Beside


def _district(engine: Engine, district_id: str) -> None:
    with Session(engine) as s, s.begin():
        s.add(
            m.District(
                id=district_id, name=district_id.upper(), state="AK", timezone="America/Anchorage"
            )
        )


def _count(t: Session) -> int:
    return int(t.scalar(select(func.count()).select_from(m.District)) or 0)


@pytest.mark.postgres
def test_reads_beside_share_the_callers_snapshot_and_run_at_once(db: Engine) -> None:
    _district(db, "anc")
    with Session(db) as s, Beside(s) as side:
        _district(db, "juneau")  # committed after the snapshot was taken
        # Two reads that each wait for the other: they only finish if they run at the same time.
        both = threading.Barrier(2, timeout=10)

        def counted(t: Session) -> tuple[int, int, str]:
            both.wait()
            backend = int(t.execute(text("SELECT pg_backend_pid()")).scalar_one())
            level = str(t.execute(text("SHOW transaction_isolation")).scalar_one())
            return _count(t), backend, level

        first, second = side.read(counted), side.read(counted)
        own = int(s.execute(text("SELECT pg_backend_pid()")).scalar_one())
        a, b = first.get(), second.get()
    assert a[0] == b[0] == 1  # "juneau" came after the snapshot
    assert len({a[1], b[1], own}) == 3  # each on a connection of its own
    assert a[2] == "repeatable read"
    with Session(db) as s:
        assert _count(s) == 2


def test_without_a_snapshot_to_share_a_read_runs_on_the_callers_session_when_asked(
    db: Engine,
) -> None:
    _district(db, "anc")
    ran: list[Session] = []

    def counted(t: Session) -> int:
        ran.append(t)
        return _count(t)

    with Session(db) as s:
        with Beside(s, wanted=False) as side:  # (SQLite: whether wanted or not)
            later = side.read(counted)
            assert ran == []  # nothing yet
            _district(db, "juneau")
            assert later.get() == 2 and later.get() == 2
        assert ran == [s]  # once, on the caller's session


@pytest.mark.postgres
def test_after_the_callers_own_writes_reads_stay_on_its_session(db: Engine) -> None:
    ran: list[Session] = []

    def counted(t: Session) -> int:
        ran.append(t)
        return _count(t)

    with Session(db) as s:
        s.add(m.District(id="anc", name="ANC", state="AK", timezone="America/Anchorage"))
        with Beside(s) as side:  # (the district is flushed, not committed)
            assert side.read(counted).get() == 1  # the caller's write is seen
        assert ran == [s]
