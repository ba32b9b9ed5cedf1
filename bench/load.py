"""Benchmark: acknowledgements and preview throughput of `serve` under load (PostgreSQL).

Targets on a 2-core machine, client and fake Web API on the same machine:
  * one `/availability` preview at a time: ack p50 <= 10 ms;
  * 1,000 previews at concurrency 50: ack p99 <= 300 ms, 0 errors, every preview delivered;
  * 200 previews sent at once: no ack over 3 s;
  * `/match` at concurrency 10 alongside previews at concurrency 50: preview acks unchanged;
  * >= 150 previews/s delivered, and 2 web processes >= 1.6x one.

    python bench/load.py [--database-url postgresql://postgres@127.0.0.1:5432/caseload_bench]
                         [--previews 1000] [--burst 200] [--matches 20] [--web 1 2]
                         [--client lean|urllib] [--phases seq c50 burst match]

The database named is dropped and recreated (its public schema), then loaded with the demo roster.
"Delivered" counts the previews that reached their response_url; previews/s is delivered previews
over the time from the first request to the last delivery.

The bench shares the machine with what it measures, so it keeps its own cost low and reports it.
With ``--client lean`` (the default) the fake Web API runs in a process of its own and the client
is one asyncio loop over kept-alive connections (requests signed before the clock starts);
``--client urllib`` is the earlier client: a thread per concurrent request, a new connection per
request, the fake in the client's process. After each phase a ``cpu`` line says how many CPU
milliseconds per delivered preview went to the web process(es), the client, the fake, the
database's backends for this database (and its shared background processes), and everything else
on the machine (other users), with the machine's busy cores over the phase.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

from bot.settings import load_settings  # noqa: E402
from devtools.harness import SECRET, Server, start_server, stop_server  # noqa: E402
from devtools.local_slack import LocalSlack  # noqa: E402
from devtools.slack_requests import sign_request, slash_command_body  # noqa: E402
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
PHASES = ("seq", "c50", "burst", "match")
TICKS = os.sysconf("SC_CLK_TCK")


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


# --- the fake Web API in a process of its own ----------------------------------------------------


def _fake_main(conn: Any) -> None:
    """The child: a LocalSlack answering the parent's questions about what it received."""
    with LocalSlack() as fake:
        conn.send((fake.base_url, fake.api_url))
        while True:
            question = conn.recv()
            if question is None:
                return
            prefix = question
            calls = [
                c
                for c in fake.calls_to("response_url")
                if (c.response_key or "").startswith(prefix)
            ]
            keys = {c.response_key for c in calls}
            conn.send((len(keys), max((c.at for c in calls), default=None)))


class FakeSlack:
    """What the bench needs of the fake: URLs, deliveries by tag, and its process for the CPU."""

    def __init__(self, separate: bool) -> None:
        self.separate = separate
        self._local: LocalSlack | None = None
        if separate:
            parent, child = multiprocessing.get_context("fork").Pipe()
            self._conn = parent
            self._process = multiprocessing.get_context("fork").Process(
                target=_fake_main, args=(child,), daemon=True
            )
            self._process.start()
            self.base_url, self.api_url = parent.recv()
            self.pid: int | None = self._process.pid
        else:
            self._local = LocalSlack().start()
            self.base_url, self.api_url = self._local.base_url, self._local.api_url
            self.pid = None
        self._lock = threading.Lock()

    def response_url(self, key: str) -> str:
        return f"{self.base_url}/response/{key}"

    def delivered_now(self, tag: str) -> tuple[int, float | None]:
        if self._local is not None:
            calls = [
                c
                for c in self._local.calls_to("response_url")
                if (c.response_key or "").startswith(tag + "-")
            ]
            return len({c.response_key for c in calls}), max((c.at for c in calls), default=None)
        with self._lock:
            self._conn.send(tag + "-")
            got: tuple[int, float | None] = self._conn.recv()
            return got

    def delivered(self, tag: str, expected: int, timeout: float) -> tuple[int, float]:
        """How many replies reached response URLs tagged ``tag``, and when the last one did."""
        deadline = time.monotonic() + timeout
        while True:
            n, last = self.delivered_now(tag)
            if n >= expected or time.monotonic() > deadline:
                return n, last if last is not None else time.monotonic()
            time.sleep(0.05)

    def close(self) -> None:
        if self._local is not None:
            self._local.stop()
        else:
            self._conn.send(None)
            self._process.join(5)


# --- clients -------------------------------------------------------------------------------------


def _raw_request(port: int, body: str) -> bytes:
    headers = sign_request(SECRET, body)
    data = body.encode()
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: {headers['Content-Type']}\r\nContent-Length: {len(data)}\r\n"
        f"X-Slack-Request-Timestamp: {headers['X-Slack-Request-Timestamp']}\r\n"
        f"X-Slack-Signature: {headers['X-Slack-Signature']}\r\n\r\n"
    )
    return head.encode() + data


