"""Slack edge: /caseload [@provider] and /deadlines [district=…] [days=30], as ephemeral answers."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.domain.mrkdwn import code
from bot.services import caseload as svc
from bot.services.errors import InvalidInput
from handlers.caseload_blocks import CASELOAD_HELP, caseload_blocks, deadlines_blocks
from handlers.common import deps_of, escape, split_mention, to_dicts

HELP_WORDS = {"help", "?", "-h", "--help"}
BARE_USER = re.compile(r"^@?([UW][A-Z0-9]{2,})$")


def parse_caseload_target(text: str) -> str | None:
    """``<@U123|ann>`` or ``U123`` -> "U123"; empty -> None; anything else is a usage error."""
    target, rest = split_mention(text)
    if target is None:
        bare = BARE_USER.match(rest)
        target, rest = (bare.group(1), "") if bare else (None, rest)
    if rest:
        raise InvalidInput(f"I don't understand {code(rest)}.\n{svc.CASELOAD_USAGE}")
    return target


def handle_caseload_command(
    ack: Ack, command: dict[str, Any], respond: Respond, context: Any
) -> None:
    ack()
    text = (command.get("text") or "").strip()
    if text.lower() in HELP_WORDS:
        respond(text=CASELOAD_HELP, response_type="ephemeral")
        return
    caseload = svc.caseload_for(deps_of(context), command["user_id"], parse_caseload_target(text))
    respond(
        text=f"Caseload of {escape(caseload.provider_name)}",
        blocks=to_dicts(caseload_blocks(caseload)),
        response_type="ephemeral",
    )


def handle_deadlines_command(
    ack: Ack, command: dict[str, Any], respond: Respond, context: Any
) -> None:
    ack()
    args = svc.parse_deadline_args(command.get("text") or "")
    deadlines = svc.deadlines_for(deps_of(context), command["user_id"], args)
    respond(
        text=f"Deadlines for {escape(deadlines.scope)}",
        blocks=to_dicts(deadlines_blocks(deadlines)),
        response_type="ephemeral",
    )


def register(app: App) -> None:
    app.command("/caseload")(handle_caseload_command)
    app.command("/deadlines")(handle_deadlines_command)
