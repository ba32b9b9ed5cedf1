"""Slack edge: the managers' [Find new times] and [Keep for now] on the DM that says a
provider's new hours left weekly sessions outside them.

[Find new times] re-matches the students still outside the hours, in the bounded solve pool,
and posts the proposal (with the usual Approve buttons) to the manager's DM; [Keep for now]
records the decision and replaces the message.
"""

from __future__ import annotations

import functools
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.services import matching
from bot.services import schedule_decisions as svc
from bot.views.schedule_change import (
    ChangeIds,
    finding_text,
    kept_text,
    nothing_fits_text,
    rematch_what,
)
from handlers.common import deps_of, escape
from handlers.proposal_dm import deliver
from handlers.solving import submit


def handle_change_find_new_times_action(
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
    for target in svc.rematch_targets(deps, user, str(action.get("value") or "")):
        submit(
            context,
            (body, context, respond, client),
            subject=f"rematch:{target.change_id}:{target.district_id}",
            user=user,
            what=rematch_what(target),
            started=finding_text(target),
            tell=lambda text: respond(text=text, replace_original=False),
            work=functools.partial(_post_rematch, deps, user, target),
        )


def _post_rematch(deps: Any, user: str, target: svc.RematchTarget) -> None:
    deliver(
        deps,
        user,
        f"Finding new times for {escape(target.provider_name)}'s students",
        lambda progress: matching.propose_rematch(
            deps, user, target.district_id, target.services, target.change_id, progress
        ),
        heading=f"New times for {escape(target.provider_name)}'s students",
        instead=lambda proposal: None if proposal.plans else nothing_fits_text(target, proposal),
    )


def handle_change_keep_for_now_action(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: Any
) -> None:
    ack()
    kept = svc.keep_for_now(deps_of(context), body["user"]["id"], str(action.get("value") or ""))
    respond(text=kept_text(kept), replace_original=not kept.already)


def register(app: App) -> None:
    app.action(ChangeIds.FIND_NEW_TIMES.value)(handle_change_find_new_times_action)
    app.action(ChangeIds.KEEP_FOR_NOW.value)(handle_change_keep_for_now_action)
