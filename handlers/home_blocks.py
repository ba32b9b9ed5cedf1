"""Slack edge: pure Block Kit builders for the App Home tab.

A Home view holds at most 100 blocks, so each list shows its top few and counts the rest
("…and 12 more"); ``home_view`` enforces the limit whatever the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    Option,
    SectionBlock,
    StaticSelectElement,
)

from bot.domain.labels import CANCEL_CHOICES, service_label, status_label, zone_abbr
from bot.domain.vocabulary import SessionStatus
from bot.services import home as svc
from bot.services.conflicts import DistrictConflicts
from bot.services.deadlines import OverdueNote
from bot.views.conflicts import district_lines
from bot.views.format import ago, bold, plural
from bot.views.hiring import hire_sentence
from handlers.availability_blocks import schedule_blocks
from handlers.caseload_blocks import (
    caseload_blocks,
    clip,
    deadline_text,
    md,
    more_line,
    notes_text,
)
from handlers.common import escape
from handlers.minutes_blocks import HOME_ROWS, district_line_text, provider_minutes_blocks
from handlers.soap_blocks import SoapIds

VIEW_LIMIT = 100
HOME_SCHOOLS = 6
HOME_NOTES = 8
HOME_RECENT = 5
HOME_DISTRICTS = 12
HOME_LINES = 12


class HomeIds(StrEnum):
    MARK_HELD = "home_mark_held"
    MARK_CANCELLED = "home_mark_cancelled"
    MARK_NO_SHOW = "home_mark_no_show"
    RUN_MATCH = "home_run_match"  # a button whose value is a district id
    MINUTES_CSV = "home_minutes_csv"  # a button whose value is a district id


MARK_STATUS = {
    HomeIds.MARK_HELD: SessionStatus.HELD,
    HomeIds.MARK_CANCELLED: SessionStatus.CANCELLED,
    HomeIds.MARK_NO_SHOW: SessionStatus.NO_SHOW,
}
# The "Cancelled…" menu asks who cancelled; each option's value is ``<reason>:<session id>``.
CANCEL_OPTIONS = tuple((code, label) for code, (label, _) in CANCEL_CHOICES.items())


def cancel_menu(session_id: int, status: str, reason: str | None) -> StaticSelectElement:
    options = [Option(text=label, value=f"{code}:{session_id}") for code, label in CANCEL_OPTIONS]
    current = next(
        (o for o, (code, _) in zip(options, CANCEL_OPTIONS, strict=True) if code == reason),
        None,
    )
    return StaticSelectElement(
        placeholder="Cancelled…",
        action_id=HomeIds.MARK_CANCELLED,
        options=options,
        initial_option=current if status == SessionStatus.CANCELLED else None,
    )


def _when(r: svc.RecentSession) -> str:
    return f"{r.when:%a %b %-d %H:%M} {zone_abbr(r.tz)}"


def _status(r: svc.RecentSession) -> str:
    if r.status == SessionStatus.CANCELLED and r.cancel_reason:
        return dict(CANCEL_OPTIONS).get(r.cancel_reason, "cancelled").lower()
    return status_label(r.status)


def _late(n: OverdueNote) -> str:
    return f"due {ago(n.overdue_for)} ago"


def _overdue_blocks(p: svc.ProviderHome) -> list[Block]:
    blocks: list[Block] = [
        SectionBlock(
            text=md(
                f"{bold('Overdue SOAP notes')} ({len(p.overdue)}) — due "
                f"{plural(p.due_hours, 'hour')} after the session"
            )
        )
    ]
    if not p.overdue:
        blocks.append(ContextBlock(elements=[md("None overdue. Nice work.")]))
        return blocks
    newest_first = sorted(p.overdue, key=lambda n: n.when, reverse=True)
    for n in newest_first[:HOME_NOTES]:
        blocks.append(
            SectionBlock(
                text=md(
                    f"{n.when:%a %b %-d %H:%M} {zone_abbr(n.tz)} · {escape(n.student)} · "
                    f"{service_label(n.service)} · {_late(n)}"
                ),
                accessory=ButtonElement(
                    text="Write note", action_id=SoapIds.WRITE_NOTE, value=str(n.session_id)
                ),
            )
        )
    extra = more_line(len(p.overdue), HOME_NOTES, "— or use `/soap` to pick any session")
    if extra:
        blocks.append(ContextBlock(elements=[md(extra[0])]))
    return blocks


def _recent_blocks(p: svc.ProviderHome) -> list[Block]:
    blocks: list[Block] = [SectionBlock(text=md(bold("Recent sessions") + " (last 7 days)"))]
    if not p.recent:
        blocks.append(ContextBlock(elements=[md("No sessions in the last 7 days.")]))
        return blocks
    for r in p.recent[:HOME_RECENT]:
        note = " · note written" if r.note_done else ""
        blocks.append(
            SectionBlock(
                text=md(
                    f"{_when(r)} · {escape(r.student)} · {service_label(r.service)} — "
                    f"_{_status(r)}_{note}"
                )
            )
        )
        if r.note_done:
            continue  # a documented session stays held
        blocks.append(
            ActionsBlock(
                elements=[
                    *(
                        ButtonElement(
                            text=label,
                            action_id=action,
                            value=str(r.session_id),
                            style="primary" if MARK_STATUS[action] == r.status else None,
                        )
                        for label, action in (
                            ("Held", HomeIds.MARK_HELD),
                            ("No-show", HomeIds.MARK_NO_SHOW),
                        )
                    ),
                    cancel_menu(r.session_id, r.status, r.cancel_reason),
                ]
            )
        )
    extra = more_line(len(p.recent), HOME_RECENT, "sessions this week")
    if extra:
        blocks.append(ContextBlock(elements=[md(extra[0])]))
    return blocks


def provider_blocks(p: svc.ProviderHome) -> list[Block]:
    blocks: list[Block] = [DividerBlock()]
    blocks += caseload_blocks(p.caseload, max_schools=HOME_SCHOOLS)
    blocks.append(DividerBlock())
    blocks.append(
        SectionBlock(
            text=md(
                deadline_text(
                    "Deadlines in the next 30 days",
                    p.deadlines,
                    with_provider=False,
                    limit=HOME_LINES,
                )
            )
        )
    )
    if p.minutes is not None:
        blocks.append(DividerBlock())
        blocks += provider_minutes_blocks(p.minutes, limit=HOME_ROWS)
    blocks.append(DividerBlock())
    blocks += _overdue_blocks(p)
    blocks.append(DividerBlock())
    blocks += _recent_blocks(p)
    return blocks


def _minutes_blocks(mh: svc.ManagerHome) -> list[Block]:
    if not mh.minutes:
        return []
    blocks: list[Block] = [HeaderBlock(text="Minutes this month")]
    for line in mh.minutes[:HOME_DISTRICTS]:
        blocks.append(
            SectionBlock(
                text=md(district_line_text(line)),
                accessory=ButtonElement(
                    text="Service log CSV",
                    action_id=HomeIds.MINUTES_CSV,
                    value=line.district_id,
                ),
            )
        )
    extra = more_line(len(mh.minutes), HOME_DISTRICTS, "districts — use `/minutes district=…`")
    if extra:
        blocks.append(ContextBlock(elements=[md(extra[0])]))
    return blocks


def conflict_blocks(conflicts: Sequence[DistrictConflicts]) -> list[Block]:
    """What can't happen as planned, per district (counts, licence gaps, soonest, closures)."""
    if not conflicts:
        return [ContextBlock(elements=[md("No conflicts in the next 60 days.")])]
    blocks: list[Block] = [HeaderBlock(text="Conflicts")]
    for d in conflicts[:HOME_DISTRICTS]:
        text = "\n".join([bold(escape(d.district)), *district_lines(d)])
        blocks.append(SectionBlock(text=md(clip(text))))
    extra = more_line(len(conflicts), HOME_DISTRICTS, "districts — use `/caseload district=…`")
    if extra:
        blocks.append(ContextBlock(elements=[md(extra[0])]))
    return blocks


