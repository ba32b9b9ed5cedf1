"""Wiring: the command line, ``python -m bot COMMAND`` (also the ``caseload-bot`` script).

Exit status: 0 on success, 1 on a user error (one line on stderr), 2 on usage errors.
The entry points here are the only places that build real dependencies.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.minutes import Month
from bot.settings import Settings, SettingsError, load_settings
from bot.views.format import plural

if TYPE_CHECKING:
    from storage.roster import ImportReport


class CliError(Exception):
    """A user error: printed as one line, exit status 1."""


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date YYYY-MM-DD") from None


def _timestamp(value: str) -> datetime:
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an ISO 8601 timestamp (e.g. 2026-11-30T17:00:00Z)"
        ) from None
    if ts.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{value!r} needs a zone, e.g. 2026-11-30T17:00:00Z")
    return ts


def _zone(value: str) -> str:
    from bot.domain.labels import ZONE_ABBREVIATIONS

    name = ZONE_ABBREVIATIONS.get(value.upper(), value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(f"{value!r} is not a time zone") from None
    return name


def _month(value: str) -> Month:
    try:
        return Month.parse(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bot",
        description="Caseload bot: availability, matching and deadline nudges for therapists.",
        epilog="More in README.md: Commands, Configuration, Importing a roster.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("serve", help="production HTTP server (POST /slack/events, GET /healthz)")
    s.add_argument("--port", type=int, help="listen port (default: PORT or 3000)")
    sub.add_parser("socket", help="Socket Mode, for development without a public URL")
    c = sub.add_parser("console", help="a local shell that needs no Slack")
    c.add_argument("--as", dest="as_user", metavar="SLACK_USER_ID", help="act as this person")
    sub.add_parser("migrate", help="bring the database schema up to date")
    i = sub.add_parser("import", help="load a roster folder (README: Importing a roster)")
    i.add_argument("folder", type=Path)
    i.add_argument(
        "--dry-run", action="store_true", help="show what the import would do, write nothing"
    )
    i.add_argument(
        "--apply-removals",
        action="store_true",
        help="end what the folder no longer lists (students exit, providers are removed, "
        "assignments and licences end)",
    )
    pa = sub.add_parser("parse", help="show how an availability message is understood")
    pa.add_argument("text", nargs="?", help="the message; without it, one per line from stdin")
    pa.add_argument("--tz", type=_zone, help="the provider's own zone")
    pa.add_argument("--today", type=_date, help="the date to read relative dates from")
    m = sub.add_parser("match", help="propose assignments for a district")
    m.add_argument("--district", required=True)
    m.add_argument(
        "--json",
        action="store_true",
        help="print the proposal as JSON (README: Commands, match --json)",
    )
    m.add_argument("--today", type=_date)
    r = sub.add_parser("report", help="write a district's service log as CSV")
    r.add_argument("kind", choices=["minutes"], help="the report: minutes (the service log)")
    r.add_argument("--district", required=True, help="district id or name")
    r.add_argument("--month", required=True, type=_month, help="YYYY-MM")
    r.add_argument("--summary", action="store_true", help="one row per student service")
    r.add_argument("--with-names", action="store_true", help="add student names (audited)")
    r.add_argument("--out", type=Path, help="write to this file (default: standard output)")
    j = sub.add_parser("jobs", help="the clock process (or: jobs run-once --now TIMESTAMP)")
    j.add_argument("action", nargs="?", choices=["run-once"])
    j.add_argument("--now", type=_timestamp, help="with run-once: act as if it were this instant")
    return p


def setup_logging(settings: Settings | None) -> None:
    from bot.logs import configure

    configure(settings.log_level if settings else "INFO")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "jobs" and args.now is not None and args.action != "run-once":
        print("error: --now goes with 'jobs run-once'", file=sys.stderr)
        return 2
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    setup_logging(settings)
    commands: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
        "serve": cmd_serve,
        "socket": cmd_socket,
        "console": cmd_console,
        "migrate": cmd_migrate,
        "import": cmd_import,
        "parse": cmd_parse,
        "match": cmd_match,
        "jobs": cmd_jobs,
        "report": cmd_report,
    }
    try:
        return commands[args.command](args, settings)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


# --- commands ------------------------------------------------------------------------------


def _require(settings: Settings, *names: str) -> None:
    for name in names:
        if not getattr(settings, name.lower()):
            raise CliError(f"{name} is not set; this command needs it (see README: Configuration)")


def _database_ready(settings: Settings, *, auto_migrate: bool) -> None:
    """Make sure the schema is current: migrate it when allowed, else say what to run."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage.db import is_current, make_engine, migrate

    try:
        if auto_migrate:
            migrate(settings.database_url)
            return
        engine = make_engine(settings.database_url, null_pool=True)
        try:
            current = is_current(engine)
        finally:
            engine.dispose()
    except SQLAlchemyError as exc:
        raise CliError(f"DATABASE_URL: cannot use the database ({_db_reason(exc)})") from None
    if not current:
        raise CliError("the database schema is not up to date: run `python -m bot migrate`")


