"""Scale-out run: two `web` processes and two clock processes on one PostgreSQL, under load.

While /availability previews and saves, and /match proposals with Approve all, go to two `serve`
processes (alternating), two clock processes run `jobs run-once` over and over at the same
instant (a Monday 17:00Z). Afterwards every DM the fake Slack
received is counted: the same text to the same person twice is a duplicate.

    python bench/scaleout.py [--database-url postgresql://postgres@127.0.0.1:5432/caseload_bench]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import MANAGERS, PROVIDERS, TEXTS, prepare  # noqa: E402
from devtools.harness import ROOT, Server, start_server, stop_server  # noqa: E402
from devtools.local_slack import LocalSlack  # noqa: E402
from devtools.slack_requests import block_actions_body, slash_command_body  # noqa: E402

INSTANTS = [
    "2026-11-30T17:00:00Z",
    "2026-11-30T17:05:00Z",
    "2026-12-01T17:00:00Z",
    "2026-12-02T17:00:00Z",
]


def clock_loop(url: str, api_url: str, rounds: int, results: list[int]) -> None:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": url,
        "SLACK_BOT_TOKEN": "xoxb-scaleout",
        "SLACK_API_URL": api_url,
    }
    for i in range(rounds):
        now = INSTANTS[min(i // 2, len(INSTANTS) - 1)]
        done = subprocess.run(
            [sys.executable, "-m", "bot", "jobs", "run-once", "--now", now],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        results.append(done.returncode)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/caseload_bench")
    ap.add_argument("--previews", type=int, default=1000)
    ap.add_argument("--clock-rounds", type=int, default=8)
    args = ap.parse_args()
    url = prepare(args.database_url)
    tmp = Path(tempfile.mkdtemp(prefix="bench-scaleout-"))
    with LocalSlack() as fake:
        servers: list[Server] = [start_server(url, fake.api_url, tmp) for _ in range(2)]
        try:
            clock_codes: list[int] = []
            clocks = [
                threading.Thread(
                    target=clock_loop, args=(url, fake.api_url, args.clock_rounds, clock_codes)
                )
                for _ in range(2)
            ]
            for t in clocks:
                t.start()

            def preview(i: int) -> int:
                body = slash_command_body(
                    command="/availability",
                    text=TEXTS[i % len(TEXTS)],
                    user_id=PROVIDERS[i % 12],
                    response_url=fake.response_url(f"s{i}"),
                )
                return servers[i % 2].signed(body)[0]

            start = time.monotonic()
            with ThreadPoolExecutor(50) as pool:
                statuses = list(pool.map(preview, range(args.previews)))
            print(
                f"previews: {len(statuses)} sent, {statuses.count(200)} acknowledged, "
                f"{len(statuses) / (time.monotonic() - start):.0f}/s over two web processes"
            )

            # Two managers approve the same Anchorage proposal through different web processes.
            servers[0].signed(
                slash_command_body(
                    command="/match",
                    text="district=anchorage",
                    user_id=MANAGERS[0],
                    response_url=fake.response_url("m0"),
                )
            )
            deadline = time.monotonic() + 60
            value = None
            while value is None and time.monotonic() < deadline:
                for call in fake.calls_to("response_url"):
                    if call.response_key == "m0" and "match_approve_all" in json.dumps(call.params):
                        for block in call.params["blocks"]:
                            for el in block.get("elements", []):
                                if el.get("action_id") == "match_approve_all":
                                    value = el["value"]
                time.sleep(0.1)
            assert value, "no proposal arrived"

            def approve(i: int) -> int:
                body = block_actions_body(
                    user_id=MANAGERS[i % 2],
                    action={
                        "action_id": "match_approve_all",
                        "block_id": "match_actions",
                        "type": "button",
                        "value": value,
                        "text": {"type": "plain_text", "text": "x"},
                    },
                    response_url=fake.response_url(f"ap{i}"),
                    container={
                        "type": "message",
                        "message_ts": "1.1",
                        "channel_id": "D",
                        "is_ephemeral": True,
                    },
                )
                return servers[i % 2].signed(body)[0]

            with ThreadPoolExecutor(6) as pool:
                approvals = list(pool.map(approve, range(6)))
            for t in clocks:
                t.join()
            time.sleep(2)
            dms = [
                (c.params.get("channel"), c.params.get("text"), json.dumps(c.params.get("blocks")))
                for c in fake.calls_to("chat.postMessage")
                if c.ok
            ]
            counts = Counter(dms)
            duplicates = {k: n for k, n in counts.items() if n > 1}
            fresh = sum(
                1
                for c in fake.calls_to("response_url")
                if c.response_key
                and c.response_key.startswith("ap")
                and "Approved:" in json.dumps(c.params)
            )
            print(
                f"approve all clicked 6 times on 2 processes by 2 managers: "
                f"{approvals.count(200)} acked, {fresh} approved, the rest 'already approved'"
            )
            print(f"clock runs: {len(clock_codes)} (exit codes {dict(Counter(clock_codes))})")
            print(
                f"DMs delivered: {len(dms)} to {len({c for c, _, _ in dms})} people; "
                f"duplicates: {len(duplicates)}"
            )
            # Per item: the same line (student, session or licence, stage) to the same provider
            # twice, even inside differently composed DMs, is a duplicate too.
            items: Counter[tuple[str, str]] = Counter()
            for channel, _, blocks in dms:
                if str(channel).startswith("DU0DEMOP"):
                    for block in json.loads(blocks) or []:
                        for line in str((block.get("text") or {}).get("text", "")).splitlines():
                            if line.startswith("•"):
                                items[(str(channel), line)] += 1
            repeated = [k for k, n in items.items() if n > 1]
            print(
                f"nudge items delivered to providers: {len(items)}; "
                f"sent more than once: {len(repeated)}"
            )
            for (channel, text, _), n in list(duplicates.items())[:5]:
                print(f"  DUPLICATE x{n} to {channel}: {text[:80]!r}")
        finally:
            for srv in servers:
                stop_server(srv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