async def _lean(
    ports: list[int], requests: list[bytes], targets: list[int], concurrency: int
) -> list[tuple[int, float]]:
    """Send each request to its server, ``concurrency`` at a time over kept connections."""
    results: list[tuple[int, float]] = [(0, 30.0)] * len(requests)
    order = iter(range(len(requests)))

    async def worker() -> None:
        conns: dict[int, tuple[asyncio.StreamReader, asyncio.StreamWriter]] = {}
        try:
            for i in order:
                port = ports[targets[i]]
                start = time.monotonic()
                for attempt in (1, 2):
                    try:
                        if port not in conns:
                            conns[port] = await asyncio.open_connection("127.0.0.1", port)
                        reader, writer = conns[port]
                        writer.write(requests[i])
                        status_line = await reader.readline()
                        length, close = 0, False
                        while True:
                            line = await reader.readline()
                            if line in (b"\r\n", b""):
                                break
                            name, _, value = line.decode("latin-1").partition(":")
                            if name.lower() == "content-length":
                                length = int(value)
                            elif name.lower() == "connection" and "close" in value.lower():
                                close = True
                        await reader.readexactly(length)
                        results[i] = (int(status_line.split()[1]), time.monotonic() - start)
                        if close:
                            conns.pop(port)[1].close()
                        break
                    except (OSError, IndexError, ValueError, asyncio.IncompleteReadError):
                        old = conns.pop(port, None)
                        if old is not None:
                            old[1].close()
                        if attempt == 2:
                            results[i] = (0, time.monotonic() - start)
        finally:
            for _, writer in conns.values():
                writer.close()

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(requests)))))
    return results


@dataclass
class Cpu:
    """CPU seconds of the processes the bench runs, the database and the machine, over a phase."""

    web: list[int]
    fake: int | None
    db_name: str
    engine: Any
    start: dict[str, float] = field(default_factory=dict)
    backends: dict[int, float] = field(default_factory=dict)
    shared: dict[int, float] = field(default_factory=dict)

    @staticmethod
    def _seconds(pid: int, kernel_only: bool = False) -> float:
        """User and system CPU seconds of a process (all its threads), from /proc."""
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # gone
            return 0.0
        return (int(fields[12]) + (0 if kernel_only else int(fields[11]))) / TICKS

    def _pg(self) -> tuple[dict[int, float], dict[int, float]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT pid, datname FROM pg_stat_activity WHERE pid <> pg_backend_pid()")
            ).all()
        mine = {pid: self._seconds(pid) for pid, db in rows if db == self.db_name}
        shared = {pid: self._seconds(pid) for pid, db in rows if db is None}
        return mine, shared

    def _now(self) -> dict[str, float]:
        with open("/proc/stat") as f:
            user, nice, system, _idle, _iowait, irq, softirq, steal = f.readline().split()[1:9]
        busy = sum(int(x) for x in (user, nice, system, irq, softirq, steal)) / TICKS
        return {
            "web": sum(self._seconds(p) for p in self.web),
            "web_sys": sum(self._seconds(p, kernel_only=True) for p in self.web),
            "client": self._seconds(os.getpid()),
            "fake": self._seconds(self.fake) if self.fake else 0.0,
            "busy": busy,
            "wall": time.monotonic(),
        }

    def begin(self) -> None:
        self.backends, self.shared = self._pg()
        self.start = self._now()

    def line(self, previews: int) -> str:
        end = self._now()
        backends, shared = self._pg()
        d = {k: end[k] - self.start[k] for k in end}
        pg = sum(v - self.backends.get(p, 0.0) for p, v in backends.items())
        pg_shared = sum(v - self.shared.get(p, 0.0) for p, v in shared.items())
        ours = d["web"] + d["client"] + d["fake"] + pg + pg_shared
        others = max(0.0, d["busy"] - ours)
        n = max(previews, 1)

        def ms(x: float) -> str:
            return f"{1000 * x / n:.2f}"

        fake = "(in client)" if self.fake is None else ms(d["fake"])
        return (
            f"    cpu ms/preview: web {ms(d['web'])} (kernel {ms(d['web_sys'])}), "
            f"client {ms(d['client'])}, fake {fake}, "
            f"postgres {ms(pg)} (+{ms(pg_shared)} shared), others {ms(others)}; "
            f"machine busy {d['busy'] / d['wall']:.2f} of {os.cpu_count()} cores"
        )


class Load:
    def __init__(self, servers: list[Server], fake: FakeSlack, client: str) -> None:
        self.servers, self.fake, self.client = servers, fake, client
        self.ports = [int(s.url.rsplit(":", 1)[1]) for s in servers]
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
        targets = [i % len(self.servers) for i in range(len(bodies))]
        if self.client == "lean":
            pairs = zip(targets, bodies, strict=True)
            requests = [_raw_request(self.ports[t], b) for t, b in pairs]
            start = time.monotonic()
            results = asyncio.run(_lean(self.ports, requests, targets, workers))
        else:

            def one(i: int) -> tuple[int, float]:
                try:
                    status, _, seconds = self.servers[targets[i]].signed(bodies[i])
                except OSError:
                    return 0, 30.0
                return status, seconds

            start = time.monotonic()
            with ThreadPoolExecutor(workers) as pool:
                results = list(pool.map(one, range(len(bodies))))
        times = [s * 1000 for _, s in results]
        return times, sum(1 for st, _ in results if st != 200), start, time.monotonic()


