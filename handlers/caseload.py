"""Slack edge: /caseload [@provider | district=…] and /deadlines [district=…] [days=30]."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.domain.mrkdwn import code
from bot.services import caseload as svc
from bot.services import deadlines as deadlines_svc
from bot.services.errors import InvalidInput
from handlers.caseload_blocks import (
    CASELOAD_HELP,
    caseload_blocks,
    deadlines_blocks,
    district_caseload_blocks,
)
from handlers.common import HELP_WORDS, deps_of, escape, split_mention, to_dicts

BARE_USER = re.compile(r"^@?([UW][A-Z0-9]{2,})$")


def parse_caseload_args(text: str) -> tuple[str | None, str | None]:
    """(provider, district): ``<@U123|ann>`` or ``U123`` names a provider, ``district=anc`` a
    district; empty -> (None, None); anything else is a usage error."""
    district: str | None = None
    words = []
    for word in text.split():
        key, sep, value = word.partition("=")
        if sep and key.lower() == "district" and value and district is None:
            district = value
        else:
            words.append(word)
    target, rest = split_mention(" ".join(words))
    if target is None:
        bare = BARE_USER.match(rest)
        target, rest = (bare.group(1), "") if bare else (None, rest)
    if rest or (target and district):
        raise InvalidInput(f"I don't understand {code(rest or text)}.\n{svc.CASELOAD_USAGE}")
    return target, district


def handle_caseload_command(
    ack: Ack, command: dict[str, Any], respond: Respond, context: Any
) -> None:
    ack()
    deps, user = deps_of(context), command["user_id"]
    text = (command.get("text") or "").strip()
    if text.lower() in HELP_WORDS:
        respond(text=CASELOAD_HELP, response_type="ephemeral")
        return
    target, district = parse_caseload_args(text)
    if district is not None or (target is None and svc.is_manager(deps, user)):
        view = svc.district_caseload(deps, user, district)
        respond(
            text=f"Caseloads in {escape(view.district or 'every district')}",
            blocks=to_dicts(district_caseload_blocks(view)),
            response_type="ephemeral",
        )
        return
    caseload = svc.caseload_for(deps, user, target)
    respond(
        text=f"Caseload of {escape(caseload.provider_name)}",
        blocks=to_dicts(caseload_blocks(caseload)),
        response_type="ephemeral",
    )


def handle_deadlines_command(
    ack: Ack, command: dict[str, Any], respond: Respond, context: Any
) -> None:
    ack()
    args = deadlines_svc.parse_deadline_args(command.get("text") or "")
    deadlines = deadlines_svc.deadlines_for(deps_of(context), command["user_id"], args)
    respond(
        text=f"Deadlines for {escape(deadlines.scope)}",
        blocks=to_dicts(deadlines_blocks(deadlines)),
        response_type="ephemeral",
    )


def register(app: App) -> None:
    app.command("/caseload")(handle_caseload_command)
    app.command("/deadlines")(handle_deadlines_command)
