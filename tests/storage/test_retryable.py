"""Storage: which database errors mean "a lost race, run the transaction again", produced for
real on the database under test (SQLite's locked database, PostgreSQL's deadlock)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from storage import models as m
from storage.db import is_retryable, make_engine


def seed(db: Engine) -> None:
    with db.begin() as conn:
        conn.execute(
            m.District.__table__.insert(),
            [
                {"id": "a", "name": "A", "state": "AK", "timezone": "America/Anchorage"},
                {"id": "b", "name": "B", "state": "AK", "timezone": "America/Anchorage"},
            ],
        )


def lost_race(db: Engine) -> DBAPIError:
    """Two transactions that each hold what the other wants: the database refuses one."""
    if db.dialect.name == "sqlite":
        impatient = make_engine(str(db.url), null_pool=True)
        with db.connect() as holder:
            holder.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                with impatient.connect() as conn:
                    conn.exec_driver_sql("PRAGMA busy_timeout=0")
                    with pytest.raises(DBAPIError) as caught:
                        conn.execute(update(m.District).values(name="x"))
            finally:
                holder.exec_driver_sql("ROLLBACK")
                impatient.dispose()
        return caught.value
    barrier = threading.Barrier(2)
    errors: list[DBAPIError] = []

    def cross(first: str, second: str) -> None:
        try:
            with db.begin() as conn:
                conn.execute(select(m.District.id).where(m.District.id == first).with_for_update())
                barrier.wait()
                conn.execute(select(m.District.id).where(m.District.id == second).with_for_update())
        except DBAPIError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=cross, args=p) for p in (("a", "b"), ("b", "a"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(errors) == 1
    return errors[0]


def test_a_lost_race_is_retryable_and_a_broken_rule_is_not(db: Engine) -> None:
    seed(db)
    assert is_retryable(lost_race(db))
    with pytest.raises(IntegrityError) as duplicate, db.begin() as conn:
        conn.execute(
            m.District.__table__.insert(),
            {"id": "a", "name": "A", "state": "AK", "timezone": "America/Anchorage"},
        )
    assert not is_retryable(duplicate.value)
    assert not is_retryable(ValueError("database is locked"))
