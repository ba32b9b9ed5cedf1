"""Slack edge: a proposal's life as one message in the manager's DM with the bot.

``deliver`` runs a solve (``/match``, Home's Run match, [Run it again], [Find new times]) and
posts its proposal into the DM, with the CSV in the message's thread; a solve that takes more
than ``FIRST_AFTER_S`` first shows a "Matching…" message there, updated in place every
``EVERY_S`` with how far it has got, which then becomes the proposal. ``redraw`` updates the
proposal's message after a click (Approve, Discard, stale, Run it again) from the proposal's
stored state (``bot.services.matching.message``).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from bot.deps import Deps
from bot.domain.matching.progress import Progress, ProgressFn
from bot.services import matching
from bot.services.matching import message as msg
from bot.services.ports import DeliveryFailed, RecipientUnreachable
from bot.slack_gateway import PostedMessage as PostedMessage
from handlers.common import escape, to_dicts
from handlers.match_blocks import proposal_blocks, proposal_message

log = logging.getLogger(__name__)
NOT_SENT = (DeliveryFailed, RecipientUnreachable)

FIRST_AFTER_S = 2.0  # a solve quicker than this shows no progress at all
EVERY_S = 2.5  # chat.update at most this often (Slack's rate limits, and no flicker)


def progress_text(doing: str, elapsed: float, p: Progress | None) -> str:
    """ "Matching Anchorage School District… 4 s, 255 served so far, at most 274" (``doing``:
    "Matching Anchorage School District", in mrkdwn)."""
    text = f"{doing}… {elapsed:.0f} s"
    if p is not None:
        text += f", {p.served:,} served so far"
        if p.bound is not None:
            text += f", at most {p.bound:,}"
    return text


class ProgressMessage:
    """The "Matching…" message of one solve. Call the instance as the solver's ``ProgressFn``
    (it only records the report); a thread of its own posts and updates the message, so a slow
    Slack never slows the solve, and a quick solve ends before anything is posted."""

    def __init__(
        self,
        gateway: Any,
        user: str,
        doing: str,
        *,
        message: PostedMessage | None = None,
        first_after: float | None = None,
        every: float | None = None,
    ) -> None:
        self.gateway, self.user, self.doing = gateway, user, doing
        self.message = message  # an existing message to update ("Matching…" from Home)
        self.first_after = FIRST_AFTER_S if first_after is None else first_after
        self.every = EVERY_S if every is None else every
        self._latest: Progress | None = None
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._started = time.monotonic()
        self._key = f"progress:{uuid.uuid4().hex}"  # a retried post never shows it twice
        self._thread = threading.Thread(target=self._run, name="match-progress", daemon=True)

    def __call__(self, p: Progress) -> None:
        with self._lock:
            self._latest = p

    def __enter__(self) -> ProgressMessage:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, kind: object, *rest: object) -> None:
        shown = self.stop()
        if kind is not None and shown is not None:  # the error itself is reported elsewhere
            try:
                self.gateway.update_message(shown.channel, shown.ts, f"{self.doing} didn't finish.")
            except NOT_SENT:
                log.warning("match.progress_not_replaced")

    def stop(self) -> PostedMessage | None:
        """Stop updating; the message shown, if any (the proposal replaces it)."""
        self._done.set()
        if self._thread.is_alive():
            self._thread.join()
        return self.message

    def _run(self) -> None:
        wait = self.first_after
        while not self._done.wait(wait):
            with self._lock:
                latest = self._latest
            text = progress_text(self.doing, time.monotonic() - self._started, latest)
            try:
                if self.message is None:
                    self.message = self.gateway.post_dm(self.user, text, key=self._key)
                else:
                    self.gateway.update_message(self.message.channel, self.message.ts, text)
            except NOT_SENT:
                log.warning("match.progress_not_shown")
            wait = self.every


def _show(
    deps: Deps,
    user: str,
    shown: PostedMessage | None,
    text: str,
    blocks: Any,
    key: str | None = None,
) -> Any:
    """Replace the progress message with ``blocks``, or post them (tagged with ``key``, so a
    retried post never lands twice); where they ended up."""
    if shown is not None:
        try:
            deps.gateway.update_message(shown.channel, shown.ts, text, blocks)
            return shown
        except NOT_SENT:
            log.warning("match.progress_not_replaced")
    return deps.gateway.post_dm(user, text, blocks, key=key)


def deliver(
    deps: Deps,
    user: str,
    doing: str,
    solve: Callable[[ProgressFn], matching.Proposal],
    *,
    shown: PostedMessage | None = None,
    heading: str | None = None,
    instead: Callable[[matching.Proposal], str | None] | None = None,
) -> None:
    """Solve (showing "<doing>… 4 s, …" in the DM when it takes a while), then post the
    proposal there with its CSV in the thread, and remember the message on the proposal.

    ``shown``: a DM message already saying "Matching…", to update in place. ``instead``: a text
    to post in place of a proposal that has nothing to approve (None: post the proposal).
    """
    with ProgressMessage(deps.gateway, user, doing, message=shown) as progress:
        proposal = solve(progress)
        shown = progress.stop()
    other = instead(proposal) if instead is not None else None
    if other is not None:
        _show(deps, user, shown, other, [])
        return
    text = heading or f"Proposal for {escape(proposal.district_name)}"
    blocks = to_dicts(proposal_blocks(proposal))
    if proposal.proposal_id is None:  # not stored: nothing to approve or update later
        _show(deps, user, shown, text, blocks)
        return
    fresh = msg.ProposalMessage(
        proposal.proposal_id, "", "", text, tuple(blocks), "pending", {}, (), None, None, None
    )
    key = f"proposal:{proposal.proposal_id}"
    posted = _show(deps, user, shown, text, proposal_message(fresh), key)
    msg.record_message(deps, proposal.proposal_id, posted.channel, posted.ts, text, blocks)
    attached = _attach_csv(deps, proposal, posted)
    state = msg.note_csv(deps, proposal.proposal_id, attached)
    if state is not None and not attached:
        redraw(deps, state)


def _attach_csv(deps: Deps, proposal: matching.Proposal, posted: PostedMessage) -> bool:
    try:
        deps.gateway.upload_csv(
            posted.channel,
            f"proposal-{proposal.district_id}-{proposal.week_of}.csv",
            proposal.to_csv(),
            f"Proposal for {proposal.district_name}, week of {proposal.week_of:%b %-d}",
            thread_ts=posted.ts,
        )
    except NOT_SENT:
        log.warning("match.csv_not_attached", extra={"proposal": proposal.proposal_id})
        return False
    return True


def redraw(deps: Deps, state: msg.ProposalMessage) -> bool:
    """Update the proposal's DM message to what its state says; False when Slack didn't take it
    (the caller then says it another way). The state is read again just before drawing, so of
    two clicks close together the later update shows both."""
    state = msg.message_of(deps, state.proposal_id) or state
    try:
        deps.gateway.update_message(state.channel, state.ts, state.text, proposal_message(state))
    except NOT_SENT:
        log.warning("match.message_not_updated", extra={"proposal": state.proposal_id})
        return False
    return True
