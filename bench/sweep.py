"""Benchmark: one deadline sweep over 100,000 students and 1,000,000 sessions.

    python bench/sweep.py [--students 100000] [--sessions-per-student 10]
        [--pg postgresql://postgres@127.0.0.1:5432/caseload_bench_sweep] [--sqlite PATH]
        [--only pg|sqlite]

Writes a synthetic roster with ``demo.generate.write_synthetic_roster`` (cached by size under
the system temp folder), bulk-loads the tables the sweeps read (COPY on PostgreSQL, executemany
on SQLite; the schema comes from the Alembic migrations), then measures in a fresh process, as
of Monday 2026-11-30 17:00Z (the roster's anchor):

* ``sweep``: every sweep of ``jobs run-once`` (annual reviews, triennials, SOAP notes,
  licences, managers' digest) — finding what is due and queueing it in the outbox;
* ``deliver``: one delivery pass over what was queued, with a no-op Slack gateway (claims,
  per-recipient checks and rendering, marking sent; no network, which real Slack would dominate);
* ``re-sweep``: the same sweeps again at the same instant (the steady state: nothing new).

Peak memory is the measuring process's ``ru_maxrss`` after each phase. Targets: sweep <= 10 s on
PostgreSQL, peak <= 500 MB. The PostgreSQL database named by ``--pg`` is created if missing and
its public schema is dropped and recreated: do not point it at data you want to keep.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 11, 30, 17, tzinfo=UTC)
ANCHOR = date(2026, 11, 30)
# Its own database: other benchmarks drop and reload ``caseload_bench``.
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/caseload_bench_sweep"

# table -> (CSV file, columns in the CSV's order); the sweeps read only these tables.
TABLES: list[tuple[str, str, tuple[str, ...]]] = [
    ("districts", "districts.csv", ("id", "name", "state", "timezone")),
    ("schools", "schools.csv", ("id", "district_id", "name", "timezone")),
    (
        "providers",
        "providers.csv",
        ("id", "name", "email", "slack_user_id", "discipline", "home_state", "timezone",
         "weekly_hours"),
    ),
    ("licenses", "licenses.csv", ("provider_id", "state", "expires_on", "license_number")),
    ("managers", "managers.csv", ("id", "name", "email", "slack_user_id")),
    (
        "students",
        "students.csv",
        ("id", "school_id", "first_name", "last_name", "grade", "annual_review_due",
         "triennial_due"),
    ),
    ("assignments", "assignments.csv", ("student_id", "service", "provider_id")),
    (
        "sessions",
        "sessions.csv",
        ("session_key", "provider_id", "student_id", "service", "starts_at", "minutes", "status",
         "note_done_at"),
    ),
]  # fmt: skip
TIMESTAMPS = {"starts_at", "note_done_at"}


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- setup ---------------------------------------------------------------------------------


def roster(students: int, per_student: int) -> Path:
    folder = Path(tempfile.gettempdir()) / f"caseload-bench-{students}-{per_student}"
    if (folder / "sessions.csv").exists():
        return folder
    from demo.generate import write_synthetic_roster

    started = time.perf_counter()
    write_synthetic_roster(
        folder,
        students=students,
        sessions_per_student=per_student,
        assign_all=True,
        today=ANCHOR,
    )
    print(f"  roster written to {folder} in {time.perf_counter() - started:.1f} s")
    return folder


def reset_postgres(url: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin.replace("+psycopg", ""), autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{parsed.database}"')
    sa_url = parsed.render_as_string(hide_password=False)
    with psycopg.connect(sa_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return sa_url


def load_postgres(url: str, folder: Path) -> None:
    import psycopg

    from storage.db import migrate

    migrate(url)
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        for table, filename, columns in TABLES:
            cols = ", ".join(columns)
            sql = f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv, HEADER true, NULL '')"
            with conn.cursor() as cur, cur.copy(sql) as copy, open(folder / filename, "rb") as f:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")


def _sqlite_value(column: str, value: str) -> Any:
    if value == "":
        return None
    if column in TIMESTAMPS:
        moment = datetime.fromisoformat(value).astimezone(UTC)
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite DateTime format
    return value


def load_sqlite(path: Path, folder: Path) -> str:
    import sqlite3

    from storage.db import migrate

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    migrate(url)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    for table, filename, columns in TABLES:
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        with open(folder / filename, newline="") as f:
            reader = csv.reader(f)
            next(reader)
            batch: list[list[Any]] = []
            for row in reader:
                batch.append([_sqlite_value(c, v) for c, v in zip(columns, row, strict=True)])
                if len(batch) >= 50_000:
                    conn.executemany(sql, batch)
                    batch.clear()
            conn.executemany(sql, batch)
        conn.commit()
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()
    return url


# --- the measurement, in a fresh process -----------------------------------------------------


class NoopNotifier:
    """Lays out every DM as the Slack gateway would, and takes it at once: delivery is timed
    without the network."""

    def __init__(self) -> None:
        self.posted = 0

    def send_dm(self, user_id: str, message: object, *, key: str | None = None) -> Any:
        from bot.services.ports import Sent
        from bot.views.dm import render

        render(message)
        self.posted += 1
        return Sent(channel="D" + user_id, ts=f"{self.posted}.0")

    def was_sent(self, user_id: str, key: str) -> bool:
        return False


def measure(url: str) -> dict[str, Any]:
    from bot.clock import FixedClock
    from bot.deps import Deps
    from bot.services import nudges
    from bot.settings import load_settings
    from storage.db import make_engine, make_session_factory

    settings = load_settings({"DATABASE_URL": url, "SLACK_BOT_TOKEN": "xoxb-bench"})
    engine = make_engine(settings.database_url)
    deps = Deps(
        settings,
        engine,
        make_session_factory(engine),
        FixedClock(NOW),
        None,  # type: ignore[arg-type]  # no Slack: the notifier below takes every DM
        notifier_override=NoopNotifier(),
    )
    out: dict[str, Any] = {"startup_mb": round(peak_mb())}

    started = time.perf_counter()
    queued = {name: sweep(deps) for name, sweep in nudges.SWEEPS}
    out["sweep_s"] = round(time.perf_counter() - started, 2)
    out["sweep_peak_mb"] = round(peak_mb())
    out["queued"] = queued

    started = time.perf_counter()
    report = nudges.deliver(deps, worker="bench")
    out["deliver_s"] = round(time.perf_counter() - started, 2)
    out["deliver_peak_mb"] = round(peak_mb())
    out["dms"], out["items"], out["held"] = report.messages, report.items, report.held

    started = time.perf_counter()
    again = {name: sweep(deps) for name, sweep in nudges.SWEEPS}
    out["resweep_s"] = round(time.perf_counter() - started, 2)
    out["resweep_new"] = sum(again.values())
    out["peak_mb"] = round(peak_mb())
    engine.dispose()
    return out


def run_child(url: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--measure", url],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise SystemExit(f"measurement failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--sessions-per-student", type=int, default=10)
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--sqlite", type=Path, default=Path(tempfile.gettempdir()) / "bench.db")
    parser.add_argument("--only", choices=("pg", "sqlite"))
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return 0

    print(
        f"Synthetic roster: {args.students:,} students, {args.sessions_per_student} sessions each"
    )
    folder = roster(args.students, args.sessions_per_student)
    results: dict[str, dict[str, Any]] = {}
    if args.only in (None, "pg"):
        started = time.perf_counter()
        url = reset_postgres(args.pg)
        load_postgres(url, folder)
        print(f"  PostgreSQL loaded in {time.perf_counter() - started:.0f} s")
        results["PostgreSQL"] = run_child(url)
    if args.only in (None, "sqlite"):
        started = time.perf_counter()
        url = load_sqlite(args.sqlite, folder)
        print(f"  SQLite loaded in {time.perf_counter() - started:.0f} s")
        results["SQLite"] = run_child(url)

    print()
    print(f"{'database':<11} {'sweep s':>8} {'peak MB':>8} {'deliver s':>10} {'DMs':>7} "
          f"{'items':>7} {'re-sweep s':>11} {'peak MB (all)':>14}")  # fmt: skip
    for name, r in results.items():
        print(
            f"{name:<11} {r['sweep_s']:>8.2f} {r['sweep_peak_mb']:>8} {r['deliver_s']:>10.2f} "
            f"{r['dms']:>7} {r['items']:>7} {r['resweep_s']:>11.2f} {r['peak_mb']:>14}"
        )
    for name, r in results.items():
        print(f"{name} queued per sweep: {r['queued']}; held for working hours: {r['held']}")
    pg = results.get("PostgreSQL")
    if pg:
        ok = pg["sweep_s"] <= 10 and pg["peak_mb"] <= 500
        print(f"targets (PostgreSQL sweep <= 10 s, peak <= 500 MB): {'met' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