def hiring_blocks(needs: Sequence[svc.HiringNeed]) -> list[Block]:
    """ "Hiring needs": each district's hire profiles from its latest proposal, in one block;
    nothing at all when no proposal asks for a hire."""
    if not needs:
        return []
    lines = [bold("Hiring needs") + " (from each district's latest /match)"]
    lines += [
        f"• {bold(escape(n.district))}, {n.proposed_on:%b %-d}: "
        + hire_sentence(n.service, n.state, n.weekly_hours, n.windows, n.timezone, n.would_serve)
        for n in needs[:HOME_LINES]
    ]
    lines += more_line(len(needs), HOME_LINES, "hire profiles")
    return [SectionBlock(text=md(clip("\n".join(lines))))]


def manager_blocks(mh: svc.ManagerHome) -> list[Block]:
    blocks: list[Block] = [DividerBlock(), HeaderBlock(text="Coverage")]
    for c in mh.coverage[:HOME_DISTRICTS]:
        pct = f" ({100 * c.served / c.total:.0f}%)" if c.total else ""
        blocks.append(
            SectionBlock(
                text=md(
                    f"{bold(escape(c.name))}: {c.served} of "
                    f"{plural(c.total, 'student service')} served{pct}"
                    + (f" · {c.unserved} unserved" if c.unserved else "")
                ),
                accessory=ButtonElement(
                    text="Run match", action_id=HomeIds.RUN_MATCH, value=c.district_id
                ),
            )
        )
    extra = more_line(len(mh.coverage), HOME_DISTRICTS, "districts — use `/match district=…`")
    if not mh.coverage:
        extra = ["No districts in the roster yet."]
    if extra:
        blocks.append(ContextBlock(elements=[md(extra[0])]))
    blocks += conflict_blocks(mh.conflicts)
    lines = [bold("Unserved student services") + f" ({len(mh.unserved)})"]
    lines += [
        f"• {escape(u.student)} · {service_label(u.service)} · {escape(u.district)} — "
        f"_{escape(u.reason)}_"
        for u in mh.unserved[:HOME_LINES]
    ]
    lines += more_line(len(mh.unserved), HOME_LINES, "")
    if not mh.unserved:
        lines.append("Every student service has a provider. 🎉")
    blocks.append(SectionBlock(text=md(clip("\n".join(lines)))))
    blocks += hiring_blocks(mh.hiring)
    blocks.append(SectionBlock(text=md(notes_text(mh.notes, limit=HOME_LINES))))
    blocks.append(
        SectionBlock(
            text=md(
                deadline_text(
                    "Licences ending in the next 60 days",
                    mh.licences,
                    with_provider=True,
                    limit=HOME_LINES,
                )
            )
        )
    )
    blocks += _minutes_blocks(mh)
    return blocks


