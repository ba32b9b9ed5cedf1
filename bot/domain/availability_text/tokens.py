"""Domain: splitting an availability message into tokens, with a small look-ahead cursor."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from bot.domain.availability_text.zones import IANA_AREAS, iana_names

NORMALIZE: Final = str.maketrans(
    {
        "\u2013": "-",
        "\u2014": "-",
        "\u2012": "-",
        "\u2212": "-",
        "\u2015": "-",
        "\u2010": "-",
        "\u2011": "-",
        "\u2019": "'",
        "\u2018": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u00a0": " ",
    }
)
DOTTED_MERIDIEM_RE: Final = re.compile(r"(?<![A-Za-z])([AaPp])\.\s?([Mm])\.?")
_TOKEN_RE: Final = re.compile(
    r"(?P<num>[0-9]+(?:[:.][0-9]+)?)|(?P<word>[A-Za-z]+(?:'[A-Za-z]+)*)|(?P<punct>[-/,&+;?!.()~])"
)
_IANA_RE: Final = re.compile(r"(?<![A-Za-z0-9_/])[A-Za-z]+(?:_[A-Za-z]+)*(?:/[A-Za-z0-9_+-]+)+")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "num", "word", "punct" or "zone"
    text: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    zones: list[Token] = []
    if "/" in text:
        for m in _IANA_RE.finditer(text):
            name = m.group(0)
            if name.split("/", 1)[0].lower() in IANA_AREAS:
                # An unknown name ("America/Nowhere") becomes a question, not a silent default.
                canonical = iana_names().get(name.lower(), "?" + name)
                zones.append(Token("zone", canonical, m.start(), m.end()))
    toks: list[Token] = []
    for m in _TOKEN_RE.finditer(text):
        kind = m.lastgroup
        assert kind is not None
        if zones and any(z.start <= m.start() < z.end for z in zones):
            continue
        toks.append(Token(kind, m.group(0), m.start(), m.end()))
    if zones:
        toks.extend(zones)
        toks.sort(key=lambda t: t.start)
    return toks


class TokenCursor:
    """Token cursor with the handful of look-ahead helpers the first pass needs."""

    def __init__(self, text: str, toks: list[Token]) -> None:
        self.text = text
        self.toks = toks

    def get(self, i: int) -> Token | None:
        return self.toks[i] if 0 <= i < len(self.toks) else None

    def attached(self, i: int) -> bool:
        """Token i touches the previous token (no space between)."""
        return 0 < i < len(self.toks) and self.toks[i - 1].end == self.toks[i].start

    def word(self, i: int) -> str | None:
        t = self.get(i)
        return t.text.lower() if t is not None and t.kind == "word" else None

    def small_int(self, i: int, limit: int) -> int | None:
        t = self.get(i)
        if t is None or t.kind != "num" or not t.text.isdigit() or len(t.text) > 2:
            return None
        value = int(t.text)
        return value if 1 <= value <= limit else None
