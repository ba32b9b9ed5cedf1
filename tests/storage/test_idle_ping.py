"""Storage: a pooled PostgreSQL connection that sat idle is checked before use, and one that
the server closed is replaced; a connection used a moment ago is not checked (no round trip)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from storage import db as storage_db
from storage.db import make_engine


@pytest.fixture
def pooled(engine: Engine) -> Iterator[tuple[Engine, Engine]]:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's pool: SQLite connections are files")
    url = engine.url.render_as_string(hide_password=False)
    pool, admin = make_engine(url, pool_size=1), make_engine(url, null_pool=True)
    try:
        yield pool, admin
    finally:
        pool.dispose()
        admin.dispose()


def backend(pool: Engine) -> int:
    with pool.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def terminate(admin: Engine, pid: int) -> None:
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        conn.commit()


def test_an_idle_connection_the_server_closed_is_replaced_before_use(
    pooled: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool, admin = pooled
    monkeypatch.setattr(storage_db, "PING_IDLE_SECONDS", 0.0)  # every checkout counts as idle
    first = backend(pool)
    terminate(admin, first)
    assert backend(pool) != first  # pinged, found closed, reconnected: no error


def test_a_connection_used_a_moment_ago_is_not_pinged(
    pooled: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool, admin = pooled
    monkeypatch.setattr(storage_db, "PING_IDLE_SECONDS", 3600.0)
    first = backend(pool)
    terminate(admin, first)
    with pytest.raises(OperationalError):  # no ping: the closed connection is found in use
        backend(pool)
    assert backend(pool) != first  # and the pool has replaced it
