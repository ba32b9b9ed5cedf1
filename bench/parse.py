"""Benchmark: how fast availability messages are understood.

1. In process: `parse_availability` on every line of `bench/corpus_availability.txt`, after
   `warm_up()`, each line timed over several rounds; prints the median and p99 of the per-message
   medians, in milliseconds (target: median <= 0.5 ms).
2. Through the CLI: 1,000 lines (the corpus repeated) piped into
   `python -m bot parse --today 2026-11-27`; prints the total seconds, or "cli: not available"
   when the `parse` command does not run yet.
3. Worst case: adversarial shapes cut at the length cap (repeated dates, digits, separators,
   dashes, day-name typos); prints the slowest, in CPU milliseconds (target: <= 50 ms).

Run from the repository root: `python bench/parse.py [--rounds N]`.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.domain.availability_text import (  # noqa: E402
    MAX_MESSAGE_CHARS,
    parse_availability,
    warm_up,
)

CORPUS = Path(__file__).with_name("corpus_availability.txt")
TODAY = date(2026, 11, 27)
CLI_LINES = 1000


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def bench_in_process(lines: list[str], rounds: int) -> None:
    warm_up()
    per_message: list[float] = []
    all_calls: list[float] = []
    for line in lines:
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            parse_availability(line, today=TODAY)
            samples.append((time.perf_counter() - started) * 1000)
        per_message.append(statistics.median(samples))
        all_calls.extend(samples)
    slowest = sorted(zip(per_message, lines, strict=True), reverse=True)[:3]
    print(f"messages: {len(lines)}, rounds: {rounds}")
    print(f"per-message median: {statistics.median(per_message):.3f} ms")
    print(f"per-message p99:    {percentile(per_message, 0.99):.3f} ms")
    print(f"per-message max:    {max(per_message):.3f} ms")
    print(f"all calls p99:      {percentile(all_calls, 0.99):.3f} ms")
    for ms, line in slowest:
        print(f"  slow: {ms:.3f} ms  {line!r}")


def bench_cli(lines: list[str]) -> None:
    repeated = [lines[i % len(lines)] for i in range(CLI_LINES)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "messages.txt"
        path.write_text("\n".join(repeated) + "\n", encoding="utf-8")
        command = [sys.executable, "-m", "bot", "parse", "--today", TODAY.isoformat()]
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        try:
            with path.open("rb") as stdin:
                done = subprocess.run(
                    command, stdin=stdin, capture_output=True, cwd=ROOT, timeout=300, check=False
                )
        except (OSError, subprocess.TimeoutExpired) as exc:
            print(f"cli: not available ({type(exc).__name__})")
            return
        elapsed = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    printed = [line for line in done.stdout.decode("utf-8", "replace").splitlines() if line]
    if done.returncode != 0 or len(printed) != CLI_LINES:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = reason[-1] if reason else f"exit {done.returncode}, {len(printed)} lines"
        print(f"cli: not available ({detail})")
        return
    print(f"cli: {CLI_LINES} lines in {elapsed:.2f} s ({elapsed / CLI_LINES * 1000:.2f} ms/line)")
    # On a shared machine the wall time includes waiting for a core; the CPU time does not.
    print(f"cli: {cpu:.2f} s of CPU (start-up included)")


ADVERSARIAL = {
    "numeric dates": "12/23 ",
    "month dates": "Dec 23 ",
    "date ranges": "Dec 23 - Jan 2 ",
    "ordinal dates": "5th of January ",
    "digits": "1",
    "spaced digits": "1 ",
    "time ranges": "8-11 ",
    "dashes": "-",
    "dash digits": "1-",
    "slashes": "1/",
    "commas": "1,",
    "day typos": "Tuesdyy ",
    "distinct typos": "".join(f"Thursdy{chr(97 + i % 26)}{chr(97 + i // 26)} " for i in range(60)),
    "day ranges": "Mon-Fri ",
    "from days": "from Mon ",
    "zones": "America/Boise ",
    "mixed": "out Dec 23 Tue 8-11 PT ",
}


def bench_worst_case(rounds: int) -> None:
    warm_up()
    worst: list[tuple[float, str]] = []
    for name, piece in ADVERSARIAL.items():
        text = (piece * MAX_MESSAGE_CHARS)[:MAX_MESSAGE_CHARS]
        samples = []
        for _ in range(max(3, rounds // 4)):
            started = time.thread_time()
            parse_availability(text, today=TODAY)
            samples.append((time.thread_time() - started) * 1000)
        worst.append((min(samples), name))
    worst.sort(reverse=True)
    print(f"worst case at {MAX_MESSAGE_CHARS} chars: {worst[0][0]:.2f} ms CPU ({worst[0][1]})")
    for ms, name in worst[1:4]:
        print(f"  next: {ms:.2f} ms  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    lines = [line for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    bench_in_process(lines, args.rounds)
    bench_cli(lines)
    bench_worst_case(args.rounds)


if __name__ == "__main__":
    main()
