"""Benchmark: how fast `serve` acknowledges slash commands (target: p99 <= 300 ms).

Starts `python -m bot serve` on a fresh SQLite database with the demo roster, behind the
loopback fake Slack Web API, and sends signed `/availability` commands: first one at a time,
then 10 at once. Prints p50/p99 acknowledgement time and errors. Last, "while Slack hangs":
every follow-up reply hangs `--hang-seconds` (3) and 80 commands go at concurrency 20; acks
must not wait for the replies (target: max well under 1.5 s), and every reply still arrives.

    python bench/ack.py [--requests 400] [--hang-seconds 3] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devtools.harness import start_server, stop_server  # noqa: E402
from devtools.local_slack import LocalSlack  # noqa: E402
from devtools.slack_requests import slash_command_body  # noqa: E402
from storage.db import make_engine, make_session_factory, migrate  # noqa: E402
from storage.roster import import_roster  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TEXTS = ["Tue 8-11 PT", "add Fri 1-4", "out Dec 23 - Jan 2", "no longer Thursdays after 2", ""]
PROVIDERS = [f"U0DEMOP{i:02d}" for i in range(1, 13)]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--database-url")
    ap.add_argument("--hang-seconds", type=float, default=3.0)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-ack-"))
    url = args.database_url or f"sqlite:///{tmp}/bench.db"
    migrate(url)
    engine = make_engine(url)
    report = import_roster(ROOT / "demo" / "roster", make_session_factory(engine))
    engine.dispose()
    assert report.ok, report.problems
    with LocalSlack() as fake:
        server = start_server(url, fake.api_url, tmp)
        try:

            def one(i: int) -> tuple[int, float]:
                body = slash_command_body(
                    command="/availability",
                    text=TEXTS[i % len(TEXTS)],
                    user_id=PROVIDERS[i % len(PROVIDERS)],
                    response_url=fake.response_url(f"b{i}"),
                )
                status, _, seconds = server.signed(body)
                return status, seconds

            for warm in range(5):
                one(warm)
            for label, workers in (("sequential", 1), ("concurrency 10", 10)):
                start = time.monotonic()
                with ThreadPoolExecutor(workers) as pool:
                    results = list(pool.map(one, range(args.requests)))
                wall = time.monotonic() - start
                times = [s * 1000 for _, s in results]
                errors = sum(1 for status, _ in results if status != 200)
                print(
                    f"{label:15s} n={len(times)} p50={statistics.median(times):.1f} ms "
                    f"p99={percentile(times, 99):.1f} ms max={max(times):.1f} ms "
                    f"errors={errors} throughput={len(times) / wall:.0f}/s"
                )
            time.sleep(1)
            replies = len(fake.calls_to("response_url"))
            print(f"follow-up replies received: {replies}")

            fake.clear()
            hung = 80
            fake.hang_next("response_url", args.hang_seconds, times=hung)
            with ThreadPoolExecutor(20) as pool:
                results = list(pool.map(one, range(hung)))
            times = [s * 1000 for _, s in results]
            errors = sum(1 for status, _ in results if status != 200)
            print(
                f"{'Slack hangs ' + format(args.hang_seconds, 'g') + ' s':15s} n={hung} "
                f"p50={statistics.median(times):.1f} ms p99={percentile(times, 99):.1f} ms "
                f"max={max(times):.1f} ms errors={errors} (concurrency 20)"
            )
            arrived = len(fake.wait_for("response_url", count=hung, timeout=60))
            print(f"follow-up replies received while Slack hung: {arrived}/{hung}")
        finally:
            stop_server(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
