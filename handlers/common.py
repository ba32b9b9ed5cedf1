"""Slack edge: small helpers shared by listeners (deps lookup, mrkdwn escaping, mentions)."""

from __future__ import annotations

import re
from typing import Any

from bot.deps import Deps
from bot.views.blocks import escape, to_dicts

__all__ = ["deps_of", "escape", "form_input", "row_id", "split_mention", "to_dicts"]

# "<@U123|ann>" as Slack sends a mention, or a plain "@U123" typed or pasted as text.
MENTION = re.compile(r"^\s*(?:<@([UW][A-Z0-9]+)(?:\|[^>]*)?>|@([UW][A-Z0-9]{2,})(?![\w-]))\s*")


HELP_WORDS = frozenset({"help", "?", "-h", "--help"})  # what asks a command for its usage


def deps_of(context: Any) -> Deps:
    deps: Deps = context["deps"]
    return deps


def split_mention(text: str) -> tuple[str | None, str]:
    """``<@U123|ann> Tue 8-11`` or ``@U123 Tue 8-11`` -> ("U123", "Tue 8-11")."""
    match = MENTION.match(text or "")
    if match is None:
        return None, (text or "").strip()
    return match.group(1) or match.group(2), text[match.end() :].strip()


MAX_ROW_ID = 2**31 - 1


def row_id(value: Any) -> int | None:
    """A database row id carried in a button or form value, or None if it cannot be one.

    Values are forgeable: only plain digits within the id range may reach a query.
    """
    text = str(value or "")
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ROW_ID else None


def form_input(view: Any, block: str, action: str) -> dict[str, Any]:
    """One input's state in a submitted modal (``view.state.values[block][action]``), or ``{}``
    when any level is missing or is not an object: a signed submission can still be forged or
    garbled, and it must get a field error, never an exception that closes the form."""
    state = view.get("state") if isinstance(view, dict) else None
    values = state.get("values") if isinstance(state, dict) else None
    inputs = values.get(block) if isinstance(values, dict) else None
    found = inputs.get(action) if isinstance(inputs, dict) else None
    return found if isinstance(found, dict) else {}


def selected_value(view: Any, block: str, action: str) -> str | None:
    """The value of a select's chosen option, if it is a string."""
    option = form_input(view, block, action).get("selected_option")
    chosen = option.get("value") if isinstance(option, dict) else None
    return chosen if isinstance(chosen, str) else None
