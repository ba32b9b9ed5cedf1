"""Storage: the plain-row readers (``driver_tuples``, ``driver_named``) give what SQLAlchemy's own
execution gives, for results larger than a chunk, with parameters converted as SQLAlchemy would
(an expanded IN list, an instant), and a database error comes back as SQLAlchemy's error on a
session that rolls back and goes on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

import pytest
from sqlalchemy import Engine, Integer, column, func, literal, select, true
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from storage import models as m
from storage.db import CHUNK_ROWS, driver_named, driver_tuples


class Numbered(NamedTuple):
    n: int
    square: int


@pytest.mark.postgres
def test_a_result_of_several_chunks_comes_whole_and_in_order(db: Engine) -> None:
    many = 2 * CHUNK_ROWS + 1
    n = column("value")
    numbers = select(n, n * n).select_from(func.generate_series(1, many).alias("value"))
    with Session(db) as s:
        rows = driver_named(s, numbers.order_by(n), Numbered)
        plain = [tuple(r) for r in s.execute(numbers.order_by(n))]
    assert len(rows) == many
    assert rows[-1] == Numbered(many, many * many)
    assert all(isinstance(r, Numbered) for r in rows)
    assert [tuple(r) for r in rows] == plain


def test_parameters_are_sent_as_sqlalchemy_sends_them(db: Engine) -> None:
    with Session(db) as s, s.begin():
        for did in ("anc", "jun", "fai"):
            s.add(m.District(id=did, name=did.upper(), state="AK", timezone="America/Anchorage"))
    at = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    q = (
        select(m.District.id, literal(at).label("at"))
        .where(m.District.id.in_(["anc", "fai", "nowhere"]))
        .order_by(m.District.id)
    )
    with Session(db) as s:
        rows = driver_tuples(s, q)
        expected = [tuple(r) for r in s.execute(q)]

    def utc(when: datetime) -> datetime:  # (SQLite gives the instant back without its zone)
        return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)

    assert [(r[0], utc(r[1])) for r in rows] == [("anc", at), ("fai", at)]
    assert [(r[0], utc(r[1])) for r in expected] == [("anc", at), ("fai", at)]


@pytest.mark.postgres
def test_a_database_error_is_sqlalchemys_and_the_session_goes_on(db: Engine) -> None:
    broken = select((literal(1) / (func.random() * 0).cast(Integer)).label("x")).where(true())
    with Session(db) as s:
        with pytest.raises(DBAPIError) as failed:
            driver_tuples(s, broken)
        assert "division by zero" in str(failed.value.orig)
        assert failed.value.connection_invalidated is False
        s.rollback()
        assert driver_tuples(s, select(literal(7))) == [(7,)]