def home_blocks(home: svc.Home) -> list[Block]:
    blocks: list[Block] = [
        HeaderBlock(text=f"Hi {home.name.split()[0]}" if home.known else "Welcome")
    ]
    if not home.known:
        blocks.append(SectionBlock(text=md(svc.NOT_IN_ROSTER)))
        return blocks
    if home.schedule is not None:
        blocks.extend(schedule_blocks(home.schedule))
        blocks.append(
            ContextBlock(
                elements=[
                    md(
                        "Change it any time: DM me `add Fri 1-4` or `out Dec 23 - Jan 2`, "
                        "or use `/availability`."
                    )
                ]
            )
        )
    if home.provider is not None:
        blocks += provider_blocks(home.provider)
    if home.manager is not None:
        blocks += manager_blocks(home.manager)
    return blocks


def home_view(home: svc.Home) -> dict[str, Any]:
    """The Home view as Slack takes it, cut to 100 blocks if the data ever outgrows the caps."""
    blocks = [b.to_dict() for b in home_blocks(home)]
    if len(blocks) > VIEW_LIMIT:
        note = ContextBlock(
            elements=[md("There is more than fits here: see `/caseload` and `/deadlines`.")]
        )
        blocks = blocks[: VIEW_LIMIT - 1] + [note.to_dict()]
    return {"type": "home", "blocks": blocks}
