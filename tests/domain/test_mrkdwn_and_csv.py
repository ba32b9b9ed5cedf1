"""Domain: user and roster text placed in mrkdwn is shown, never acted on; CSV cells a
spreadsheet would run as a formula get a leading apostrophe."""

from __future__ import annotations

import csv
import io

import pytest

from bot.domain.mrkdwn import code, escape
from bot.domain.spreadsheet import SafeWriter, safe_cell


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("<!channel>", "&lt;!channel&gt;"),
        ("<@U123|boss>", "&lt;@U123|boss&gt;"),
        ("<https://evil.example|click>", "&lt;https://evil.example|click&gt;"),
        ("A & B", "A &amp; B"),
        ("&lt;", "&amp;lt;"),
        ("plain", "plain"),
    ],
)
def test_escape(text: str, shown: str) -> None:
    assert escape(text) == shown


def test_code_span_cannot_be_closed_early_or_grow() -> None:
    assert code("a`<!here>`b") == "`a'&lt;!here&gt;'b`"
    assert code("x" * 100) == "`" + "x" * 40 + "`"


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("Ana Lopez", "Ana Lopez"),
        ("09:00", "09:00"),
        (None, ""),
        (7, "7"),
    ],
)
def test_safe_cell(cell: object, written: str) -> None:
    assert safe_cell(cell) == written


def test_safe_writer_neutralises_every_cell() -> None:
    buf = io.StringIO()
    SafeWriter(buf).writerow(["P1", "=cmd|' /C calc'!A0", "S1 S2"])
    assert next(csv.reader(io.StringIO(buf.getvalue()))) == ["P1", "'=cmd|' /C calc'!A0", "S1 S2"]
