"""Slack edge: /match and the Approve / Discard / Run again buttons.

The command is acknowledged at once ("Matching Anchorage… I'll post the proposal in our DM", or
"Queued behind 1 other match"); the solver can take seconds, so the proposal follows as a
message in the manager's DM with the bot, its CSV in the thread (``handlers.proposal_dm``).
The buttons update that message in place. One solve per district runs at a time
(``handlers.solving``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.domain.mrkdwn import escape
from bot.services import matching as svc
from bot.services import scope  # districts a manager serves (issue 10 §5)
from bot.services.errors import UserFacingError
from bot.services.matching import message as msg
from handlers.common import deps_of, to_dicts
from handlers.match_blocks import (
    MatchIds,
    approval_blocks,
    match_help,
    stale_blocks,
)
from handlers.proposal_dm import deliver, redraw
from handlers.solving import IN_DM, district_subject, submit

log = logging.getLogger(__name__)


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
        started=f"Matching {escape(district.name)}… {IN_DM}",
        tell=lambda text: ack(response_type="ephemeral", text=text),
        work=lambda: deliver(
            deps,
            user,
            f"Matching {escape(district.name)}",
            lambda progress: svc.propose(deps, user, chosen, progress),
        ),
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
    user = body["user"]["id"]
    scope.require_proposal(deps, user, proposal_id, "match.approve")
    try:
        approval = svc.approve(deps, user, proposal_id, provider_id)
    except svc.Stale as exc:
        state = msg.note_stale(deps, proposal_id, user)
        if state is None or not redraw(deps, state):  # no DM message to show it on
            respond(
                text=exc.message,
                blocks=to_dicts(stale_blocks(exc.message, proposal_id)),
                replace_original=False,
                response_type="ephemeral",
            )
        return
    state = None
    if not approval.already:
        decision = msg.Decision(
            "approved",
            user,
            provider_id,
            approval.created,
            approval.notified,
            approval.not_notified,
        )
        state = msg.note_decision(deps, proposal_id, decision)
        if state is not None and redraw(deps, state):
            return
    # Nothing changed (said only to the one who clicked), or no DM message to update.
    respond(
        text="Approved",
        blocks=to_dicts(approval_blocks(approval, user)),
        replace_original=state is None and provider_id is None and not approval.already,
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
    deps, user, proposal_id = deps_of(context), body["user"]["id"], action["value"]
    scope.require_proposal(deps, user, proposal_id, "match.discard")
    if not svc.discard(deps, user, proposal_id):
        respond(
            text="That proposal was already decided.",
            replace_original=False,
            response_type="ephemeral",
        )
        return
    state = msg.note_decision(deps, proposal_id, msg.Decision("discarded", user))
    if state is None or not redraw(deps, state):
        respond(text="Proposal discarded.", replace_original=state is None)


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
    user, proposal_id = body["user"]["id"], action["value"]
    svc.check_manager(deps, user)
    scope.require_proposal(deps, user, proposal_id, "match.rerun")
    rematch = svc.rematch_of(deps, proposal_id)
    filters = None if rematch is not None else svc.proposal_filters(deps, proposal_id)
    if rematch is None and filters is None:
        respond(text="That proposal no longer exists. Run `/match` again.")
        return
    if not msg.claim_rerun(deps, proposal_id, user):  # a double click, or a retry
        respond(
            text="You already ran this proposal again: the fresh one comes in our DM.",
            replace_original=False,
            response_type="ephemeral",
        )
        return
    state = msg.message_of(deps, proposal_id)
    if state is not None:
        redraw(deps, state)  # "ran it again: the fresh proposal follows"
    if rematch is not None:
        district_id, pairs, change_id = rematch
        name = svc.district_name_for(deps, district_id) or district_id
        subject = f"rematch:{change_id or proposal_id}:{district_id}"
        what, started = "search for new times for these students", "Finding new times again…"

        def solve(progress: Any) -> svc.Proposal:
            return svc.propose_rematch(deps, user, district_id, pairs, change_id, progress)

        heading = f"New times in {escape(name)}"
        doing = f"Finding new times in {escape(name)}"
    else:
        assert filters is not None
        name = svc.district_name_for(deps, filters.district) or filters.district
        subject, what = district_subject(filters.district), f"match for {escape(name)}"
        started, heading = f"Matching {escape(name)} again… {IN_DM}", None
        doing = f"Matching {escape(name)}"
        chosen = filters

        def solve(progress: Any) -> svc.Proposal:
            return svc.propose(deps, user, chosen, progress)

    ran = submit(
        context,
        (body, context, respond, client),
        subject=subject,
        user=user,
        what=what,
        started=started,
        tell=_teller(respond, quiet=started if state is not None else None),
        work=lambda: deliver(deps, user, doing, solve, heading=heading),
    )
    if not ran:  # another solve for the district is under way: the button stays
        back = msg.release_rerun(deps, proposal_id)
        if back is not None:
            redraw(deps, back)


def _teller(respond: Respond, quiet: str | None) -> Callable[[str], None]:
    """Say where a re-run stands, only to the person who clicked; ``quiet`` (the "started"
    text) is left unsaid when the proposal's own message already says it."""

    def tell(text: str) -> None:
        if text != quiet:
            respond(text=text, replace_original=False, response_type="ephemeral")

    return tell


def register(app: App) -> None:
    # /match answers in its acknowledgement ("Matching …", or why not), so it validates first.
    app.command("/match", answer_in_ack=True)(handle_match_command)
    app.action(MatchIds.APPROVE_ALL.value)(handle_match_approve_all_action)
    app.action(MatchIds.APPROVE_PROVIDER.value)(handle_match_approve_provider_action)
    app.action(MatchIds.DISCARD.value)(handle_match_discard_action)
    app.action(MatchIds.RERUN.value)(handle_match_rerun_action)
