"""Tests: the count and emphasis helpers every reply uses."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.views.format import ago, bold, plural


@pytest.mark.parametrize(
    ("n", "word", "form", "expected"),
    [
        (0, "assignment", None, "0 assignments"),
        (1, "assignment", None, "1 assignment"),
        (2, "provider", None, "2 providers"),
        (1, "child", "children", "1 child"),
        (3, "child", "children", "3 children"),
        (1200, "student", None, "1,200 students"),
    ],
)
def test_plural(n: int, word: str, form: str | None, expected: str) -> None:
    assert plural(n, word, form) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tue Jan 5", "*Tue Jan 5*"),
        # The proposal markup from issue 16: one pair of markers, not nested ones.
        (f"Replace A.B. from {bold('Tue Jan 5')}", "*Replace A.B. from Tue Jan 5*"),
        (" padded ", " *padded* "),
        ("", ""),
        ("**", ""),
    ],
)
def test_bold_never_nests(text: str, expected: str) -> None:
    assert bold(text) == expected
    assert bold(bold(text)) == expected


@pytest.mark.parametrize(
    ("late", "expected"),
    [
        (timedelta(seconds=5), "1 min"),
        (timedelta(minutes=45), "45 min"),
        (timedelta(hours=22, minutes=50), "22 h"),
        (timedelta(days=1, hours=3), "1 day"),
        (timedelta(days=3), "3 days"),
    ],
)
def test_ago_names_lateness_in_its_largest_whole_unit(late: timedelta, expected: str) -> None:
    assert ago(late) == expected
