"""Storage: engine and session factory, and the Alembic entry points."""

from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import CursorResult, Engine, Executable, create_engine, event, text
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, *, pool_size: int = 10, null_pool: bool = False) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=NullPool if null_pool else None,
            hide_parameters=True,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            # WAL with synchronous=NORMAL stays consistent after a crash and commits without an
            # fsync each time: the per-request replay guard writes on every request.
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if null_pool:
        return create_engine(url, poolclass=NullPool, hide_parameters=True)
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
        # SQL parameters can hold note text or names; errors and logs must never show them.
        hide_parameters=True,
    )
    _ping_when_idle(engine)
    return engine


PING_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use when it has sat idle for ``PING_IDLE_SECONDS``:
    one that a database restart or a network drop closed meanwhile is replaced, as with
    ``pool_pre_ping``, without a round trip on every checkout of a busy pool (a request checks
    out two). A connection that fails while in use invalidates the whole pool anyway."""

    @event.listens_for(engine, "checkin")
    def _idle_since(dbapi_conn, record):  # type: ignore[no-untyped-def]
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn, record, proxy):  # type: ignore[no-untyped-def]
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < PING_IDLE_SECONDS:
            return  # just connected, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise DisconnectionError("idle connection closed") from exc  # the pool reconnects


# PostgreSQL's serialization_failure and deadlock_detected: the transaction was rolled back
# whole and running it again is safe.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


def is_retryable(exc: BaseException) -> bool:
    """True when ``exc`` is a lost race the database rolled back (a deadlock, a serialization
    failure, SQLite's busy or locked database), so the whole transaction may simply run again."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    # SQLITE_BUSY reads "database is locked", SQLITE_LOCKED "database table is locked".
    return isinstance(exc, OperationalError) and "is locked" in str(orig).lower()


@lru_cache(maxsize=8)
def each_statement_commits(engine: Engine) -> Engine:
    """``engine`` in autocommit mode: no BEGIN and no COMMIT round trip, each statement commits
    on its own. For a use case whose reads need no snapshot in common (under PostgreSQL's READ
    COMMITTED each statement has its own anyway) and whose one write is its last statement."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def plain_rows(
    s: Session, stmt: Executable, params: dict[str, Any]
) -> CursorResult[*tuple[Any, ...]]:
    """``stmt`` on the session's connection, after flushing what ``s.execute`` would flush
    first: plain rows, without the ORM's result layer (for reads on a hot path)."""
    s.flush()
    return s.connection().execute(stmt, params)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def ping(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def is_current(engine: Engine) -> bool:
    """True when the schema is at the newest migration."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
    return set(current) == set(script.get_heads())
