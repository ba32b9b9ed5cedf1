"""Storage: engine and session factory, plain-row reads, reads beside a session's own
(``Beside``), and the Alembic entry points."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, TypeVar, cast

import psycopg
from alembic import command
from alembic.config import Config
from psycopg.rows import args_row
from sqlalchemy import CursorResult, Engine, Executable, create_engine, event, text
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.sql import ClauseElement

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


T = TypeVar("T")
N = TypeVar("N", bound=tuple[Any, ...])
SIDE_WORK_MEM_MB = 64
_SNAPSHOT = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")


class Later(Generic[T]):
    """The answer of a read started ``beside`` the caller's (``get`` waits for it)."""

    def __init__(self, future: Future[T] | None = None, call: Callable[[], T] | None = None):
        self._future, self._call = future, call
        self._done = False
        self._value: T | None = None

    def get(self) -> T:
        if self._future is not None:
            return self._future.result()
        if not self._done:
            assert self._call is not None
            self._value, self._done = self._call(), True
        return self._value  # type: ignore[return-value]


class Beside:
    """Reads run beside the caller's own, each on a connection of its own, all seeing the
    database as of one moment: on PostgreSQL the caller's transaction exports its snapshot and
    each read imports it (REPEATABLE READ, read only), in up to ``workers`` threads. For a
    summary's few large independent reads: the database works on them while the caller's thread
    works on what it already has. Elsewhere (SQLite, or a session bound to a connection), when
    the caller's transaction has written (other connections would not see it), and when not
    ``wanted``, a read runs on the caller's session the first time its answer is asked for.
    Leaving the block waits for the reads still running."""

    def __init__(self, s: Session, *, wanted: bool = True, workers: int = 3) -> None:
        self._s = s
        bind = s.get_bind()
        self._engine = bind if isinstance(bind, Engine) else None
        self._side = wanted and self._engine is not None and bind.dialect.name == "postgresql"
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._snapshot = ""

    def __enter__(self) -> Beside:
        if self._side:
            # Another connection never sees this transaction's own writes: where it has made
            # any (flushed now, as a query here would), every read stays on the caller's.
            self._s.flush()
            snapshot, wrote = self._s.execute(
                text("SELECT pg_export_snapshot(), pg_current_xact_id_if_assigned() IS NOT NULL")
            ).one()
            if wrote:
                return self
            if not _SNAPSHOT.fullmatch(str(snapshot)):  # never expected: it goes into a SET
                raise ValueError(f"unexpected snapshot id {snapshot!r}")
            self._snapshot = str(snapshot)
            self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="beside")
        return self

    def read(self, fn: Callable[[Session], T]) -> Later[T]:
        if self._pool is None:
            return Later(call=lambda: fn(self._s))
        return Later(self._pool.submit(self._run, fn))

    def _run(self, fn: Callable[[Session], T]) -> T:
        with Session(self._engine) as t:
            t.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            t.execute(text("SET TRANSACTION READ ONLY"))
            t.execute(text(f"SET TRANSACTION SNAPSHOT '{self._snapshot}'"))
            # A read beside is a large one: room to group and hash it in memory (the default
            # 4 MB spills a hundred thousand groups to disk), and no compiling a plain scan.
            t.execute(text(f"SET LOCAL work_mem = '{SIDE_WORK_MEM_MB}MB'"))
            t.execute(text("SET LOCAL jit = off"))
            return fn(t)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._pool is not None:
            # (the exported snapshot lives until the reads that started end)
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def driver_tuples(s: Session, q: Executable) -> list[tuple[Any, ...]]:
    """Every row of a plain (non-ORM) query as the driver's own tuples (read by position only),
    for the largest reads. On PostgreSQL the driver's values are already what the columns hold
    (an instant comes in the connection's zone: compare it or convert it, never read its wall
    time); elsewhere (SQLite keeps dates as text) the rows go through the column types."""
    return _driver_rows(s, q, None)


def driver_named(s: Session, q: Executable, row: Callable[..., N]) -> list[N]:
    """``driver_tuples``, each made a ``row`` (a named tuple's class) as the driver reads it:
    no list of plain tuples first (a hundred thousand rows and more)."""
    return _driver_rows(s, q, row)


# Rows the server hands over at a time (see ``_driver_rows``).
CHUNK_ROWS = 20_000
# The client library streams in chunks from version 17 (``PQsetChunkedRowsMode``).
CHUNKED = psycopg.pq.version() >= 170000


def _driver_rows(s: Session, q: Executable, row: Callable[..., Any] | None) -> list[Any]:
    conn = s.connection()
    if conn.dialect.name != "postgresql":
        return [tuple(values) if row is None else row(*values) for values in conn.execute(q)]
    # Straight on the driver's cursor, the result streamed in chunks where the client library
    # can: read whole, it sits in the library's memory while the rows are made (for a hundred
    # thousand rows, tens of MB beside the rows themselves). (SQLAlchemy's own streaming is a
    # server-side cursor, which the planner never runs in parallel, and it reads a first row
    # ahead as its own kind of row.) The statement is compiled and its parameters converted as
    # SQLAlchemy would send them.
    compiled = cast(ClauseElement, q).compile(
        dialect=conn.dialect, compile_kwargs={"render_postcompile": True}
    )
    params = _plain_params(compiled, conn.dialect)
    driver = cast(psycopg.Connection[Any], conn.connection.driver_connection)
    try:
        with driver.cursor() as cursor:
            if row is not None:
                cursor.row_factory = args_row(row)
            if CHUNKED:
                return list(cursor.stream(compiled.string, params, size=CHUNK_ROWS))
            return cursor.execute(compiled.string, params).fetchall()
    except psycopg.Error as exc:
        # As SQLAlchemy itself would raise it (its own class for the error, parameters
        # hidden), and a connection the error broke is not handed out again.
        lost = conn.dialect.is_disconnect(cast(Any, exc), conn.connection, None)
        if lost:
            conn.invalidate(exc)
        raise DBAPIError.instance(
            compiled.string, params, exc, psycopg.Error,
            hide_parameters=True, connection_invalidated=lost, dialect=conn.dialect,
        ) from exc  # fmt: skip


def _plain_params(compiled: Any, dialect: Any) -> dict[str, Any]:
    """A compiled statement's parameters as the driver takes them: each converted by its type
    as SQLAlchemy would (an instant's zone checked, say)."""
    out = dict(compiled.params)
    for name, bind in compiled.binds.items():
        if name in out and (convert := bind.type.bind_processor(dialect)) is not None:
            out[name] = convert(out[name])
    return out


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
