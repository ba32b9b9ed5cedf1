"""Benchmark: service minutes over 100,000 students and 1,000,000 sessions on PostgreSQL.

    python bench/minutes.py [--students 100000] [--sessions-per-student 10]
        [--pg postgresql://postgres@127.0.0.1:5432/caseload_bench_minutes] [--month 2026-11]
        [--district-students 10000] [--skip-load] [--slots]

Reuses ``bench/sweep.py``'s synthetic roster (cached by size under the system temp folder) and
its PostgreSQL reset, bulk-loads the tables the minutes read (COPY), then gathers the schools of
one district until it holds ``--district-students`` students (the synthetic districts are
smaller), and measures, each in a fresh process as of Monday 2026-11-30 17:00Z:

* ``district summary``: what ``/minutes district=…`` computes (every student service's required,
  delivered and owed minutes for the month, and the make-ups owed per provider) — target 2 s;
* ``organisation summary``: the same for every district at once (what the digest lines need) —
  target 5 s at a peak of 500 MB (``ru_maxrss`` of the measuring process);
* ``district CSV``: ``report minutes`` for that district, one row per session — target 5 s;
  and its ``--summary``.

``--slots`` gives every approved student service a weekly slot (approved the day before the month)
and puts a held session on file for each of the slot's dates in the month, under the slot's own
key, as the session generator would: the realistic case for the slot dates the minutes rule and
the sweeper check. With ``--skip-load`` the slots are added only if the database has none yet.

The PostgreSQL database named by ``--pg`` is created if missing and its public schema is dropped
and recreated: do not point it at data you want to keep.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.sweep import NOW, TABLES, peak_mb, reset_postgres, roster  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/caseload_bench_minutes"
EXTRA_TABLES = [
    (
        "services",
        "services.csv",
        ("student_id", "service", "sessions_per_week", "session_minutes", "group_ok",
         "minutes_per_week", "minutes_per_month", "starts_on", "ends_on"),
    ),
]  # fmt: skip
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def load(url: str, folder: Path) -> None:
    import csv

    import psycopg

    from storage.db import migrate

    migrate(url)
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        # Managers are not read by the minutes (and their file carries a district list).
        for table, filename, columns in [*TABLES, *EXTRA_TABLES]:
            if table == "managers":
                continue
            cols = ", ".join(columns)
            sql = f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv, HEADER true, NULL '')"
            with conn.cursor() as cur, cur.copy(sql) as copy, open(folder / filename, "rb") as f:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
        with open(folder / "school_hours.csv", newline="") as f, conn.cursor() as cur:
            rows = []
            for r in csv.DictReader(f):
                h1, m1 = r["start"].split(":")
                h2, m2 = r["end"].split(":")
                rows.append(
                    (r["school_id"], DAYS.index(r["day"]), int(h1) * 60 + int(m1),
                     int(h2) * 60 + int(m2))
                )  # fmt: skip
            cur.executemany(
                "INSERT INTO school_hours (school_id, day, start_minute, end_minute) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                rows,
            )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")


SLOTS_SQL = """
UPDATE assignments SET approved_at = %(approved)s;
INSERT INTO assignment_slots (assignment_id, day, start_minute, end_minute, timezone)
SELECT a.id, abs(hashtext(a.student_id)) %% 5, 480 + (abs(hashtext(a.service)) %% 12) * 30,
       480 + (abs(hashtext(a.service)) %% 12) * 30 + ss.session_minutes,
       coalesce(sc.timezone, d.timezone)
FROM assignments a
JOIN services ss ON ss.student_id = a.student_id AND ss.service = a.service
JOIN students st ON st.id = a.student_id
JOIN schools sc ON sc.id = st.school_id
JOIN districts d ON d.id = sc.district_id;
INSERT INTO sessions (session_key, provider_id, student_id, service, starts_at, minutes, status,
                      note_done_at, makeup)
SELECT 'slot:' || sl.id || ':' || to_char(g.on_day, 'YYYY-MM-DD'), a.provider_id, a.student_id,
       a.service, (g.on_day + sl.start_minute * interval '1 minute') AT TIME ZONE sl.timezone,
       sl.end_minute - sl.start_minute, 'held',
       (g.on_day + sl.end_minute * interval '1 minute') AT TIME ZONE sl.timezone, false
