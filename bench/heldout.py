"""Benchmark: accuracy of the availability parser on the held-out messages.

Reads every message of a held-out set with the parser as it stands: set 1,
`tests/domain/heldout_availability.py`, was written before the parser work; set 2,
`tests/domain/heldout_availability_2.py`, was written blind in a later session. It prints the
share read as expected, the misreadings a user could save (a wrong reading with no question), and
each miss by category.

Run from the repository root: `python bench/heldout.py [--set 1|2] [--verbose]`.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.domain.availability_text import parse_availability  # noqa: E402
from tests.domain.heldout_availability import HELDOUT, TODAY, matches, reading  # noqa: E402
from tests.domain.heldout_availability_2 import HELDOUT_2  # noqa: E402

SETS = {"1": HELDOUT, "2": HELDOUT_2}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="print every miss")
    parser.add_argument(
        "--set",
        choices=sorted(SETS),
        default="1",
        help="1: the set written before the parser work; 2: the set written blind after it",
    )
    args = parser.parse_args()
    rows = SETS[args.set]
    right = 0
    savable: list[str] = []
    misses: Counter[str] = Counter()
    for row in rows:
        parsed = parse_availability(row.text, today=TODAY).to_json()
        if matches(row, parsed):
            right += 1
            continue
        misses[row.category] += 1
        saved = reading(parsed) is not None
        if saved:
            savable.append(row.text)
        if args.verbose:
            mark = "SAVABLE" if saved else "question"
            print(f"  {mark:8} {row.text!r}: {parsed}")
    total = len(rows)
    print(f"held-out messages: {total}")
    print(f"read as expected:  {right} ({100 * right / total:.0f}%)")
    print(f"savable misreadings: {len(savable)}")
    for category, count in misses.most_common():
        print(f"  missed in {category}: {count}")


if __name__ == "__main__":
    main()
