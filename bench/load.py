"""Benchmark: acknowledgements and preview throughput of `serve` under load (PostgreSQL).

Targets on a 2-core machine, client and fake Web API on the same machine:
  * one `/availability` preview at a time: ack p50 <= 10 ms;
  * 1,000 previews at concurrency 50: ack p99 <= 300 ms, 0 errors, every preview delivered;
  * 200 previews sent at once: no ack over 3 s;
  * `/match` at concurrency 10 alongside previews at concurrency 50: preview acks unchanged;
  * >= 150 previews/s delivered, and 2 web processes >= 1.6x one.

    python bench/load.py [--database-url postgresql://postgres@127.0.0.1:5432/caseload_bench]
                         [--previews 1000] [--burst 200] [--matches 20] [--web 1 2]

The database named is dropped and recreated (its public schema), then loaded with the demo roster.
"Delivered" counts the previews that reached their response_url; previews/s is delivered previews
over the time from the first request to the last delivery.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
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


class Load:
    def __init__(self, servers: list[Server], fake: LocalSlack) -> None:
        self.servers, self.fake = servers, fake
        self.n = 0

    def preview(self, tag: str) -> str:
        self.n += 1
        i = self.n
        return slash_command_body(
            command="/availability",
            text=TEXTS[i % len(TEXTS)],
            user_id=PROVIDERS[i % len(PROVIDERS)],
            response_url=self.fake.response_url(f"{tag}-{i}"),
        )

    def send(self, bodies: list[str], workers: int) -> tuple[list[float], int, float, float]:
        """Acks in ms, errors, start and end (monotonic)."""

        def one(i: int) -> tuple[int, float]:
            try:
                status, _, seconds = self.servers[i % len(self.servers)].signed(bodies[i])
            except OSError:
                return 0, 30.0
            return status, seconds

        start = time.monotonic()
        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(one, range(len(bodies))))
        times = [s * 1000 for _, s in results]
        return times, sum(1 for st, _ in results if st != 200), start, time.monotonic()

    def delivered(self, tag: str, expected: int, timeout: float) -> tuple[int, float]:
        """How many replies reached response URLs tagged ``tag``, and when the last one did."""
        deadline = time.monotonic() + timeout
        while True:
            calls = [
                c
                for c in self.fake.calls_to("response_url")
                if (c.response_key or "").startswith(tag + "-")
            ]
            keys = {c.response_key for c in calls}
            if len(keys) >= expected or time.monotonic() > deadline:
                return len(keys), max((c.at for c in calls), default=time.monotonic())
            time.sleep(0.1)


def line(label: str, times: list[float], errors: int, extra: str = "") -> None:
    print(
        f"  {label:44s} n={len(times):5d} p50={statistics.median(times):7.1f} ms "
        f"p99={percentile(times, 99):7.1f} ms max={max(times):7.1f} ms errors={errors} {extra}",
        flush=True,
    )


def run_one_setup(url: str, n_web: int, args: argparse.Namespace) -> float:
    tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
    with LocalSlack() as fake:
        servers = [
            start_server(url, fake.api_url, tmp, {"MATCH_TIME_LIMIT_SECONDS": "5"})
            for _ in range(n_web)
        ]
        load = Load(servers, fake)
        try:
            print(f"{n_web} web process(es), {url.split('@')[-1]}", flush=True)
            load.send([load.preview("warm") for _ in range(20)], 5)
            load.delivered("warm", 20, 30)

            times, errors, _, _ = load.send([load.preview("seq") for _ in range(100)], 1)
            line("one at a time", times, errors)

            bodies = [load.preview("c50") for _ in range(args.previews)]
            times, errors, start, end = load.send(bodies, 50)
            got, last = load.delivered("c50", args.previews, 120)
            rate = got / max(last - start, 1e-9)
            line(
                f"{args.previews} previews @50",
                times,
                errors,
                f"over 300ms={sum(t > 300 for t in times)} delivered={got}/{args.previews} "
                f"previews/s={rate:.1f}",
            )

            bodies = [load.preview("burst") for _ in range(args.burst)]
            times, errors, _, _ = load.send(bodies, args.burst)
            got, _ = load.delivered("burst", args.burst, 120)
            line(
                f"{args.burst} at once",
                times,
                errors,
                f"over 3s={sum(t > 3000 for t in times)} delivered={got}/{args.burst}",
            )

            matches = [
                slash_command_body(
                    command="/match",
                    text=f"district={DISTRICTS[i % 3]}",
                    user_id=MANAGERS[i % 3],
                    response_url=fake.response_url(f"match-{i}"),
                )
                for i in range(args.matches)
            ]
            match_result: dict[str, tuple[list[float], int, float, float]] = {}
            runner = threading.Thread(
                target=lambda: match_result.setdefault("m", load.send(matches, 10))
            )
            runner.start()
            bodies = [load.preview("side") for _ in range(args.previews // 2)]
            times, errors, _, _ = load.send(bodies, 50)
            runner.join()
            line(f"{len(bodies)} previews @50 with /match @10", times, errors)
            m_times, m_errors, _, _ = match_result["m"]
            line(f"{args.matches} /match @10 (their acks)", m_times, m_errors)
            return rate
        finally:
            for srv in servers:
                stop_server(srv)
                if "Traceback" in srv.log():
                    print("  TRACEBACK in server log:", srv.log_path)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/caseload_bench")
    ap.add_argument("--previews", type=int, default=1000)
    ap.add_argument("--burst", type=int, default=200)
    ap.add_argument("--matches", type=int, default=20)
    ap.add_argument("--web", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    rates: dict[int, float] = {}
    for n_web in args.web:
        rates[n_web] = run_one_setup(prepare(args.database_url), n_web, args)
    if 1 in rates and len(rates) > 1:
        for n_web, rate in rates.items():
            if n_web != 1:
                print(f"scale-out: {n_web} web processes {rate / rates[1]:.2f}x one process")
    return 0


if __name__ == "__main__":
    sys.exit(main())
