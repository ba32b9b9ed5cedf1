"""Slack edge: pure Block Kit builders for caseload proposals."""

from __future__ import annotations

from enum import StrEnum

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.domain.availability_text import zone_label
from bot.services.matching import Approval, Proposal, ProviderPlan, hours, zone_abbr
from bot.services.matching.common import SERVICES
from bot.services.matching.message import Decision, ProposalMessage
from bot.services.matching.proposals import HireOut
from bot.views.format import bold, plural
from bot.views.hiring import hire_sentence
from handlers.common import escape

# A message holds at most 50 blocks: a proposal shows this many providers' sections and keeps
# room for what the DM message adds later (the CSV line, the decisions, a stale notice).
MAX_PROVIDER_SECTIONS = 37
MAX_BLOCKS = 50
MAX_SECTION_CHARS = 2900
REASON_LABEL = {
    "no_licensed_provider": "no licensed provider",
    "no_common_time": "no common time",
    "no_capacity": "no capacity",
    "other_providers": "another provider could serve",
}


def match_help() -> str:
    """What `/match help` says: the filters, and what a proposal does and shows."""
    services = ", ".join(f"`{x}`" for x in SERVICES)
    return "\n".join(
        [
            bold("/match proposes who serves whom, and when, for one district"),
            "• `/match district=anchorage`: the district's id or a word of its name "
            "(a manager sees only the districts they serve).",
            f"• add `service=slp` to match one service only ({services}).",
            "• add `provider=@someone` to propose new sessions for that provider only.",
            "A proposal keeps every approved assignment, and each session fits the school's "
            "hours, the provider's availability (across time zones), a live licence in the "
            "student's state and the provider's own, and their weekly hours. It says how many "
            "of the district's student services can be served at most, and whom to hire for "
            "the rest.",
            f"Approve one provider's part or {bold('Approve all')} to create the weekly "
            f"sessions; {bold('Discard')} drops it; {bold('Run it again')} after something "
            "changed. One match per "
            "district runs at a time; a second one waits its turn.",
        ]
    )


class MatchIds(StrEnum):
    APPROVE_ALL = "match_approve_all"
    APPROVE_PROVIDER = "match_approve_provider"
    DISCARD = "match_discard"
    RERUN = "match_rerun"
    BLOCK_ACTIONS = "match_actions"


def _md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text)


def _clip(text: str, limit: int = MAX_SECTION_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 40].rsplit("\n", 1)[0]
    return cut + f"\n… {plural(text[len(cut) :].count(chr(10)), 'more line')} in the CSV"


def _plan_text(plan: ProviderPlan) -> str:
    head = (
        f"{bold(escape(plan.name))} — {hours(plan.committed_minutes + plan.new_minutes)} of "
        f"{hours(plan.capacity_minutes)} h/week (+{hours(plan.new_minutes)} h new)"
    )
    if plan.time_off:
        head += f"\n_{plan.time_off}_"
    if plan.licence:
        head += f"\n_{plan.licence}_"
    lines = []
    for x in plan.sessions:
        provider_side = ""
        if x.timezone != plan.timezone:
            provider_side = (
                f" ({x.provider_day.title()} {x.provider_start} {zone_label(plan.timezone)})"
            )
        lines.append(
            f"• {x.day.title()} {x.start}–{x.end} {zone_abbr(x.timezone)}{provider_side} — "
            f"{escape(', '.join(x.student_labels))} · {x.service.upper()} · {escape(x.school_name)}"
        )
    return _clip(head + "\n" + "\n".join(lines))


def hire_text(h: HireOut) -> str:
    """ "1 OT licensed in AK, about 3 h a week, Mon 08:00–11:00, Wed 08:00–10:00 AKT, would serve
    3 students"."""
    return hire_sentence(
        h.service, h.state, h.weekly_hours, h.windows, h.timezone, len(h.would_serve)
    )


def bound_line(p: Proposal) -> str:
    """How near the proposal is to the best possible, from the relaxation's bound."""
    total = p.students_total
    best = total if p.bound is None else min(p.bound, total)
    line = (
        f"Served {bold(f'{p.students_served:,}')} of {plural(total, 'student service')}; "
        f"at most {bold(f'{best:,}')} can be served"
    )
    rest = total - best
    if p.focus:  # provider=: the bound is theirs; the unserved list says why not the rest
        return (
            line
            + f" by {escape(p.focus)}"
            + (f" (why not the other {rest:,}: below)" if rest else "")
        )
    if rest:
        verb = "has" if rest == 1 else "have"
        line += f" (the other {rest:,} {verb} no licensed provider or no common time)"
    return line


