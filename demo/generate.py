"""Demo data: the command line that writes a demo or synthetic roster folder.

    python -m demo.generate demo FOLDER [--today YYYY-MM-DD]
    python -m demo.generate synthetic FOLDER --students N [--providers P] [--districts D]
        [--seed S] [--today YYYY-MM-DD] [--sessions-per-student K] [--assign-all]

The generators live in `demo.roster` (the demo roster) and `demo.synthetic` (any size), on the
CSV schema of `demo.schema`; they are re-exported here for the callers that import them.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from demo.roster import write_demo_roster
from demo.schema import ANCHOR
from demo.synthetic import write_synthetic_roster

__all__ = ["ANCHOR", "main", "write_demo_roster", "write_synthetic_roster"]


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from error


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m demo.generate", description="Write a demo or synthetic roster folder."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="write the hand-crafted demo roster")
    demo.add_argument("folder", type=Path, help="created if missing; files are overwritten")
    demo.add_argument(
        "--today",
        type=_parse_date,
        default=ANCHOR,
        help=f"date the roster is built around ({ANCHOR})",
    )
    synthetic = commands.add_parser("synthetic", help="write a synthetic roster of any size")
    synthetic.add_argument("folder", type=Path, help="created if missing; files are overwritten")
    synthetic.add_argument("--students", type=int, required=True)
    synthetic.add_argument("--providers", type=int, help="default: students / 7.5")
    synthetic.add_argument("--districts", type=int, help="default: students / 300, at least 1")
    synthetic.add_argument("--seed", type=int, default=7)
    synthetic.add_argument("--today", type=_parse_date, default=ANCHOR, help=f"default: {ANCHOR}")
    synthetic.add_argument(
        "--sessions-per-student",
        type=int,
        default=0,
        help="past sessions each; implies --assign-all",
    )
    synthetic.add_argument(
        "--assign-all", action="store_true", help="assign every service to a licensed provider"
    )
    args = parser.parse_args(argv)
    if args.command == "demo":
        write_demo_roster(args.folder, args.today)
    else:
        write_synthetic_roster(
            args.folder,
            students=args.students,
            providers=args.providers,
            districts=args.districts,
            seed=args.seed,
            today=args.today,
            sessions_per_student=args.sessions_per_student,
            assign_all=args.assign_all,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
