"""Fault run: PostgreSQL is restarted in the middle of a load run.

Sends signed `/availability` commands to `serve` at concurrency 10 for `--seconds`, restarts the
PostgreSQL cluster a third of the way in, and prints, per phase, how many commands were
acknowledged, how many got a preview, how many got the polite "try again in a moment", and
anything else. The server must recover without a restart: previews resume after the restart.

    python bench/faults.py [--database-url postgresql://postgres@127.0.0.1:5432/caseload_bench]

Then Slack stops answering for a while: acknowledgements must stay fast.

Restarts the machine's PostgreSQL: do not run it while something else uses that server.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import prepare  # noqa: E402
from devtools.harness import start_server, stop_server  # noqa: E402
from devtools.local_slack import LocalSlack  # noqa: E402
from devtools.slack_requests import slash_command_body  # noqa: E402

PROVIDERS = [f"U0DEMOP{i:02d}" for i in range(1, 13)]


def restart_postgres() -> float:
    cluster = subprocess.run(["ls", "/etc/postgresql"], capture_output=True, text=True, check=True)
    version = cluster.stdout.split()[0]
    start = time.monotonic()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True
    )
    return time.monotonic() - start


def slack_hangs(server, fake: LocalSlack, n: int = 200, hang: float = 12.0) -> None:  # type: ignore[no-untyped-def]
    """Slack stops answering response URLs for `hang` seconds: acknowledgements must stay fast."""
    fake.clear()
    fake.hang_next("response_url", hang, times=n)

    def one(i: int) -> float:
        body = slash_command_body(
            command="/availability",
            text="Tue 8-11 PT",
            user_id=PROVIDERS[i % 12],
            response_url=fake.response_url(f"h{i}"),
        )
        return server.signed(body)[2]

    with ThreadPoolExecutor(20) as pool:
        times = sorted(t * 1000 for t in pool.map(one, range(n)))
    p99 = times[min(len(times) - 1, int(0.99 * (len(times) - 1)))]
    print(
        f"Slack hanging {hang:g} s on every reply: {n} commands at concurrency 20, "
        f"ack p50={times[len(times) // 2]:.0f} ms p99={p99:.0f} ms max={times[-1]:.0f} ms"
    )


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/caseload_bench")
    ap.add_argument("--seconds", type=float, default=24.0)
    args = ap.parse_args()
    url = prepare(args.database_url)
    tmp = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    with LocalSlack() as fake:
        server = start_server(url, fake.api_url, tmp)
        sent: dict[str, tuple[str, int]] = {}  # response key -> (phase, http status)
        phase = ["before"]
        stop = time.monotonic() + args.seconds
        counter = iter(range(10**9))
        lock = threading.Lock()

        def worker() -> None:
            while time.monotonic() < stop:
                with lock:
                    i = next(counter)
                key = f"f{i}"
                body = slash_command_body(
                    command="/availability",
                    text="Tue 8-11 PT",
                    user_id=PROVIDERS[i % 12],
                    response_url=fake.response_url(key),
                )
                try:
                    status, _, _ = server.signed(body)
                except OSError:
                    status = 0
                sent[key] = (phase[0], status)
                time.sleep(0.02)

        try:
            with ThreadPoolExecutor(10) as pool:
                futures = [pool.submit(worker) for _ in range(10)]
                time.sleep(args.seconds / 3)
                phase[0] = "restart"
                took = restart_postgres()
                print(f"PostgreSQL restarted in {took:.1f} s")
                phase[0] = "after"
                for f in futures:
                    f.result()
            time.sleep(3)
            replies = {c.response_key: json.dumps(c.params) for c in fake.calls_to("response_url")}
            table: dict[str, Counter[str]] = {p: Counter() for p in ("before", "restart", "after")}
            for key, (ph, status) in sent.items():
                reply = replies.get(key, "")
                if status != 200:
                    table[ph][f"http {status}"] += 1
                elif "Save" in reply:
                    table[ph]["preview"] += 1
                elif "try again in a moment" in reply:
                    table[ph]["polite retry"] += 1
                elif not reply:
                    table[ph]["no reply"] += 1
                else:
                    table[ph]["other"] += 1
            for ph, counts in table.items():
                print(f"  {ph:8s} " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
            log = server.log()
            print(
                f"  server tracebacks: {log.count('Traceback')}; still running: "
                f"{server.process.poll() is None}; healthz: {server.get('/healthz')[0]}"
            )
            slack_hangs(server, fake)
        finally:
            stop_server(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