def proposal_blocks(p: Proposal) -> list[Block]:
    pct = f" ({100 * p.students_served / p.students_total:.0f}%)" if p.students_total else ""
    served = bold(f"{p.students_served} of {plural(p.students_total, 'student service')}")
    providers = bold(plural(len(p.plans), "provider"))
    blocks: list[Block] = [
        HeaderBlock(text=f"Proposal: {p.district_name}"[:150]),
        SectionBlock(
            text=_md(
                f"Week of {p.week_of:%b %-d}: {served} served{pct} · {providers} · "
                f"{bold(f'{p.hours_booked:g} h')} booked"
            )
        ),
    ]
    if not p.students_total:
        blocks.append(
            SectionBlock(text=_md("Every student service in this district already has a provider."))
        )
    else:
        blocks.append(ContextBlock(elements=[_md(bound_line(p))]))
    shown = p.plans[:MAX_PROVIDER_SECTIONS]
    if shown:
        blocks.append(DividerBlock())
    for plan in shown:
        blocks.append(
            SectionBlock(
                text=_md(_plan_text(plan)),
                accessory=ButtonElement(
                    text="Approve",
                    action_id=MatchIds.APPROVE_PROVIDER,
                    value=f"{p.proposal_id}:{plan.provider_id}",
                )
                if p.proposal_id
                else None,
            )
        )
    if len(p.plans) > len(shown):
        blocks.append(
            ContextBlock(
                elements=[
                    _md(
                        f"…and {plural(len(p.plans) - len(shown), 'more provider')}"
                        " — the full proposal is in the CSV."
                    )
                ]
            )
        )
    if p.unmatched:
        lines = [
            f"• {escape(p.unmatched_labels.get(u.student_id, u.student_id))} {u.service.upper()} — "
            f"_{REASON_LABEL.get(u.reason, u.reason)}_: {escape(u.detail)}"
            for u in p.unmatched
        ]
        blocks.append(DividerBlock())
        blocks.append(
            SectionBlock(
                text=_md(_clip(bold(f"Not served ({len(p.unmatched)})") + "\n" + "\n".join(lines)))
            )
        )
    if p.hires:
        blocks.append(
            SectionBlock(
                text=_md(
                    _clip(
                        bold("To serve the rest, hire")
                        + "\n"
                        + "\n".join(f"• {hire_text(h)}" for h in p.hires)
                    )
                )
            )
        )
    if p.proposal_id and p.plans:
        sessions = sum(len(x.sessions) for x in p.plans)
        blocks.append(
            ActionsBlock(
                block_id=MatchIds.BLOCK_ACTIONS,
                elements=[
                    ButtonElement(
                        text="Approve all",
                        action_id=MatchIds.APPROVE_ALL,
                        value=p.proposal_id,
                        style="primary",
                        confirm=ConfirmObject(
                            title="Approve all?",
                            text=f"Create {plural(sessions, 'weekly session')} for "
                            f"{plural(len(p.plans), 'provider')} and DM each of them.",
                            confirm="Approve",
                            deny="Not yet",
                        ),
                    ),
                    ButtonElement(text="Discard", action_id=MatchIds.DISCARD, value=p.proposal_id),
                ],
            )
        )
    # The method stays in `match --json` and the logs: a manager wants the time, not the solver.
    blocks.append(ContextBlock(elements=[_md(f"Worked out in {p.solve_seconds:.1f} s.")]))
    return blocks


def approved_by_text(approved_by: str | None, viewer: str) -> str:
    """ "Already approved by you." to the manager who did it, "by <@U…>" to anyone else."""
    if approved_by and approved_by == viewer:
        return "Already approved by you."
    if approved_by and approved_by[:1] in "UW" and approved_by.isalnum():
        return f"Already approved by <@{approved_by}>."
    return "Already approved."


def approval_blocks(a: Approval, viewer: str) -> list[Block]:
    if a.already:
        return [
            SectionBlock(text=_md(f"{approved_by_text(a.approved_by, viewer)} Nothing changed."))
        ]
    lines = [f"✅ Approved: {bold(plural(a.created, 'assignment'))} created."]
    if a.notified:
        lines.append("Notified: " + ", ".join(escape(n) for n in a.notified) + ".")
    if a.not_notified:
        lines.append(
            "Not notified yet (I'll retry): " + ", ".join(escape(n) for n in a.not_notified) + "."
        )
    return [SectionBlock(text=_md("\n".join(lines)))]