FROM assignment_slots sl
JOIN assignments a ON a.id = sl.assignment_id
CROSS JOIN generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS g(on_day)
WHERE extract(isodow FROM g.on_day) - 1 = sl.day;
"""


def add_slots(url: str, month: str) -> tuple[int, int]:
    """A weekly slot for every approved student service, and a held session for each of its
    dates in ``month`` (the generator's); returns (slots, sessions) added."""
    import psycopg

    from bot.domain.minutes import Month

    span = Month.parse(month)
    approved = f"{(span.first - timedelta(days=1)).isoformat()}T12:00:00+00:00"
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        before = conn.execute("SELECT count(*) FROM sessions").fetchone()
        params = {"approved": approved, "first": span.first, "last": span.last}
        for statement in SLOTS_SQL.split(";"):
            if statement.strip():
                conn.execute(statement, params)
        slots = conn.execute("SELECT count(*) FROM assignment_slots").fetchone()
        after = conn.execute("SELECT count(*) FROM sessions").fetchone()
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    assert before is not None and slots is not None and after is not None
    return slots[0], after[0] - before[0]


def has_slots(url: str) -> bool:
    import psycopg

    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        return conn.execute("SELECT 1 FROM assignment_slots LIMIT 1").fetchone() is not None


def make_big_district(url: str, students: int) -> tuple[str, int]:
    """Move whole schools into the largest district until it holds ``students`` students."""
    import psycopg

    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        sizes = conn.execute(
            "SELECT s.district_id, s.id, count(st.id) FROM schools s "
            "JOIN students st ON st.school_id = s.id GROUP BY s.district_id, s.id "
            "ORDER BY s.district_id, s.id"
        ).fetchall()
        per: dict[str, int] = {}
        for district, _, n in sizes:
            per[district] = per.get(district, 0) + n
        target = max(per, key=lambda d: per[d])
        total = per[target]
        moved: list[str] = []
        for district, school, n in sizes:
            if total >= students:
                break
            if district != target:
                moved.append(school)
                total += n
        if moved:
            conn.execute("UPDATE schools SET district_id = %s WHERE id = ANY(%s)", (target, moved))
            conn.execute("ANALYZE schools")
        return target, total


MEASURE = r"""
import io, json, sys, time, resource
sys.path.insert(0, {root!r})
from datetime import datetime
from bot.clock import FixedClock
from bot.deps import build_deps
from bot.domain.minutes import Month
from bot.settings import load_settings
from storage import minutes as q
from bot.services import minutes as svc
from bot.services.minutes_report import write_report
from storage import models as m

settings = load_settings({{"DATABASE_URL": {url!r}}})
deps = build_deps(settings, clock=FixedClock(datetime.fromisoformat({now!r})))
month = Month.parse({month!r})
now = deps.clock.now()
what, district = {what!r}, {district!r}
started = time.perf_counter()
figures = {{}}
if what == "district":
    with deps.session_factory() as s:
        d = s.get(m.District, district)
        view = svc.district_minutes(s, d, month, now, settings)
    figures = {{"services": view.services, "behind": view.students_behind,
               "makeups_owed": view.makeups_owed}}
elif what == "org":
    with deps.session_factory() as s:
        items, owed = svc.month_figures(s, q.Scope(), month, now, settings)
    figures = {{"services": len(items), "behind": sum(i.line.behind for i in items),
               "makeups_owed": len(owed)}}
else:
    out = open("/dev/null", "w")
    report = write_report(deps, district, month, out, summary=(what == "summary_csv"))
    figures = {{"rows": report.rows}}
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"seconds": seconds, "peak_mb": peak, **figures}}))
"""


def measure(url: str, what: str, district: str, month: str) -> dict[str, float]:
    code = MEASURE.format(
        root=str(ROOT), url=url, now=NOW.isoformat(), month=month, what=what, district=district
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=ROOT
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr[-2000:])
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--students", type=int, default=100_000)
    p.add_argument("--sessions-per-student", type=int, default=10)
    p.add_argument("--pg", default=DEFAULT_PG)
    p.add_argument("--month", default="2026-11")
    p.add_argument("--district-students", type=int, default=10_000)
    p.add_argument("--skip-load", action="store_true", help="reuse what --pg already holds")
    p.add_argument("--repeat", type=int, default=3, help="runs per measurement (best and worst)")
    p.add_argument(
        "--slots",
        action="store_true",
        help="a weekly slot per student service, its dates' sessions on file",
    )
    p.add_argument(
        "--only",
        choices=["district", "org", "csv", "summary_csv"],
        action="append",
        help="measure only these (repeatable); default: all",
    )
    args = p.parse_args()

    folder = roster(args.students, args.sessions_per_student)
    url = args.pg.replace("postgresql://", "postgresql+psycopg://", 1)
    if not args.skip_load:
        started = time.perf_counter()
        url = reset_postgres(args.pg)
        load(url, folder)
        print(f"  loaded {folder.name} into PostgreSQL in {time.perf_counter() - started:.1f} s")
    if args.slots and not has_slots(url):
        started = time.perf_counter()
        slots, sessions = add_slots(url, args.month)
        print(
            f"  added {slots:,} weekly slots and {sessions:,} sessions on their dates "
            f"in {time.perf_counter() - started:.1f} s"
        )
    district, size = make_big_district(url, args.district_students)
    print(f"PostgreSQL, month {args.month}, district {district} with {size:,} students")
    targets = {"district": 2.0, "org": 5.0, "csv": 5.0, "summary_csv": 5.0}
    labels = {
        "district": "district summary",
        "org": "organisation summary",
        "csv": "district CSV (sessions)",
        "summary_csv": "district CSV (--summary)",
    }
    for what, target in targets.items():
        if args.only and what not in args.only:
            continue
        runs = [measure(url, what, district, args.month) for _ in range(args.repeat)]
        best = min(r["seconds"] for r in runs)
        worst = max(r["seconds"] for r in runs)
        peak = max(r["peak_mb"] for r in runs)
        extra = {k: v for k, v in runs[0].items() if k not in ("seconds", "peak_mb")}
        ok = "ok" if worst <= target else "OVER"
        print(
            f"  {labels[what]:<26} best {best:.2f} s, worst {worst:.2f} s "
            f"(target {target:.0f} s: {ok}), peak {peak:.0f} MB  {json.dumps(extra)}"
        )
    print(f"  (this process peaked at {peak_mb():.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
