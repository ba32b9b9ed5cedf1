"""Benchmark: the real ``python -m bot import`` on an organisation-sized roster.

    python bench/import.py [--students 100000] [--sessions-per-student 10]
        [--pg postgresql://postgres@127.0.0.1:5432/bench_import] [--sqlite PATH]
        [--only pg|sqlite]

The roster is the synthetic one ``bench/sweep.py`` uses (``demo.generate``, cached by size under
the system temp folder): 100,000 students, about 140,000 services and assignments, 13,333
providers and 1,000,000 sessions. For each database it runs the CLI as a user does, each run in
its own process, and prints:

* ``full``: the import into an empty database (targets: PostgreSQL <= 60 s, SQLite <= 90 s,
  peak <= 1 GB);
* ``unchanged``: the same folder again (target <= 20 s; must write nothing);
* ``1% changed``: a copy of the folder with 1% of the students, services and sessions changed
  (target <= 30 s; must touch only those rows, with one audit row each).

Peak is the child process's maximum resident set size. The PostgreSQL database named by
``--pg`` is created if missing and its public schema dropped and recreated: do not point it at
data you want to keep.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.sweep import reset_postgres, roster  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/bench_import"
CHANGED_FILES = {
    "students.csv": "last_name",
    "services.csv": "session_minutes",
    "sessions.csv": "status",
}


def run_import(url: str, folder: Path) -> tuple[float, float, str]:
    """Seconds, peak MB and stdout of one ``python -m bot import FOLDER`` in its own process."""
    env = {**os.environ, "DATABASE_URL": url}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "import", str(folder)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=err,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"import failed ({proc.returncode}):\n{err.read()[-3000:]}")
        return seconds, usage.ru_maxrss / 1024, out.read()


def changed_copy(folder: Path, share: float = 0.01) -> tuple[Path, int]:
    """The folder with ``share`` of the rows of three files changed; returns it and the count."""
    out = Path(tempfile.gettempdir()) / f"{folder.name}-changed"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    changed = 0
    step = round(1 / share)
    for path in folder.iterdir():
        if path.name not in CHANGED_FILES:
            os.link(path, out / path.name)
            continue
        column = CHANGED_FILES[path.name]
        with (
            path.open(newline="", encoding="utf-8") as src,
            (out / path.name).open("w", newline="", encoding="utf-8") as dst,
        ):
            reader, writer = csv.reader(src), csv.writer(dst, lineterminator="\n")
            header = next(reader)
            writer.writerow(header)
            at = header.index(column)
            for i, row in enumerate(reader):
                if i % step == 0:
                    row[at] = _changed(column, row[at])
                    changed += 1
                writer.writerow(row)
    return out, changed


def _changed(column: str, value: str) -> str:
    if column == "last_name":
        return value + "-Moved"
    if column == "session_minutes":
        return "45" if value != "45" else "30"
    return "cancelled" if value != "cancelled" else "held"


def audit_rows(url: str) -> int:
    from sqlalchemy import func, select

    from storage import models as m
    from storage.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(m.AuditLog)).scalar_one())
    finally:
        engine.dispose()


def _summary(out: str) -> str:
    lines = [line.strip() for line in out.splitlines() if ":" in line and "created" in line]
    return "; ".join(lines)


def bench(name: str, url: str, folder: Path, changed: Path, n_changed: int) -> dict[str, Any]:
    from storage.db import migrate

    migrate(url)
    print(f"{name}:")
    seconds, peak, out = run_import(url, folder)
    print(f"  full         {seconds:7.1f} s   peak {peak:6.0f} MB")
    audits = audit_rows(url)
    seconds2, peak2, out2 = run_import(url, folder)
    wrote = any(
        not (" 0 created, 0 updated" in f" {line.split(':', 1)[1]}" and "removed" not in line)
        for line in out2.splitlines()
        if line.startswith("  ") and "created" in line
    )
    same = audit_rows(url) == audits
    print(
        f"  unchanged    {seconds2:7.1f} s   peak {peak2:6.0f} MB   "
        f"{'WROTE SOMETHING' if wrote or not same else 'wrote nothing'}"
    )
    seconds3, peak3, out3 = run_import(url, changed)
    new_audits = audit_rows(url) - audits
    print(
        f"  1% changed   {seconds3:7.1f} s   peak {peak3:6.0f} MB   "
        f"{n_changed:,} rows changed, {new_audits:,} audit rows"
    )
    print(f"    {_summary(out3)}")
    return {"full": seconds, "unchanged": seconds2, "changed": seconds3, "peak": max(peak, peak2)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--students", type=int, default=100_000)
    p.add_argument("--sessions-per-student", type=int, default=10)
    p.add_argument("--pg", default=DEFAULT_PG)
    p.add_argument("--sqlite", type=Path, default=Path(tempfile.gettempdir()) / "bench_import.db")
    p.add_argument("--only", choices=("pg", "sqlite"))
    args = p.parse_args()
    folder = roster(args.students, args.sessions_per_student)
    rows = sum(1 for path in folder.glob("*.csv") for _ in path.open(encoding="utf-8")) - 12
    print(f"roster: {folder} ({rows:,} rows)")
    changed, n_changed = changed_copy(folder)
    if args.only in (None, "sqlite"):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{args.sqlite}{suffix}").unlink(missing_ok=True)
        bench("SQLite", f"sqlite:///{args.sqlite}", folder, changed, n_changed)
    if args.only in (None, "pg"):
        url = reset_postgres(args.pg)
        bench("PostgreSQL", url, folder, changed, n_changed)
    shutil.rmtree(changed, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
