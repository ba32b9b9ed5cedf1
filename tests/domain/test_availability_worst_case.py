"""Domain tests: the availability parser's length cap and its worst case.

Every message up to the cap is read in at most 50 ms of CPU time, whatever its shape: repeated
dates, digits, separators, dashes, day words and typos. CPU time of this thread (not wall time)
keeps the check meaningful on a busy machine.
"""

from __future__ import annotations

import time
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.availability_text import MAX_MESSAGE_CHARS, parse_availability, warm_up

TODAY = date(2026, 11, 27)
BUDGET_SECONDS = 0.050

# Pieces people (and attackers) repeat: dates in every form, bare digits, separators, dashes,
# day words, typos that make the fuzzy day matcher work, zones and time-off words.
_PIECES = [
    "12/23 ",
    "12/23/2026 ",
    "Dec 23 ",
    "Dec 23 - Jan 2 ",
    "23 Dec ",
    "2026-12-23 ",
    "the 30th ",
    "5th of January ",
    "1",
    "12",
    "1234",
    " ",
    "-",
    "--",
    "/",
    ",",
    ".",
    ":",
    "8-11 ",
    "8:30-11:30 ",
    "1-2-3-4-",
    "Mon ",
    "M-F ",
    "Tuesdyy ",
    "Wednesdya ",
    "from Mon ",
    "except ",
    "out ",
    "until Dec 18 ",
    "PT ",
    "America/Boise ",
    "and ",
]


def _cpu_seconds(text: str) -> float:
    started = time.thread_time()
    parse_availability(text, today=TODAY)
    return time.thread_time() - started


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=6), st.integers(1, 500))
def test_repeated_shapes_up_to_the_cap_stay_within_budget(pieces: list[str], repeat: int) -> None:
    warm_up()
    text = ("".join(pieces) * repeat)[:MAX_MESSAGE_CHARS]
    # The best of three runs: one slow run is the machine, three are the parser.
    assert min(_cpu_seconds(text) for _ in range(3)) <= BUDGET_SECONDS, text


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="0123456789-/:., amptTMWFh", max_size=MAX_MESSAGE_CHARS))
def test_digit_and_separator_soup_stays_within_budget(text: str) -> None:
    warm_up()
    assert min(_cpu_seconds(text) for _ in range(3)) <= BUDGET_SECONDS, text


def test_a_message_over_the_cap_gets_a_polite_question_and_nothing_else() -> None:
    text = "12/23 " * 6_667  # the 40,000-character DM
    result = parse_availability(text, today=TODAY)
    assert result.intent is None and result.windows == () and result.dates is None
    assert result.error is not None
    assert "40,002 characters" in result.error and "under 500 characters" in result.error


def test_a_message_at_the_cap_is_still_read() -> None:
    text = "Tue 8-11".ljust(MAX_MESSAGE_CHARS)
    result = parse_availability(text, today=TODAY)
    assert result.error is None and result.intent is not None
