"""Storage: the one outbox, and the one place that speaks ``ON CONFLICT`` and ``SKIP LOCKED``.

Every message the bot sends on its own (deadline nudges, the weekly digest, approval DMs, and
whatever a feature queues) goes through the same four steps on the ``nudges`` table:

1. ``enqueue`` inserts a row once per unique key. Keys already there are filtered first, so a
   steady-state sweep writes nothing; ``ON CONFLICT DO NOTHING`` settles a race with another
   process.
2. ``claim`` leases due rows to one worker (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, and a
   conditional UPDATE of the lease everywhere). The caller commits the claim before it talks to
   Slack: no row lock is ever held across a Slack call.
3. ``release`` gives rows back unsent (the next run retries them).
4. ``mark_sent`` records the send, only while the worker still holds the lease.

``insert_ignore`` and ``upsert`` are the generic dialect switch (PostgreSQL or SQLite) for any
table keyed by a unique constraint, so no other module needs the dialect's ``insert``.

Functions take a session and never commit: the calling service owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    CursorResult,
    Table,
    bindparam,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage import models as m

N = m.Nudge
IN_CHUNK = 900  # ids per IN (...) list (SQLite allows 999 parameters per statement)
INSERT_CHUNK = 1000
T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _table(target: Any) -> Table:
    return cast(Table, getattr(target, "__table__", target))


def _insert(s: Session | Connection, target: Any) -> Any:
    table = _table(target)
    dialect = s.dialect if isinstance(s, Connection) else s.get_bind().dialect
    return pg_insert(table) if dialect.name == "postgresql" else sqlite_insert(table)


def insert_ignore(
    s: Session | Connection,
    target: Any,
    rows: Sequence[Mapping[str, Any]],
    conflict: Sequence[str],
    *,
    returning: Any = None,
    chunk_size: int = INSERT_CHUNK,
) -> list[Any]:
    """Insert rows, skipping those that clash on the unique columns ``conflict``.

    ``target`` is a mapped class or a table. With ``returning`` (a column), the values of the
    rows actually inserted come back; otherwise an empty list. ``s`` may be a plain connection
    (for one statement in autocommit mode).
    """
    out: list[Any] = []
    if not rows:
        return out
    stmt = _insert(s, target).on_conflict_do_nothing(index_elements=list(conflict))
    if returning is not None:
        stmt = stmt.returning(returning)
    for chunk in chunks(list(rows), chunk_size):
        if returning is None:
            s.execute(stmt, list(chunk))
        elif len(chunk) == 1:  # bound parameters: the compiled statement is cached
            out += list(s.scalars(stmt, dict(chunk[0])))
        else:
            out += list(s.scalars(stmt.values(list(chunk))))
    return out


def insert_once_unsynced(conn: Connection, target: Any, row: Mapping[str, Any]) -> bool:
    """Insert one row unless its primary key is there already; True when this call inserted it.

    One statement, committed on its own: ``conn`` must be in autocommit mode. On PostgreSQL the
    statement sets ``synchronous_commit`` off for its own transaction (``set_config(…, true)``
    in its ``SELECT``), so its commit does not wait for the disk: the row is visible to every
    connection at once, and only a crash of the database server itself could forget the last
    fraction of a second of them. The statement is built once per table and dialect.
    """
    stmt = _insert_once(_table(target), conn.dialect.name, tuple(row))
    return conn.execute(stmt, dict(row)).first() is not None


@lru_cache(maxsize=16)
def _insert_once(table: Table, dialect: str, names: tuple[str, ...]) -> Any:
    keys = [c.name for c in table.primary_key.columns]
    params = [bindparam(n, type_=table.c[n].type) for n in names]
    if dialect == "postgresql":
        unsynced = text("set_config('synchronous_commit', 'off', true) IS NOT NULL")
        stmt: Any = pg_insert(table).from_select(list(names), select(*params).where(unsynced))
    else:
        stmt = sqlite_insert(table).values(dict(zip(names, params, strict=True)))
    return stmt.on_conflict_do_nothing(index_elements=keys).returning(table.c[keys[0]])


def upsert(
    s: Session,
    target: Any,
    rows: Sequence[Mapping[str, Any]],
    conflict: Sequence[str],
    update_columns: Sequence[str],
) -> None:
    """Insert rows; a row whose ``conflict`` columns exist updates ``update_columns`` instead."""
    if not rows:
        return
    base = _insert(s, target)
    if not update_columns:
        stmt = base.on_conflict_do_nothing(index_elements=list(conflict))
    else:
        stmt = base.on_conflict_do_update(
            index_elements=list(conflict),
            set_={c: getattr(base.excluded, c) for c in update_columns},
        )
    for chunk in chunks(list(rows), INSERT_CHUNK):
        s.execute(stmt, list(chunk))


# --- the outbox ----------------------------------------------------------------------------


def dm_now(
    *,
    key: str,
    rule: str,
    recipient_kind: str,
    recipient_id: str,
    subject_id: str,
    payload: dict[str, Any],
    now: datetime,
    stage: str = "new",
) -> dict[str, Any]:
    """An outbox row for a DM that goes out at once (no due date)."""
    return {
        "key": key,
        "rule": rule,
        "recipient_kind": recipient_kind,
        "recipient_id": recipient_id,
        "subject_id": subject_id,
        "due_on": None,
        "stage": stage,
        "payload": payload,
        "created_at": now,
        "send_after": now,
        "attempts": 0,
    }


def enqueue(s: Session, items: Iterable[Mapping[str, Any]]) -> int:
    """Insert the rows whose ``key`` is not in the outbox yet; returns how many were new.

    Rows are the ``nudges`` columns as a mapping (``key``, ``rule``, ``recipient_kind``, …).
    """
    fresh: dict[str, Mapping[str, Any]] = {}
    for item in items:
        fresh.setdefault(str(item["key"]), item)
    for keys in chunks(list(fresh), IN_CHUNK):
        for key in s.scalars(select(N.key).where(N.key.in_(keys))):
            fresh.pop(key, None)
    if not fresh:
        return 0
    insert_ignore(s, N, list(fresh.values()), ["key"])
    return len(fresh)


def enqueue_new(s: Session, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert rows under their keys; the ids of the rows this call inserted (not a rival's)."""
    return [int(i) for i in insert_ignore(s, N, rows, ["key"], returning=N.id)]