def _db_reason(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0][:160] if text else type(exc).__name__


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from storage.db import migrate

    try:
        migrate(settings.database_url)
    except SQLAlchemyError as exc:
        raise CliError(f"DATABASE_URL: cannot migrate ({_db_reason(exc)})") from None
    print("The database schema is up to date.")
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from contextlib import ExitStack

    from bot.clock import SystemClock
    from bot.import_progress import BarProgress, LineProgress
    from storage.db import make_engine, make_session_factory
    from storage.roster import import_roster

    folder: Path = args.folder
    if not folder.is_dir():
        raise CliError(f"{folder}: no such folder")
    use_database = not args.dry_run or _database_usable(settings)
    if not args.dry_run:
        _database_ready(settings, auto_migrate=True)
    err = sys.stderr
    with ExitStack() as stack:
        progress: BarProgress | LineProgress = LineProgress(err)
        if err.isatty():
            progress = stack.enter_context(BarProgress(err))
        if not use_database:
            report = import_roster(folder, None, dry_run=True, progress=progress)
        else:
            engine = make_engine(settings.database_url)
            stack.callback(engine.dispose)
            report = import_roster(
                folder,
                make_session_factory(engine),
                dry_run=args.dry_run,
                apply_removals=args.apply_removals,
                now=SystemClock().now(),
                progress=progress,
            )
    for w in report.warnings:
        print(f"warning: {w}", file=err)
    if not report.ok:
        for problem in report.problems:
            print(problem, file=err)
        if report.more_problems:
            print(f"... and {report.more_problems} more problems", file=err)
        found = plural(report.problem_count, "problem")
        print(f"error: {found} found; nothing was written", file=err)
        return 1
    _print_import(folder, report, dry_run=args.dry_run, apply=args.apply_removals)
    return 0


def _database_usable(settings: Settings) -> bool:
    """A dry run simulates against the database when it is there and current."""
    try:
        _database_ready(settings, auto_migrate=False)
    except CliError:
        return False
    return True


def _print_import(folder: Path, report: ImportReport, *, dry_run: bool, apply: bool) -> None:
    from storage.roster import missing_lines

    if dry_run and not report.counts:
        print(f"Dry run: {folder} is valid; nothing was written (no database to compare with).")
        for table, n in report.rows.items():
            print(f"  {table}: {n} rows")
        return
    if dry_run:
        print(
            f"Dry run: {folder} is valid; this is what importing it would do (nothing was written):"
        )
    else:
        print(f"Imported {folder}:")
    for table, counts in report.counts.items():
        print(f"  {table}: {counts}")
    if report.moved_sessions:
        moved = plural(report.moved_sessions, "future session")
        print(f"  {moved} moved to their student's new provider")
    if report.missing:
        print("No longer in the folder:")
        for line in missing_lines(report):
            print(f"  {line}")
        if not apply:
            print("Run again with --apply-removals to end them.")
    for line in report.removals:
        print(f"  {line}")


