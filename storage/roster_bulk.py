"""Storage: the import's bulk plumbing: rows as plain tuples, in and out, at the driver's speed.

A chunk of rows goes in as one COPY on PostgreSQL and one ``executemany`` of a plain INSERT on
SQLite; the stored rows a chunk names come back as the driver gives them, in one query. Values
are converted with the same processors SQLAlchemy would use, so what is stored is the same as
through the ORM, and an unchanged row compares equal as a plain tuple, with no per-value work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Date, DateTime, Table, insert
from sqlalchemy.orm import Session

from storage.types import UTCDateTime

Tuple = tuple[Any, ...]
SQLITE_CACHE_KB = 256 * 1024  # the page cache during an import
_MEMO = 100_000  # distinct dates and instants remembered per column (a roster repeats them)


def _memo(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    cache: dict[Any, Any] = {}

    def run(value: Any) -> Any:
        try:
            return cache[value]
        except KeyError:
            if len(cache) >= _MEMO:
                cache.clear()
            out = cache[value] = convert(value)
            return out

    return run


def _same_row(row: Tuple) -> Tuple:
    return row


def _by_position(
    converters: Sequence[tuple[int, Callable[[Any], Any]]],
) -> Callable[[Tuple], Tuple]:
    if not converters:
        return lambda row: row

    def convert(row: Tuple) -> Tuple:
        out = list(row)
        for i, conv in converters:
            out[i] = conv(out[i])
        return tuple(out)

    return convert


class Bulk:
    """Plain-tuple inserts and reads for one session's connection."""

    def __init__(self, s: Session) -> None:
        self.s = s
        self.dialect = s.get_bind().dialect
        self.postgres = self.dialect.name == "postgresql"
        self.qmark = self.dialect.paramstyle == "qmark"
        self._quote = self.dialect.identifier_preparer.quote
        self._binders: dict[tuple[str, tuple[str, ...]], Callable[[Tuple], Tuple]] = {}
        self._loaders: dict[tuple[str, tuple[str, ...]], Callable[[Tuple], Tuple]] = {}
        self._coltypes: dict[tuple[str, tuple[str, ...]], list[Any]] = {}  # the driver's types
        self._cache_size: Any = None
        if self.dialect.name == "sqlite":
            # A big import touches every index page; SQLite's default 2 MB page cache would
            # write and read them back over and over. Given back by ``done``.
            conn = self.s.connection()
            self._cache_size = conn.exec_driver_sql("PRAGMA cache_size").scalar()
            conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KB}")

    def done(self) -> None:
        if self._cache_size is not None:
            self.s.connection().exec_driver_sql(f"PRAGMA cache_size = {int(self._cache_size)}")

    def binder(self, table: Table, names: tuple[str, ...]) -> Callable[[Tuple], Tuple]:
        """A row of Python values -> the row as the driver is given it (and gives it back)."""
        key = (table.name, names)
        if self.postgres:  # psycopg takes and gives Python values (an instant equals itself)
            return _same_row
        if key not in self._binders:
            converters: list[tuple[int, Callable[[Any], Any]]] = []
            for i, name in enumerate(names):
                impl = table.c[name].type.dialect_impl(self.dialect)
                proc = impl.bind_processor(self.dialect)
                if proc is not None:
                    dated = isinstance(table.c[name].type, Date | DateTime | UTCDateTime)
                    converters.append((i, _memo(proc) if dated else proc))
            self._binders[key] = _by_position(converters)
        return self._binders[key]

    def loader(self, table: Table, names: tuple[str, ...]) -> Callable[[Tuple], Tuple]:
        """A row as ``stored`` gives it -> Python values, as a query through SQLAlchemy gives."""
        key = (table.name, names)
        coltypes = self._coltypes.get(key)
        if coltypes is None:  # some drivers' processors need the type the query gave back
            raise RuntimeError("a loader is made after a query through `stored`")
        if key not in self._loaders:
            converters: list[tuple[int, Callable[[Any], Any]]] = []
            for i, name in enumerate(names):
                impl = table.c[name].type.dialect_impl(self.dialect)
                proc = impl.result_processor(self.dialect, coltypes[i])
                if proc is not None:
                    converters.append((i, proc))
            self._loaders[key] = _by_position(converters)
        return self._loaders[key]

    def insert(self, table: Table, names: tuple[str, ...], rows: Sequence[Tuple]) -> None:
        """Insert rows of Python values, in ``names`` order."""
        if not rows:
            return
        if self.postgres and len(rows) > 100:
            self._copy(table, names, rows)
        elif self.qmark:
            cols = ", ".join(self._quote(n) for n in names)
            marks = ", ".join("?" for _ in names)
            sql = f"INSERT INTO {self._quote(table.name)} ({cols}) VALUES ({marks})"
            bind = self.binder(table, names)
            self.s.connection().exec_driver_sql(sql, [bind(r) for r in rows])
        else:
            self.s.execute(insert(table), [dict(zip(names, r, strict=True)) for r in rows])

    def _copy(self, table: Table, names: tuple[str, ...], rows: Sequence[Tuple]) -> None:
        driver = self.s.connection().connection.driver_connection
        assert driver is not None
        cols = ", ".join(self._quote(n) for n in names)
        sql = f"COPY {self._quote(table.name)} ({cols}) FROM STDIN"
        with driver.cursor() as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)

    def stored(
        self, table: Table, names: tuple[str, ...], n_key: int, keys: Sequence[Tuple]
    ) -> dict[Tuple, Tuple]:
        """The stored rows (``names`` columns, the key first) whose key is one of ``keys``, as
        the driver gives them, by key."""
        if not keys:
            return {}
        cols = ", ".join(f"t.{self._quote(n)}" for n in names)
        on = " AND ".join(f"t.{self._quote(n)} = k.c{i}" for i, n in enumerate(names[:n_key]))
        params: Sequence[Any]
        if self.postgres:
            # One text a key column, split by the server: a short query and no per-value work,
            # unless a value holds the separator (a control character no id can hold).
            params = ["\x1f".join(column) for column in zip(*keys, strict=True)]
            if all(p.count("\x1f") == len(keys) - 1 for p in params):
                arrays = ", ".join("string_to_array(%s, chr(31))" for _ in range(n_key))
            else:
                arrays = ", ".join("%s::text[]" for _ in range(n_key))
                params = [list(column) for column in zip(*keys, strict=True)]
            key_names = ", ".join(f"c{i}" for i in range(n_key))
            wanted = f"unnest({arrays}) AS k({key_names})"
        else:
            # A join, not IN: SQLite looks up each key in the table's unique index.
            one = "(" + ", ".join("?" for _ in range(n_key)) + ")"
            named = ", ".join(f"column{i + 1} AS c{i}" for i in range(n_key))
            wanted = f"(SELECT {named} FROM (VALUES {', '.join(one for _ in keys)})) AS k"
            params = [part for k in keys for part in k]
        sql = f"SELECT {cols} FROM {wanted} JOIN {self._quote(table.name)} AS t ON {on}"
        # The driver's own cursor: plain tuples, fetched at once (a read; nothing to observe).
        cursor = self.s.connection().connection.cursor()
        try:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            self._coltypes.setdefault((table.name, names), [d[1] for d in cursor.description])
        finally:
            cursor.close()
        return {row[:n_key]: row for row in rows}  # both drivers give plain tuples
