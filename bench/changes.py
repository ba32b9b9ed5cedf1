"""Benchmark: the whole organisation's conflict scan, and a provider's time-off save.

    python bench/changes.py [--students 100000] [--sessions-per-student 10]
        [--pg postgresql://postgres@127.0.0.1:5432/caseload_bench_changes] [--saves 60]

Reuses ``bench/sweep.py``'s synthetic roster (100,000 students, 1,000,000 past sessions) and its
COPY loader, then adds what the sweep bench does not need: each provider's weekly availability
(availability.csv), one weekly slot per (assignment, weekday and time) of the roster's last week
of sessions, and a winter break (Dec 21 – Jan 1) for every third district. In a fresh process,
as of Monday 2026-11-30 17:00Z:

* ``scan``: every district's conflicts over the next 60 days, as the manager Home, ``/caseload``
  and the digest read them (``bot.services.conflicts.district_conflicts``, whole organisation);
* ``time-off save``: for ``--saves`` providers, their next 14 days of sessions are generated,
  then "out Dec 8 - Dec 9" is previewed (untimed) and saved (timed): the save cancels the
  sessions on those days (``provider_out``) and commits, which is what the Slack ack waits for.

Targets: scan <= 5 s, save p99 <= 300 ms. The database named by ``--pg`` is dropped and
reloaded: do not point it at data you want to keep. Also loads school_hours.csv (the sweep bench
does not need it; session generation does).
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import sweep  # noqa: E402

NOW = sweep.NOW
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/caseload_bench_changes"
DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}

SLOTS_SQL = """
INSERT INTO assignment_slots (assignment_id, day, start_minute, end_minute, timezone)
SELECT DISTINCT a.id,
       EXTRACT(ISODOW FROM s.starts_at AT TIME ZONE z.tz)::int - 1,
       (EXTRACT(HOUR FROM s.starts_at AT TIME ZONE z.tz) * 60
        + EXTRACT(MINUTE FROM s.starts_at AT TIME ZONE z.tz))::int,
       (EXTRACT(HOUR FROM s.starts_at AT TIME ZONE z.tz) * 60
        + EXTRACT(MINUTE FROM s.starts_at AT TIME ZONE z.tz))::int + s.minutes,
       z.tz
FROM sessions s
JOIN assignments a ON a.student_id = s.student_id AND a.service = s.service
JOIN students st ON st.id = s.student_id
JOIN schools sc ON sc.id = st.school_id
JOIN districts d ON d.id = sc.district_id
CROSS JOIN LATERAL (SELECT COALESCE(sc.timezone, d.timezone) AS tz) z
WHERE s.starts_at >= '2026-11-23' AND s.starts_at < '2026-11-30'
"""

WINTER_SQL = """
INSERT INTO school_calendar (district_id, start_date, end_date, kind)
SELECT id, DATE '2026-12-21', DATE '2027-01-01', 'closed'
FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM districts) x WHERE n % 3 = 0
"""


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def load_extra(url: str, folder: Path) -> dict[str, int]:
    """Availability windows, weekly slots and winter breaks on top of the sweep bench's load."""
    import psycopg

    tz = {}
    with open(folder / "providers.csv", newline="") as f:
        for row in csv.DictReader(f):
            tz[row["provider_id"]] = row["timezone"]
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        sql = (
            "COPY availability_windows (provider_id, day, start_minute, end_minute, timezone) "
            "FROM STDIN"
        )
        with conn.cursor() as cur, cur.copy(sql) as copy, open(folder / "availability.csv") as f:
            for row in csv.DictReader(f):
                copy.write_row(
                    (
                        row["provider_id"],
                        DAYS[row["day"]],
                        _minutes(row["start"]),
                        _minutes(row["end"]),
                        tz[row["provider_id"]],
                    )
                )
        sql = "COPY school_hours (school_id, day, start_minute, end_minute) FROM STDIN"
        with conn.cursor() as cur, cur.copy(sql) as copy, open(folder / "school_hours.csv") as f:
            for row in csv.DictReader(f):
                copy.write_row((row["school_id"], DAYS[row["day"]], _minutes(row["start"]),
                                _minutes(row["end"])))  # fmt: skip
        conn.execute(SLOTS_SQL)
        conn.execute(WINTER_SQL)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
            for t in (
                "students",
                "sessions",
                "assignment_slots",
                "availability_windows",
                "school_hours",
            )
        }
    return counts


