"""Benchmark: `serve` on PostgreSQL under four attacks, with normal traffic measured during each.

  * slow connections: 200 connections send headers, then one body byte every 5 s;
  * long DMs: 33 direct messages of 40,000 characters ("12/23 " repeated) at once;
  * concurrent /match: 16 managers' /match commands at once (three districts): how their acks
    split into started / queued / already running, p50/p99 of those acks, the most solves
    running at once (from the server log; at most MATCH_SOLVES, one per core by default) and
    the proposals delivered;
  * replay: one signed /match body sent 50 times at once (expected: 1 accepted, 49 refused).

Normal traffic is two clients, each sending `GET /healthz` and a signed `/availability` preview
about 5 times a second. For each phase the script prints p50/p99/max of their acknowledgement
times (target with 200 slow connections open: p99 <= 300 ms for both).

    python bench/hostile.py [--database-url postgresql://postgres@127.0.0.1:5432/caseload_bench]
                            [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import DISTRICTS, MANAGERS, PROVIDERS, percentile, prepare  # noqa: E402
from devtools.harness import SECRET, Server, start_server, stop_server  # noqa: E402
from devtools.local_slack import LocalSlack  # noqa: E402
from devtools.slack_requests import event_body, im_message_event, sign_request, slash_command_body  # noqa: E402


class Normal:
    """Two clients of ordinary traffic; collects ack times per kind while running."""

    def __init__(self, server: Server, fake: LocalSlack) -> None:
        self.server, self.fake = server, fake
        self.times: dict[str, list[float]] = {"healthz": [], "preview": []}
        self.errors = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._n = 0

    def _client(self, offset: int) -> None:
        while not self._stop.is_set():
            start = time.monotonic()
            try:
                status = self.server.get("/healthz")[0]
            except OSError:
                status = 0
            self.times["healthz"].append((time.monotonic() - start) * 1000)
            self.errors += status != 200
            self._n += 1
            body = slash_command_body(
                command="/availability",
                text="Tue 8-11 PT",
                user_id=PROVIDERS[(self._n + offset) % len(PROVIDERS)],
                response_url=self.fake.response_url(f"normal-{self._n}-{offset}"),
            )
            try:
                status, _, seconds = self.server.signed(body)
            except OSError:
                status, seconds = 0, 10.0
            self.times["preview"].append(seconds * 1000)
            self.errors += status != 200
            self._stop.wait(max(0.0, 0.2 - (time.monotonic() - start)))

    def start(self) -> None:
        self._threads = [threading.Thread(target=self._client, args=(i,)) for i in range(2)]
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()

    def report(self, label: str) -> None:
        for kind, times in self.times.items():
            if not times:
                print(f"  {label:28s} {kind:8s} no requests completed", flush=True)
                continue
            print(
                f"  {label:28s} {kind:8s} n={len(times):4d} p50={statistics.median(times):7.1f} ms "
                f"p99={percentile(times, 99):7.1f} ms max={max(times):7.1f} ms",
                flush=True,
            )
        print(f"  {label:28s} errors in normal traffic: {self.errors}", flush=True)


def during(
    server: Server, fake: LocalSlack, label: str, seconds: float, attack: Callable[[], str]
) -> None:
    normal = Normal(server, fake)
    normal.start()
    try:
        note = attack()
        time.sleep(seconds)
    finally:
        normal.stop()
    normal.report(label)
    if note:
        print(f"  {label:28s} {note}", flush=True)


class SlowConnections:
    def __init__(self, url: str, count: int) -> None:
        parts = urlsplit(url)
        self.addr = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.count = count
        self.socks: list[socket.socket] = []
        self.closed_by_server = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drip)

    def open(self) -> str:
        head = (
            b"POST /slack/events HTTP/1.1\r\nHost: bot\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n"
        )
        for _ in range(self.count):
            s = socket.create_connection(self.addr, timeout=5)
            s.sendall(head)
            self.socks.append(s)
        self._thread.start()
        return ""

    def _drip(self) -> None:
        while not self._stop.wait(5):
            for s in list(self.socks):
                try:
                    s.sendall(b"x")
                except OSError:
                    self.closed_by_server += 1
                    self.socks.remove(s)
                    self._reopen()

    def _reopen(self) -> None:
        # A real attacker reconnects as soon as the server lets go.
        try:
            s = socket.create_connection(self.addr, timeout=5)
            s.sendall(b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Length: 100000\r\n\r\n")
            self.socks.append(s)
        except OSError:
            pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for s in self.socks:
            s.close()


def solves_report(server: Server, fake: LocalSlack) -> str:
    """The most solves running at once (the server logs each start) and proposals delivered."""
    running = [int(n) for n in re.findall(r"match\.solve_started running=(\d+)", server.log())]
    # Proposals are DM messages: posted, or a "Matching…" message updated into one.
    delivered = len(
        {
            (c.params.get("channel"), (c.response or {}).get("ts") if c.ok else None)
            for c in fake.calls
            if c.method in ("chat.postMessage", "chat.update")
            and c.ok
            and "Proposal:" in json.dumps(c.params.get("blocks") or [])
        }
    )
    return (
        f"solves started: {len(running)}, most running at once: {max(running, default=0)}; "
        f"proposals delivered: {delivered}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/caseload_bench")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--slow", type=int, default=200)
    args = ap.parse_args()
    url = prepare(args.database_url)
    tmp = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    with LocalSlack() as fake:
        server = start_server(url, fake.api_url, tmp, {"MATCH_TIME_LIMIT_SECONDS": "5"})
        try:
            print(f"serve on {url.split('@')[-1]}, {args.seconds:g} s per phase", flush=True)
            during(server, fake, "no attack", args.seconds, lambda: "")

            slow = SlowConnections(server.url, args.slow)
            try:
                during(server, fake, f"{args.slow} slow connections", args.seconds, slow.open)
            finally:
                slow.close()
            print(
                f"  {'':28s} slow connections closed by the server and reopened: "
                f"{slow.closed_by_server}",
                flush=True,
            )

            pool = ThreadPoolExecutor(50)

            def long_dms() -> str:
                text = "12/23 " * (40_000 // 6)
                bodies = [
                    event_body(
                        event=im_message_event(user_id=PROVIDERS[i % len(PROVIDERS)], text=text),
                        event_id=f"EvLong{i}",
                    )
                    for i in range(33)
                ]
                statuses = list(pool.map(lambda b: server.signed(b)[0], bodies))
                return f"33 long DMs acknowledged: {statuses.count(200)}/33"

            during(server, fake, "33 long DMs", args.seconds, long_dms)

            def matches() -> str:
                # Each district with a manager who serves it (M02 serves only Anchorage).
                who = {"anchorage": MANAGERS[1], "mesa": MANAGERS[2], "pflugerville": MANAGERS[0]}
                bodies = [
                    slash_command_body(
                        command="/match",
                        text=f"district={DISTRICTS[i % 3]}",
                        user_id=who[DISTRICTS[i % 3]],
                        response_url=fake.response_url(f"match-{i}"),
                    )
                    for i in range(16)
                ]
                acks = list(pool.map(lambda b: server.signed(b), bodies))
                times = [a[2] * 1000 for a in acks]
                kinds = {"started": 0, "queued": 0, "already": 0, "other": 0}
                for status, body, _ in acks:
                    text = json.loads(body).get("text", "") if status == 200 and body else ""
                    kind = (
                        "started"
                        if text.startswith("Matching")
                        else "queued"
                        if text.startswith("Queued behind")
                        else "already"
                        if "already" in text
                        else "other"
                    )
                    kinds[kind] += 1
                return (
                    f"16 /match acknowledged: {sum(a[0] == 200 for a in acks)}/16 "
                    f"(started {kinds['started']}, queued {kinds['queued']}, already running or "
                    f"queued {kinds['already']}, other {kinds['other']}); /match ack "
                    f"p50={statistics.median(times):.0f} ms p99={percentile(times, 99):.0f} ms "
                    f"max={max(times):.0f} ms"
                )

            during(server, fake, "16 concurrent /match", args.seconds, matches)
            print(f"  {'':28s} {solves_report(server, fake)}", flush=True)

            def replay() -> str:
                body = slash_command_body(
                    command="/match",
                    text=f"district={DISTRICTS[0]}",
                    user_id=MANAGERS[0],
                    response_url=fake.response_url("replayed"),
                )
                headers = sign_request(SECRET, body)
                statuses = list(pool.map(lambda _: server.post(body, headers)[0], range(50)))
                return (
                    f"one signed /match sent 50 times: accepted {statuses.count(200)}, "
                    f"refused {statuses.count(401)}"
                )

            during(server, fake, "replayed /match x50", args.seconds, replay)
            pool.shutdown()
        finally:
            stop_server(server)
            if "Traceback" in server.log():
                print("  TRACEBACK in server log:", server.log_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
