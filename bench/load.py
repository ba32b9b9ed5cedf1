"""Benchmark: load on `serve` against PostgreSQL and the loopback fake Slack Web API.

Targets on a 2-core machine:
  * 2,000 `/availability` previews at concurrency 50: p99 acknowledgement <= 1 s, no errors;
  * 20 `/match` commands at concurrency 10: every one acknowledged within 3 s.
Then scale-out: the same load spread over two `web` processes on one database.

    python bench/load.py [--database-url postgresql://postgres@127.0.0.1:5432/caseload_bench]
                         [--previews 2000] [--matches 20] [--web 1 2]

The database named is dropped and recreated (its public schema), then loaded with the demo roster.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

from bot.settings import load_settings  # noqa: E402
from devtools.harness import Server, start_server, stop_server  # noqa: E402
from devtools.local_slack import LocalSlack  # noqa: E402
from devtools.slack_requests import slash_command_body  # noqa: E402
from storage.db import make_engine, make_session_factory, migrate  # noqa: E402
from storage.roster import import_roster  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TEXTS = [
    "Tue 8-11 PT",
    "add Fri 1-4",
    "out Dec 23 - Jan 2",
    "no longer Thursdays after 2",
    "M/W 8-12, Fri 1-4",
    "",
]
PROVIDERS = [f"U0DEMOP{i:02d}" for i in range(1, 13)]
MANAGERS = ["U0DEMOM01", "U0DEMOM02", "U0DEMOM03"]
DISTRICTS = ["anchorage", "mesa", "pflugerville"]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def prepare(url: str) -> str:
    settings = load_settings({"DATABASE_URL": url})
    url = settings.database_url
    if not settings.is_sqlite:
        admin_url = url.rsplit("/", 1)[0] + "/postgres"
        name = url.rsplit("/", 1)[1]
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname=:n"), {"n": name}
            ).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    migrate(url)
    engine = make_engine(url)
    report = import_roster(ROOT / "demo" / "roster", make_session_factory(engine))
    engine.dispose()
    assert report.ok, report.problems
    return url


def run(
    servers: list[Server],
    fake: LocalSlack,
    label: str,
    bodies: list[str],
    workers: int,
    limit: float,
) -> None:
    def send(i: int) -> tuple[int, float]:
        status, _, seconds = servers[i % len(servers)].signed(
            bodies[i],
        )
        return status, seconds

    start = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(send, range(len(bodies))))
    wall = time.monotonic() - start
    times = [s * 1000 for _, s in results]
    errors = sum(1 for status, _ in results if status != 200)
    late = sum(1 for t in times if t > limit * 1000)
    print(
        f"  {label:38s} n={len(times):5d} p50={statistics.median(times):7.1f} ms "
        f"p99={percentile(times, 99):7.1f} ms max={max(times):7.1f} ms errors={errors} "
        f"over {limit:g}s={late} throughput={len(times) / wall:6.1f}/s"
    )


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/caseload_bench")
    ap.add_argument("--previews", type=int, default=2000)
    ap.add_argument("--matches", type=int, default=20)
    ap.add_argument("--web", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    for n_web in args.web:
        url = prepare(args.database_url)
        tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
        with LocalSlack() as fake:
            servers = [
                start_server(url, fake.api_url, tmp, {"MATCH_TIME_LIMIT_SECONDS": "5"})
                for _ in range(n_web)
            ]
            try:
                print(f"{n_web} web process(es), {url.split('@')[-1]}")
                previews = [
                    slash_command_body(
                        command="/availability",
                        text=TEXTS[i % len(TEXTS)],
                        user_id=PROVIDERS[i % len(PROVIDERS)],
                        response_url=fake.response_url(f"p{i}"),
                    )
                    for i in range(args.previews)
                ]
                run(servers, fake, "/availability previews @50", previews, 50, 1.0)
                deadline = time.monotonic() + 60
                while (
                    len(fake.calls_to("response_url")) < args.previews
                    and time.monotonic() < deadline
                ):
                    time.sleep(0.2)
                answered = len(fake.calls_to("response_url"))
                print(f"  previews answered through response_url: {answered}/{args.previews}")
                fake.clear()
                matches = [
                    slash_command_body(
                        command="/match",
                        text=f"district={DISTRICTS[i % 3]}",
                        user_id=MANAGERS[i % 3],
                        response_url=fake.response_url(f"m{i}"),
                    )
                    for i in range(args.matches)
                ]
                run(servers, fake, "/match @10", matches, 10, 3.0)
                deadline = time.monotonic() + 180
                while (
                    len(fake.calls_to("response_url")) < args.matches
                    and time.monotonic() < deadline
                ):
                    time.sleep(0.5)
                replies = fake.calls_to("response_url")
                proposals = sum(1 for c in replies if "Proposal" in json.dumps(c.params))
                print(f"  proposals delivered: {proposals}/{args.matches}")
            finally:
                for srv in servers:
                    stop_server(srv)
                    if "Traceback" in srv.log():
                        print("  TRACEBACK in server log:", srv.log_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