def unleased(now: datetime) -> ColumnElement[bool]:
    """Rows no worker holds a live lease on."""
    return or_(N.claimed_until.is_(None), N.claimed_until < now)


def claim(
    s: Session,
    where: ColumnElement[bool],
    worker: str,
    now: datetime,
    lease: timedelta,
) -> list[tuple[int, str, str]]:
    """Lease the unsent, unleased rows matching ``where`` to ``worker`` until ``now + lease``.

    Returns (id, recipient_kind, recipient_id) of the rows this worker got. PostgreSQL skips
    rows another transaction is claiming at this very moment; the conditional UPDATE makes the
    claim safe on SQLite too.
    """
    q = select(N.id).where(where, N.sent_at.is_(None), unleased(now))
    if s.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    ids = list(s.scalars(q))
    if not ids:
        return []
    got: list[tuple[int, str, str]] = []
    for chunk in chunks(ids, IN_CHUNK):
        got += [
            (int(i), str(kind), str(rid))
            for i, kind, rid in s.execute(
                update(N)
                .where(N.id.in_(chunk), N.sent_at.is_(None), unleased(now))
                .values(claimed_by=worker, claimed_until=now + lease, attempts=N.attempts + 1)
                .returning(N.id, N.recipient_kind, N.recipient_id)
                .execution_options(synchronize_session=False)
            )
        ]
    return got


def claim_key(s: Session, key: str, worker: str, now: datetime, lease: timedelta) -> bool:
    """Lease the one row under ``key``; False when it was sent or someone else holds it."""
    return bool(claim(s, N.key == key, worker, now, lease))


def release(s: Session, ids: Sequence[int], worker: str, error: str | None = None) -> None:
    """Give claimed rows back unsent; the next run takes them."""
    values: dict[str, Any] = {"claimed_by": None, "claimed_until": None}
    if error:
        values["last_error"] = error[:200]
    for chunk in chunks(list(ids), IN_CHUNK):
        s.execute(
            update(N)
            .where(N.id.in_(chunk), N.claimed_by == worker, N.sent_at.is_(None))
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def mark_sent(s: Session, ids: Sequence[int], worker: str, now: datetime) -> int:
    """Record rows as sent while ``worker`` still holds them; returns how many it marked."""
    marked = 0
    for chunk in chunks(list(ids), IN_CHUNK):
        result = s.execute(
            update(N)
            .where(N.id.in_(chunk), N.claimed_by == worker, N.sent_at.is_(None))
            .values(sent_at=now, claimed_until=None, last_error=None)
            .execution_options(synchronize_session=False)
        )
        marked += int(cast(CursorResult[Any], result).rowcount)
    return marked


def mark_skipped(s: Session, ids: Sequence[int], now: datetime, reason: str) -> int:
    """Drop unsent rows for good (``reason`` goes in ``last_error``); returns how many."""
    dropped = 0
    for chunk in chunks(list(ids), IN_CHUNK):
        result = s.execute(
            update(N)
            .where(N.id.in_(chunk), N.sent_at.is_(None), N.skipped_at.is_(None))
            .values(skipped_at=now, last_error=reason[:200], claimed_by=None, claimed_until=None)
            .execution_options(synchronize_session=False)
        )
        dropped += int(cast(CursorResult[Any], result).rowcount)
    return dropped


UNREACHABLE = "unreachable:"  # ``last_error`` prefix of rows dropped because Slack refused them


def unreachable(s: Session, since: datetime) -> dict[tuple[str, str], str]:
    """(recipient kind, id) -> Slack's reason, for people whose last DM since ``since`` was
    refused for good, with nothing sent to them after it (a later DM that got through, or a
    fixed Slack account, clears them)."""
    refused: dict[tuple[str, str], tuple[datetime, str]] = {}
    for kind, rid, at, error in s.execute(
        select(N.recipient_kind, N.recipient_id, N.skipped_at, N.last_error)
        .where(N.skipped_at >= since, N.last_error.like(f"{UNREACHABLE}%"))
        .order_by(N.skipped_at)
    ):
        if at is not None:
            refused[(str(kind), str(rid))] = (at, str(error)[len(UNREACHABLE) :])
    if not refused:
        return {}
    delivered: dict[tuple[str, str], datetime] = {
        (str(kind), str(rid)): at
        for kind, rid, at in s.execute(
            select(N.recipient_kind, N.recipient_id, func.max(N.sent_at))
            .where(
                N.sent_at >= since,
                N.recipient_id.in_(sorted({rid for _, rid in refused})),
            )
            .group_by(N.recipient_kind, N.recipient_id)
        )
        if at is not None
    }
    return {
        who: reason
        for who, (at, reason) in refused.items()
        if who not in delivered or delivered[who] < at
    }