def rerun_actions(proposal_id: str) -> ActionsBlock:
    """[Run it again] for a proposal that can no longer be approved as it stands."""
    return ActionsBlock(
        block_id=MatchIds.BLOCK_ACTIONS,
        elements=[
            ButtonElement(
                text="Run it again",
                action_id=MatchIds.RERUN,
                value=proposal_id,
                style="primary",
            ),
        ],
    )


def stale_blocks(message: str, proposal_id: str) -> list[Block]:
    return [SectionBlock(text=_md(escape(message))), rerun_actions(proposal_id)]


# --- the proposal's DM message, drawn from its state --------------------------------------------

# Said from the start (the upload follows the post at once); replaced only if it fails.
CSV_ATTACHED = "📎 The whole proposal is in the CSV in this message's thread."
CSV_FAILED = (
    "⚠️ I couldn't attach the CSV (Slack didn't take the upload). Run `/match` again for a "
    "proposal with its CSV."
)


def _mention(user: str) -> str:
    return f"<@{user}>" if user[:1] in "UW" and user.isalnum() else "someone"


def decision_text(d: Decision) -> str:
    """ "✅ Approved by <@U…>: 3 assignments created. Notified: Dana Reyes." """
    if d.kind == "discarded":
        return f"🗑 Discarded by {_mention(d.by)}."
    lines = [f"✅ Approved by {_mention(d.by)}: {plural(d.created, 'assignment')} created."]
    if d.notified:
        lines.append("Notified: " + ", ".join(escape(n) for n in d.notified) + ".")
    if d.not_notified:
        lines.append(
            "Not notified yet (I'll retry): " + ", ".join(escape(n) for n in d.not_notified) + "."
        )
    return "\n".join(lines)


def _section(text: str) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, 3000)}}


def _context(text: str) -> dict[str, object]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def proposal_message(m: ProposalMessage) -> list[dict[str, object]]:
    """The proposal's DM message as its state says: the blocks first posted, with each decision
    shown where it belongs and the buttons that still make sense (none once it is decided,
    stale or run again)."""
    if m.status == "discarded":  # its title and one-line summary, and who discarded it
        head = [b for b in m.blocks if b.get("type") == "header"][:1]
        head += [b for b in m.blocks if b.get("type") == "section" and not b.get("accessory")][:1]
        said = [d for d in m.decisions if d.kind == "discarded"][-1:] or [Decision("discarded", "")]
        return [*head, _context(decision_text(said[0]))]
    by_provider = {d.provider_id: d for d in m.decisions if d.provider_id and d.kind == "approved"}
    whole = [d for d in m.decisions if d.provider_id is None and d.kind == "approved"]
    open_ = m.status == "pending" and not m.stale_by and not m.rerun_by
    out: list[dict[str, object]] = []
    for block in m.blocks:
        accessory = block.get("accessory") or {}
        if accessory.get("action_id") == MatchIds.APPROVE_PROVIDER:
            provider_id = str(accessory.get("value", "")).partition(":")[2]
            done = by_provider.get(provider_id)
            if done is None and provider_id in m.approved_providers:
                done = Decision("approved", m.approved_providers[provider_id], provider_id)
            if done is not None or not open_:
                block = {k: v for k, v in block.items() if k != "accessory"}
            if done is not None:
                text = str(block["text"]["text"]) + "\n" + decision_text(done)
                block = {**block, "text": {"type": "mrkdwn", "text": _clip(text, 3000)}}
        elif block.get("block_id") == MatchIds.BLOCK_ACTIONS and not open_:
            continue
        out.append(block)
    # What happened since goes above the closing "Worked out in …" line.
    tail = [out.pop()] if out and out[-1].get("type") == "context" else []
    if whole:
        out.append(_section("\n".join(decision_text(d) for d in whole)))
    if m.rerun_by:
        out.append(_context(f"🔁 {_mention(m.rerun_by)} ran it again: the fresh proposal follows."))
    elif m.stale_by and m.status == "pending":
        out.append(
            _section(
                "⚠️ The roster, an availability or an assignment changed since this proposal "
                "was computed, so it can't be approved as it stands."
            )
        )
        out.append(rerun_actions(m.proposal_id).to_dict())
    out += tail
    csv = {None: CSV_ATTACHED, "attached": CSV_ATTACHED, "failed": CSV_FAILED}.get(m.csv)
    if csv:
        out.append(_context(csv))
    return out[:MAX_BLOCKS]