def line(label: str, times: list[float], errors: int, extra: str = "") -> None:
    print(
        f"  {label:44s} n={len(times):5d} p50={statistics.median(times):7.1f} ms "
        f"p99={percentile(times, 99):7.1f} ms max={max(times):7.1f} ms errors={errors} {extra}",
        flush=True,
    )


def run_one_setup(url: str, n_web: int, args: argparse.Namespace) -> float:
    tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
    fake = FakeSlack(separate=args.client == "lean")
    engine = create_engine(url)
    servers = [
        start_server(url, fake.api_url, tmp, {"MATCH_TIME_LIMIT_SECONDS": "5"})
        for _ in range(n_web)
    ]
    cpu = Cpu([s.process.pid for s in servers], fake.pid, url.rsplit("/", 1)[1], engine)
    load = Load(servers, fake, args.client)
    rate = 0.0
    try:
        print(
            f"{n_web} web process(es), {url.split('@')[-1]}, client {args.client}; "
            f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
            flush=True,
        )
        load.send([load.preview("warm") for _ in range(40)], 5)
        fake.delivered("warm", 40, 30)

        if "seq" in args.phases:
            bodies = [load.preview("seq") for _ in range(100)]
            cpu.begin()
            times, errors, _, _ = load.send(bodies, 1)
            got, _ = fake.delivered("seq", 100, 30)
            line("one at a time", times, errors)
            print(cpu.line(got), flush=True)

        if "c50" in args.phases:
            bodies = [load.preview("c50") for _ in range(args.previews)]
            cpu.begin()
            times, errors, start, _ = load.send(bodies, 50)
            got, last = fake.delivered("c50", args.previews, 120)
            rate = got / max(last - start, 1e-9)
            line(
                f"{args.previews} previews @50",
                times,
                errors,
                f"over 300ms={sum(t > 300 for t in times)} delivered={got}/{args.previews} "
                f"previews/s={rate:.1f}",
            )
            print(cpu.line(got), flush=True)

        if "burst" in args.phases:
            bodies = [load.preview("burst") for _ in range(args.burst)]
            times, errors, _, _ = load.send(bodies, args.burst)
            got, _ = fake.delivered("burst", args.burst, 120)
            line(
                f"{args.burst} at once",
                times,
                errors,
                f"over 3s={sum(t > 3000 for t in times)} delivered={got}/{args.burst}",
            )

        if "match" in args.phases:
            run_match_phase(load, fake, args)
        return rate
    finally:
        for srv in servers:
            stop_server(srv)
            if "Traceback" in srv.log():
                print("  TRACEBACK in server log:", srv.log_path)
        fake.close()
        engine.dispose()


def run_match_phase(load: Load, fake: FakeSlack, args: argparse.Namespace) -> None:
    """Previews at concurrency 50 alone, then again while /match runs at concurrency 10."""
    n = args.previews // 2
    alone = [load.preview("alone") for _ in range(n)]
    times, errors, _, _ = load.send(alone, 50)
    fake.delivered("alone", n, 60)
    line(f"{n} previews @50 (just before)", times, errors)
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
    send: Callable[[], Any] = lambda: match_result.setdefault("m", load.send(matches, 10))  # noqa: E731
    runner = threading.Thread(target=send)
    runner.start()
    time.sleep(0.5)  # the solves are running
    bodies = [load.preview("side") for _ in range(n)]
    times, errors, _, _ = load.send(bodies, 50)
    got, _ = fake.delivered("side", n, 60)
    runner.join()
    line(f"{n} previews @50 with /match @10", times, errors, f"delivered={got}/{n}")
    m_times, m_errors, _, _ = match_result["m"]
    line(f"{args.matches} /match @10 (their acks)", m_times, m_errors)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/caseload_bench")
    ap.add_argument("--previews", type=int, default=1000)
    ap.add_argument("--burst", type=int, default=200)
    ap.add_argument("--matches", type=int, default=20)
    ap.add_argument("--web", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--client", choices=["lean", "urllib"], default="lean")
    ap.add_argument("--phases", nargs="+", choices=PHASES, default=list(PHASES))
    args = ap.parse_args()
    rates: dict[int, float] = {}
    for n_web in args.web:
        rates[n_web] = run_one_setup(prepare(args.database_url), n_web, args)
    if 1 in rates and len(rates) > 1 and rates[1] > 0:
        for n_web, rate in rates.items():
            if n_web != 1:
                print(f"scale-out: {n_web} web processes {rate / rates[1]:.2f}x one process")
    return 0


if __name__ == "__main__":
    sys.exit(main())