def measure(url: str, saves: int) -> dict[str, Any]:
    from sqlalchemy import func, select

    from bot.clock import FixedClock
    from bot.deps import Deps
    from bot.services import availability
    from bot.services import sessions as sessions_svc
    from bot.services.availability import Preview
    from bot.services.conflicts import district_conflicts
    from bot.settings import load_settings
    from storage import models as m
    from storage.db import make_engine, make_session_factory

    settings = load_settings({"DATABASE_URL": url, "SLACK_BOT_TOKEN": "xoxb-bench"})
    engine = make_engine(settings.database_url)
    clock = FixedClock(NOW)
    deps = Deps(
        settings,
        engine,
        make_session_factory(engine),
        clock,
        None,  # type: ignore[arg-type]  # no Slack: the notifier below takes every DM
        notifier_override=sweep.NoopNotifier(),
    )
    out: dict[str, Any] = {}

    scans = []
    for _ in range(3):
        started = time.perf_counter()
        with deps.session_factory() as s:
            found = district_conflicts(s, NOW, settings.org_timezone, False, None)
        scans.append(time.perf_counter() - started)
    out["scan_s"] = [round(x, 2) for x in scans]
    out["districts_with_conflicts"] = len(found)
    out["conflicts"] = sum(d.total for d in found)
    out["scan_peak_mb"] = round(sweep.peak_mb())

    with deps.session_factory() as s:
        q = (
            select(m.Provider.id, m.Provider.slack_user_id)
            .join(m.Assignment, m.Assignment.provider_id == m.Provider.id)
            .group_by(m.Provider.id, m.Provider.slack_user_id)
            .having(func.count() >= 5)
            .order_by(m.Provider.id)
        )
        chosen = list(s.execute(q))[:: max(1, 1000 // max(saves, 1))][:saves]
    timings: list[float] = []
    cancelled = 0
    for pid, slack_id in chosen:
        sessions_svc.generate_sessions(deps, NOW, provider_ids=[pid])
        preview = availability.preview(deps, slack_id, "out Dec 8 - Dec 9")
        assert isinstance(preview, Preview), preview
        started = time.perf_counter()
        saved = availability.save(deps, slack_id, preview.pending_id)
        timings.append((time.perf_counter() - started) * 1000)
        cancelled += saved.effects.cancelled
    timings.sort()
    out["saves"] = len(timings)
    out["save_ms_p50"] = round(statistics.median(timings), 1)
    out["save_ms_p99"] = round(timings[min(len(timings) - 1, int(len(timings) * 0.99))], 1)
    out["save_ms_max"] = round(timings[-1], 1)
    out["cancelled"] = cancelled
    out["peak_mb"] = round(sweep.peak_mb())
    engine.dispose()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--sessions-per-student", type=int, default=10)
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--saves", type=int, default=60)
    parser.add_argument("--skip-load", action="store_true", help="reuse the loaded database")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.saves)))
        return 0

    per = args.sessions_per_student
    print(f"Synthetic roster: {args.students:,} students, {per} sessions each")
    folder = sweep.roster(args.students, args.sessions_per_student)
    if args.skip_load:
        from sqlalchemy.engine import make_url

        url = make_url(args.pg.replace("postgresql://", "postgresql+psycopg://", 1))
        url_text = url.render_as_string(hide_password=False)
    else:
        started = time.perf_counter()
        url_text = sweep.reset_postgres(args.pg)
        sweep.load_postgres(url_text, folder)
        counts = load_extra(url_text, folder)
        print(f"  PostgreSQL loaded in {time.perf_counter() - started:.0f} s: {counts}")
    done = subprocess.run(
        [sys.executable, __file__, "--measure", url_text, "--saves", str(args.saves)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise SystemExit(f"measurement failed:\n{done.stderr}")
    r = json.loads(done.stdout.strip().splitlines()[-1])
    print()
    scans = ", ".join(f"{x:.2f}" for x in r["scan_s"])
    print(
        f"whole-organisation conflict scan (60 days): {scans} s"
        f" ({r['conflicts']:,} conflicts in {r['districts_with_conflicts']} districts), "
        f"peak {r['scan_peak_mb']} MB"
    )
    print(
        f"time-off save with its cancellations ({r['saves']} providers, {r['cancelled']} sessions "
        f"cancelled): p50 {r['save_ms_p50']} ms, p99 {r['save_ms_p99']} ms, "
        f"max {r['save_ms_max']} ms"
    )
    ok = max(r["scan_s"]) <= 5 and r["save_ms_p99"] <= 300
    print(f"targets (scan <= 5 s, save p99 <= 300 ms): {'met' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
