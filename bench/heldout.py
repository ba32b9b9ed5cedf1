"""Benchmark: accuracy of the availability parser on the held-out messages.

Reads every message of `tests/domain/heldout_availability.py` (written before the parser work
and never tuned on) with the parser as it stands, and prints the share read as expected, the
misreadings a user could save (a wrong reading with no question), and each miss by category.

Run from the repository root: `python bench/heldout.py [--verbose]`.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="print every miss")
    args = parser.parse_args()
    right = 0
    savable: list[str] = []
    misses: Counter[str] = Counter()
    for row in HELDOUT:
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
    total = len(HELDOUT)
    print(f"held-out messages: {total}")
    print(f"read as expected:  {right} ({100 * right / total:.0f}%)")
    print(f"savable misreadings: {len(savable)}")
    for category, count in misses.most_common():
        print(f"  missed in {category}: {count}")


if __name__ == "__main__":
    main()
