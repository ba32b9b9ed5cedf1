"""Slack edge: /match and the Approve / Discard / Run again buttons.

The command is acknowledged at once ("Matching Anchorage…", or "Queued behind 1 other match"
when the solve pool is full); the solver can take seconds, so the proposal follows through
``response_url``. One solve per district runs at a time (``handlers.solving``).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.domain.mrkdwn import escape
from bot.services import matching as svc
from bot.services import scope  # districts a manager serves (issue 10 §5)
from bot.services.errors import UserFacingError
from bot.slack_gateway import SlackUnavailable
from handlers.common import deps_of, to_dicts
from handlers.match_blocks import (
    MAX_PROVIDER_SECTIONS,
    MatchIds,
    approval_blocks,
    match_help,
    proposal_blocks,
    stale_blocks,
)
from handlers.solving import district_subject, submit

log = logging.getLogger(__name__)


def _send_proposal(deps: Any, user: str, filters: svc.Filters, respond: Respond) -> None:
    proposal = svc.propose(deps, user, filters)
    attached = False
    if len(proposal.plans) > MAX_PROVIDER_SECTIONS:
        try:
            channel = deps.gateway.open_dm(user)
            deps.gateway.upload_csv(
                channel,
                f"proposal-{proposal.district_id}-{proposal.week_of}.csv",
                proposal.to_csv(),
                f"Proposal for {proposal.district_name}",
            )
            attached = True
        except SlackUnavailable:
            log.warning("match.csv_not_attached", extra={"proposal": proposal.proposal_id})
    respond(
        text=f"Proposal for {escape(proposal.district_name)}",
        response_type="ephemeral",
        blocks=to_dicts(proposal_blocks(proposal, attached_csv=attached)),
    )


HELP_WORDS = frozenset({"help", "?", "-h", "--help"})


def handle_match_command(
    ack: Ack,
    body: dict[str, Any],
    command: dict[str, Any],
    respond: Respond,
    context: Any,
    client: Any,
) -> None:
    deps = deps_of(context)
    user = command["user_id"]
    if (command.get("text") or "").strip().lower() in HELP_WORDS:
        ack(response_type="ephemeral", text=match_help())
        return
    try:  # cheap checks first, so the acknowledgement itself can say what is wrong
        filters = svc.parse_filters(command.get("text", ""))
        svc.check_manager(deps, user)
        district = svc.resolve_district(deps, filters.district, user)
        scope.require_district(deps, user, district.id, "match.run")
    except UserFacingError as exc:
        ack(response_type="ephemeral", text=exc.message)
        return
    chosen = svc.Filters(district.id, filters.service, filters.provider_slack_id)
    submit(
        context,
        (body, context, respond, client),
        subject=district_subject(district.id),
        user=user,
        what=f"match for {escape(district.name)}",
        started=f"Matching {escape(district.name)}…",
        tell=lambda text: ack(response_type="ephemeral", text=text),
        work=lambda: _send_proposal(deps, user, chosen, respond),
    )


def _approve(
    ack: Ack,
    body: dict[str, Any],
    respond: Respond,
    context: Any,
    proposal_id: str,
    provider_id: str | None,
) -> None:
    ack()
    deps = deps_of(context)
    scope.require_proposal(deps, body["user"]["id"], proposal_id, "match.approve")
    try:
        approval = svc.approve(deps, body["user"]["id"], proposal_id, provider_id)
    except svc.Stale as exc:
        respond(
            text=exc.message,
            blocks=to_dicts(stale_blocks(exc.message, proposal_id)),
            replace_original=False,
            response_type="ephemeral",
        )
        return
    respond(
        text="Approved",
        blocks=to_dicts(approval_blocks(approval, body["user"]["id"])),
        replace_original=provider_id is None and not approval.already,
        response_type="ephemeral",
    )


def handle_match_approve_all_action(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: Any
) -> None:
    _approve(ack, body, respond, context, action["value"], None)


def handle_match_approve_provider_action(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: Any
) -> None:
    proposal_id, _, provider_id = action["value"].partition(":")
    _approve(ack, body, respond, context, proposal_id, provider_id)


def handle_match_discard_action(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: Any
) -> None:
    ack()
    scope.require_proposal(deps_of(context), body["user"]["id"], action["value"], "match.discard")
    done = svc.discard(deps_of(context), body["user"]["id"], action["value"])
    respond(
        text="Proposal discarded." if done else "That proposal was already decided.",
        replace_original=done,
    )


def handle_match_rerun_action(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Respond,
    context: Any,
    client: Any,
) -> None:
    ack()
    deps = deps_of(context)
    user = body["user"]["id"]
    svc.check_manager(deps, user)
    scope.require_proposal(deps, user, action["value"], "match.rerun")
    rematch = svc.rematch_of(deps, action["value"])
    if rematch is not None:
        _rerun_rematch(context, (body, context, respond, client), user, rematch, action["value"])
        return
    filters = svc.proposal_filters(deps, action["value"])
    if filters is None:
        respond(text="That proposal no longer exists. Run `/match` again.")
        return
    name = svc.district_name_for(deps, filters.district) or filters.district
    first = [True]

    def tell(text: str) -> None:  # the first word replaces the stale notice; the rest add
        respond(text=text, replace_original=first[0])
        first[0] = False

    submit(
        context,
        (body, context, respond, client),
        subject=district_subject(filters.district),
        user=user,
        what=f"match for {escape(name)}",
        started="Matching again…",
        tell=tell,
        work=lambda: _send_proposal(deps, user, filters, respond),
    )


def _rerun_rematch(
    context: Any,
    request: tuple[dict[str, Any], Any, Any, Any],
    user: str,
    rematch: tuple[str, list[tuple[str, str]], str | None],
    proposal_id: str,
) -> None:
    """[Run it again] on a stale re-match: the same students, re-matched as things are now."""
    deps, respond = deps_of(context), request[2]
    district_id, pairs, change_id = rematch

    def work() -> None:
        proposal = svc.propose_rematch(deps, user, district_id, pairs, change_id)
        respond(
            text=f"New times in {escape(proposal.district_name)}",
            response_type="ephemeral",
            blocks=to_dicts(proposal_blocks(proposal)),
        )

    submit(
        context,
        request,
        subject=f"rematch:{change_id or proposal_id}:{district_id}",
        user=user,
        what="search for new times for these students",
        started="Finding new times again…",
        tell=lambda text: respond(text=text, replace_original=False),
        work=work,
    )


def register(app: App) -> None:
    # /match answers in its acknowledgement ("Matching …", or why not), so it validates first.
    app.command("/match", answer_in_ack=True)(handle_match_command)
    app.action(MatchIds.APPROVE_ALL.value)(handle_match_approve_all_action)
    app.action(MatchIds.APPROVE_PROVIDER.value)(handle_match_approve_provider_action)
    app.action(MatchIds.DISCARD.value)(handle_match_discard_action)
    app.action(MatchIds.RERUN.value)(handle_match_rerun_action)
