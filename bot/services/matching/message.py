"""Services: the DM message that carries a proposal, and what happened to it since.

A proposal is posted once into the manager's DM; Approve, Discard, a stale click and
[Run it again] then update that same message. The row keeps where the message is, what it
first said and what has happened since (`ProposalMessage`), so every update is drawn from the
proposal's own state rather than from whichever copy of the message a click carried: two clicks
close together end with a message that shows both.

The message content is kept as the edge laid it out (text and Block Kit dicts); this module
stores and returns it without reading it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.deps import Deps
from storage.proposals import get_proposal

MESSAGE = "message"  # the payload key that holds the message's state


@dataclass(frozen=True)
class Decision:
    """One click that changed the proposal, as the message reports it."""

    kind: str  # "approved", "discarded"
    by: str  # Slack user id
    provider_id: str | None = None  # None: the whole proposal
    created: int = 0
    notified: tuple[str, ...] = ()
    not_notified: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "by": self.by,
            "provider_id": self.provider_id,
            "created": self.created,
            "notified": list(self.notified),
            "not_notified": list(self.not_notified),
        }

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Decision:
        return cls(
            str(raw.get("kind", "")),
            str(raw.get("by", "")),
            raw.get("provider_id"),
            int(raw.get("created", 0)),
            tuple(raw.get("notified") or ()),
            tuple(raw.get("not_notified") or ()),
        )


@dataclass(frozen=True)
class ProposalMessage:
    proposal_id: str
    channel: str
    ts: str
    text: str
    blocks: tuple[dict[str, Any], ...]  # as first posted
    status: str  # the proposal's: pending, approved, discarded
    approved_providers: dict[str, str]  # provider id -> who approved that part
    decisions: tuple[Decision, ...]
    csv: str | None  # None: not tried yet; "attached"; "failed"
    stale_by: str | None  # who found it stale (an Approve that was refused)
    rerun_by: str | None  # who pressed [Run it again]


def _state(action: Any) -> ProposalMessage | None:
    raw = (action.payload or {}).get(MESSAGE) if action is not None else None
    if not raw:
        return None
    return ProposalMessage(
        proposal_id=action.id,
        channel=str(raw["channel"]),
        ts=str(raw["ts"]),
        text=str(raw.get("text", "")),
        blocks=tuple(raw.get("blocks") or ()),
        status=action.status,
        approved_providers=dict(action.payload.get("approved_providers") or {}),
        decisions=tuple(Decision.of(x) for x in raw.get("decisions") or ()),
        csv=raw.get("csv"),
        stale_by=raw.get("stale_by"),
        rerun_by=raw.get("rerun_by"),
    )


def message_of(deps: Deps, proposal_id: str) -> ProposalMessage | None:
    """The proposal's DM message and its state; None when it was never posted as one."""
    with deps.session_factory() as s:
        return _state(get_proposal(s, proposal_id))


def record_message(
    deps: Deps, proposal_id: str, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]
) -> None:
    """Remember where the proposal was posted and what it said (once: a second call for the
    same proposal keeps the first message)."""
    with deps.session_factory.begin() as s:
        action = get_proposal(s, proposal_id, lock=True)
        if action is None or (action.payload or {}).get(MESSAGE):
            return
        state = {"channel": channel, "ts": ts, "text": text, "blocks": blocks, "decisions": []}
        action.payload = {**action.payload, MESSAGE: state}


def _change(deps: Deps, proposal_id: str, **changes: Any) -> ProposalMessage | None:
    with deps.session_factory.begin() as s:
        action = get_proposal(s, proposal_id, lock=True)
        if action is None or not (action.payload or {}).get(MESSAGE):
            return None
        state = {**action.payload[MESSAGE]}
        decision = changes.pop("decision", None)
        if decision is not None:
            state["decisions"] = [*state.get("decisions", []), decision.to_json()]
        state.update(changes)
        action.payload = {**action.payload, MESSAGE: state}
        s.flush()
        return _state(action)


def note_decision(deps: Deps, proposal_id: str, decision: Decision) -> ProposalMessage | None:
    """Add a decision to the message's record; the state to draw (None: no DM message)."""
    return _change(deps, proposal_id, decision=decision)


def note_csv(deps: Deps, proposal_id: str, attached: bool) -> ProposalMessage | None:
    return _change(deps, proposal_id, csv="attached" if attached else "failed")


def note_stale(deps: Deps, proposal_id: str, by: str) -> ProposalMessage | None:
    return _change(deps, proposal_id, stale_by=by)


def claim_rerun(deps: Deps, proposal_id: str, by: str) -> bool:
    """[Run it again] once per proposal: True for the click that claims it, False for a double
    click or a retry (or a proposal with no DM message, whose re-runs are not tracked)."""
    with deps.session_factory.begin() as s:
        action = get_proposal(s, proposal_id, lock=True)
        if action is None:
            return False
        raw = (action.payload or {}).get(MESSAGE)
        if not raw:
            return True
        if raw.get("rerun_by"):
            return False
        action.payload = {**action.payload, MESSAGE: {**raw, "rerun_by": by}}
        return True


def release_rerun(deps: Deps, proposal_id: str) -> ProposalMessage | None:
    """The re-run could not start (another solve for the district is running): let the button
    be pressed again."""
    return _change(deps, proposal_id, rerun_by=None)
