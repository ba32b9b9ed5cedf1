"""Views: the small text helpers every reply uses: counts with the right plural, and bold.

Slack's mrkdwn has no nesting: ``*Replace from *Tue**`` renders broken, so ``bold`` strips the
emphasis markers inside before wrapping.
"""

from __future__ import annotations

from datetime import timedelta


def plural(n: int, word: str, plural_form: str | None = None) -> str:
    """``plural(1, "student")`` -> "1 student"; ``plural(2, "student")`` -> "2 students".

    Irregular words take their plural: ``plural(3, "child", "children")``.
    """
    form = word if n == 1 else (plural_form if plural_form is not None else word + "s")
    return f"{n:,} {form}"


def bold(text: str) -> str:
    """``*text*`` for mrkdwn, never nested: inner ``*`` are removed and edges trimmed.

    Slack renders ``* text*`` and ``*text *`` literally, so surrounding blanks are moved outside
    the markers; an empty text stays empty.
    """
    inner = text.replace("*", "")
    core = inner.strip()
    if not core:
        return inner
    lead = inner[: len(inner) - len(inner.lstrip())]
    trail = inner[len(inner.rstrip()) :]
    return f"{lead}*{core}*{trail}"


def ago(late: timedelta) -> str:
    """How late, in its largest whole unit: "45 min", "22 h", "3 days" (at least "1 min")."""
    minutes = max(int(late.total_seconds() // 60), 1)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        return f"{minutes // 60} h"
    return plural(minutes // (24 * 60), "day")
