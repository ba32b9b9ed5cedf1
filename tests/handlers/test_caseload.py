"""Handlers: /caseload and /deadlines replies (handlers/caseload.py and its block builders)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.services.caseload import DistrictCaseload, ProviderLoad
from bot.services.coverage import DistrictCoverage
from bot.services.deadlines import ANNUAL, DeadlineItem, Deadlines, NoteCount
from bot.services.errors import InvalidInput
from devtools.blocks_text import render_message
from handlers.caseload import parse_caseload_args
from handlers.caseload_blocks import deadlines_blocks, district_caseload_blocks
from handlers.common import to_dicts

TODAY = date(2026, 11, 30)


def shown(d: Deadlines) -> str:
    return render_message(text=None, blocks=to_dicts(deadlines_blocks(d))).text


def deadlines(items: tuple[DeadlineItem, ...] = (), notes: tuple[NoteCount, ...] = ()) -> Deadlines:
    return Deadlines("your students", 30, TODAY, items, notes, False)


def test_deadlines_lead_with_what_is_due_and_name_empty_sections_last() -> None:
    review = DeadlineItem(ANNUAL, date(2026, 12, 5), 5, "N.L. (S2)", "Birchwood", "Ben Ko")
    text = shown(deadlines((review,), (NoteCount("P2", "Ben Ko", 7, date(2026, 11, 2)),)))
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines[0] == "Deadlines for your students — the next 30 days, from Mon Nov 30"
    assert lines[1] == "Overdue SOAP notes (7)"
    assert "IEP annual reviews and triennials (1)" in text
    assert text.index("Overdue SOAP notes") < text.index("IEP annual reviews")
    assert "(0)" not in text and "Licences ending" not in text
    assert lines[-2:] == [
        "Nothing due: licences ending.",
        "Write overdue notes with /soap or from the App Home.",
    ]


def test_nothing_due_at_all_is_one_line() -> None:
    text = shown(deadlines())
    assert "Nothing due, and no notes overdue. 🎉" in text
    assert "(0)" not in text and "/soap" not in text


def test_a_managers_caseload_is_the_district_view_with_a_hint() -> None:
    overview = DistrictCaseload(None, (DistrictCoverage("anc", "Anchorage", 1, 1),), ())
    text = render_message(text=None, blocks=to_dicts(district_caseload_blocks(overview))).text
    assert "Anchorage (anc): 1 of 1 student service served" in text
    assert "Name a district (/caseload district=anchorage) or a provider" in text
    one = DistrictCaseload(
        "Anchorage",
        (DistrictCoverage("anc", "Anchorage", 3, 2),),
        (ProviderLoad("Ana Reyes", "U0P1", 1, 2),),
    )
    text = render_message(text=None, blocks=to_dicts(district_caseload_blocks(one))).text
    assert "Caseloads in Anchorage · 2 of 3 student services served" in text
    assert "• Ana Reyes: 1 student, 2 services" in text


@pytest.mark.parametrize(
    ("text", "args"),
    [
        ("", (None, None)),
        ("<@U0P2|ben>", ("U0P2", None)),
        ("U0P2", ("U0P2", None)),
        ("@U0P2", ("U0P2", None)),
        ("district=anc", (None, "anc")),
        ("DISTRICT=Mesa", (None, "Mesa")),
    ],
)
def test_caseload_arguments(text: str, args: tuple[str | None, str | None]) -> None:
    assert parse_caseload_args(text) == args


@pytest.mark.parametrize("text", ["everyone", "<@U0P2> extra", "district=", "<@U0P2> district=anc"])
def test_caseload_bad_arguments_get_usage(text: str) -> None:
    with pytest.raises(InvalidInput, match="Usage: `/caseload`"):
        parse_caseload_args(text)