def cmd_parse(args: argparse.Namespace, settings: Settings) -> int:
    from bot.domain.availability_text import parse_availability, warm_up

    today = args.today or _today_in(args.tz or settings.org_timezone)
    if args.text is not None:
        lines: Sequence[str] = [args.text]
    else:
        warm_up()
        lines = [line.rstrip("\n") for line in sys.stdin]
    out = sys.stdout
    for line in lines:
        result = parse_availability(line, today=today)
        out.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
    return 0


def _today_in(zone: str) -> date:
    from bot.clock import SystemClock

    return SystemClock().now().astimezone(ZoneInfo(zone)).date()


def cmd_match(args: argparse.Namespace, settings: Settings) -> int:
    from bot.deps import build_deps
    from bot.services import matching
    from bot.services.errors import UserFacingError

    _database_ready(settings, auto_migrate=settings.is_sqlite)
    # The solve in a child process, as the servers do: should OR-Tools abort (a native check,
    # not an exception), the operator reads a sentence and the exit status, not a core dump.
    one = settings.model_copy(update={"match_solves": 1})  # (one solve: one child)
    deps = build_deps(one, solve_in_processes=True)
    try:
        district = matching.resolve_district(deps, args.district)
        today = args.today or _today_in(district.timezone)
        proposal = matching.preview_only(deps, district, today)
    except UserFacingError as exc:
        raise CliError(exc.message.replace("`", "'")) from None
    finally:
        deps.engine.dispose()
    if args.json:
        sys.stdout.write(json.dumps(proposal.to_json(), indent=1) + "\n")
    else:
        sys.stdout.write(matching.text_summary(proposal) + "\n")
    return 0


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    import getpass

    from bot.deps import build_deps
    from bot.services.errors import UserFacingError
    from bot.services.minutes_report import write_report

    _database_ready(settings, auto_migrate=False)
    deps = build_deps(settings)
    actor = f"cli:{getpass.getuser()}"
    try:
        if args.out is None:
            report = write_report(
                deps,
                args.district,
                args.month,
                sys.stdout,
                summary=args.summary,
                with_names=args.with_names,
                actor=actor,
            )
        else:
            # Written beside the target and moved into place: a failed run leaves no half file.
            partial = args.out.with_name(args.out.name + ".partial")
            try:
                with partial.open("w", encoding="utf-8", newline="") as out:
                    report = write_report(
                        deps,
                        args.district,
                        args.month,
                        out,
                        summary=args.summary,
                        with_names=args.with_names,
                        actor=actor,
                    )
                partial.replace(args.out)
            except OSError as exc:
                raise CliError(f"{args.out}: {exc.strerror or exc}") from None
            finally:
                partial.unlink(missing_ok=True)
            print(
                f"{args.out}: {plural(report.rows, 'row')} for {report.district}, "
                f"{report.month.label()}",
                file=sys.stderr,
            )
    except UserFacingError as exc:
        raise CliError(exc.message.replace("`", "'")) from None
    finally:
        deps.engine.dispose()
    return 0


def cmd_jobs(args: argparse.Namespace, settings: Settings) -> int:
    from jobs import clock_process

    return clock_process.run_cli(args, settings)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot import web

    _require(settings, "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    _database_ready(settings, auto_migrate=settings.is_sqlite)
    port = args.port or settings.port
    return web.serve(settings, port)


def cmd_socket(args: argparse.Namespace, settings: Settings) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.app import create_app
    from bot.deps import build_deps

    _require(settings, "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")
    _database_ready(settings, auto_migrate=settings.is_sqlite)
    app = create_app(settings, build_deps(settings, solve_in_processes=True))
    SocketModeHandler(app, settings.slack_app_token).start()
    return 0


def cmd_console(args: argparse.Namespace, settings: Settings) -> int:
    from bot.logs import configure
    from devtools import console

    configure("WARNING")  # the console's screen is for the conversation
    _database_ready(settings, auto_migrate=True)
    return console.run(settings, as_user=args.as_user)


if __name__ == "__main__":
    sys.exit(main())
