"""Profile: the CPU one `/availability` preview costs, end to end, in process (PostgreSQL).

Drives signed `/availability Tue 8-11` commands through the same door `serve` uses (signature
check, replay claim, Bolt, the listener, the preview service, the reply to the response_url),
with the work run in the request's thread so that one thread's CPU clock sees all of it. The
reply goes to the loopback fake Web API. Prints the CPU milliseconds per preview (the least of
``--repeat`` rounds: the machine may be shared), the database round-trips and connection
checkouts per preview, and the top of two profiles: cProfile on the CPU clock, and
pyinstrument's call tree (wall time, when installed).

    python bench/profile_preview.py [--database-url postgresql://postgres@127.0.0.1:5432/caseload_profile]
                                    [-n 200] [--repeat 5] [--text "Tue 8-11"] [--top 40]

The database named is dropped and recreated (its public schema), then loaded with the demo roster.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event  # noqa: E402

from bench.load import PROVIDERS, prepare  # noqa: E402
from bot.app import create_door  # noqa: E402
from bot.deps import build_deps  # noqa: E402
from bot.logs import configure  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from devtools.local_slack import LocalSlack  # noqa: E402
from devtools.slack_requests import sign_request, slash_command_body  # noqa: E402

SECRET = "profile-signing-secret"


class Driver:
    def __init__(self, url: str, fake: LocalSlack, text: str) -> None:
        settings = load_settings(
            {
                "DATABASE_URL": url,
                "SLACK_BOT_TOKEN": "xoxb-profile-token",
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": fake.api_url,
            }
        )
        self.deps = build_deps(settings, slack_retries=0)
        # inline: the work runs in this thread right after the acknowledgement, as one task.
        self.door = create_door(settings, self.deps, inline=True)
        self.fake, self.text, self.n = fake, text, 0
        self.statements = self.checkouts = 0

        def count_statement(*_: Any) -> None:
            self.statements += 1

        def count_checkout(*_: Any) -> None:
            self.checkouts += 1

        event.listen(self.deps.engine, "before_cursor_execute", count_statement)
        event.listen(self.deps.engine, "checkout", count_checkout)

    def environ(self) -> dict[str, Any]:
        self.n += 1
        body = slash_command_body(
            command="/availability",
            text=self.text,
            user_id=PROVIDERS[self.n % len(PROVIDERS)],
            response_url=self.fake.response_url(f"p-{self.n}"),
        ).encode()
        env: dict[str, Any] = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/slack/events",
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
        }
        for key, value in sign_request(SECRET, body.decode()).items():
            env["HTTP_" + key.upper().replace("-", "_")] = value
        return env

    def one(self, env: dict[str, Any]) -> None:
        status: list[str] = []

        def start_response(s: str, headers: list[tuple[str, str]]) -> None:
            status.append(s)

        b"".join(self.door(env, start_response))
        if not status or not status[0].startswith("200"):
            raise SystemExit(f"request refused: {status}")

    def run(self, envs: list[dict[str, Any]]) -> None:
        for env in envs:
            self.one(env)

    def batch(self, n: int) -> float:
        """CPU seconds of this thread for ``n`` previews (request bodies built beforehand)."""
        envs = [self.environ() for _ in range(n)]
        start = time.thread_time()
        for env in envs:
            self.one(env)
        return time.thread_time() - start


def cpu_profile(run: Callable[[], None], top: int) -> str:
    """cProfile on this thread's CPU clock: where the CPU goes, waits on the database excluded."""
    prof = cProfile.Profile(time.thread_time)
    prof.runcall(run)
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top // 2)
    return out.getvalue()


def wall_profile(run: Callable[[], None], top: int) -> str:
    """pyinstrument's call tree (wall time, so waits on the database show), when installed."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        return "(pyinstrument is not installed: no call tree)"
    profiler = Profiler(interval=0.0005)
    profiler.start()
    run()
    profiler.stop()
    text: str = profiler.output_text(unicode=False, color=False, show_all=False)
    return "\n".join(text.splitlines()[:top])


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/caseload_profile"
    )
    ap.add_argument("-n", type=int, default=200, help="previews per round")
    ap.add_argument("--repeat", type=int, default=5, help="rounds; the least CPU counts")
    ap.add_argument("--text", default="Tue 8-11")
    ap.add_argument("--top", type=int, default=60, help="lines of each profile")
    args = ap.parse_args()
    url = prepare(args.database_url)
    configure("INFO")  # as `serve` logs
    with LocalSlack() as fake:
        driver = Driver(url, fake, args.text)
        driver.batch(20)  # warm: imports, connection pool, caches
        rounds = []
        for _ in range(args.repeat):
            statements, checkouts = driver.statements, driver.checkouts
            rounds.append(driver.batch(args.n) * 1000 / args.n)
            per_statements = (driver.statements - statements) / args.n
            per_checkouts = (driver.checkouts - checkouts) / args.n
        replies = fake.wait_for("response_url", count=driver.n, timeout=30)
        previews = sum(1 for c in replies if "Save" in str(c.params))
        print(f"database: {url.split('@')[-1]}  text: {args.text!r}  previews per round: {args.n}")
        print(
            f"CPU per preview: min {min(rounds):.2f} ms, median "
            f"{sorted(rounds)[len(rounds) // 2]:.2f} ms over {args.repeat} rounds "
            f"({', '.join(f'{r:.2f}' for r in rounds)})"
        )
        print(
            f"SQL statements per preview: {per_statements:.1f}; "
            f"connection checkouts per preview: {per_checkouts:.1f}"
        )
        print(f"replies with a Save button: {previews}/{driver.n}")
        for name, profile in (("CPU", cpu_profile), ("wall", wall_profile)):
            envs = [driver.environ() for _ in range(args.n)]
            print(f"--- {name} profile of {args.n} previews ---")
            print(profile(functools.partial(driver.run, envs), args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
