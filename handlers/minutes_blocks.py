"""Slack edge: pure Block Kit builders for service minutes (/minutes and the App Home)."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, ButtonElement, ContextBlock, SectionBlock

from bot.domain.labels import service_label
from bot.services.minutes import (
    DistrictLine,
    DistrictMinutes,
    MinutesRow,
    OrgMinutes,
    ProviderMinutes,
)
from bot.views.format import bold, plural
from bot.views.makeups import MakeupIds
from handlers.caseload_blocks import clip, md, more_line
from handlers.common import escape

MAX_ROWS = 25
MAKEUP_BUTTONS = 5
HOME_ROWS = 8
RULE = (
    "Behind = under 90% of the minutes due so far this month. Owed = make-up minutes for "
    "sessions cancelled by the provider or never marked (not school closures or exits)."
)


def row_text(r: MinutesRow, *, with_status: bool = True) -> str:
    owed = f" · {r.owed} min owed" if r.owed else ""
    status = f" · {bold(r.status)}" if with_status and r.status == "behind" else ""
    return (
        f"• {escape(r.student)} · {service_label(r.service)} — {r.delivered} of "
        f"{r.required_to_date} min so far ({r.required} this month){owed}{status}"
    )


def _rows_text(title: str, rows: Sequence[MinutesRow], limit: int, empty: str) -> str:
    lines = [title]
    lines += [row_text(r) for r in rows[:limit]] or [empty]
    lines += more_line(len(rows), limit, "")
    return clip("\n".join(lines))


def provider_minutes_blocks(p: ProviderMinutes, *, limit: int = MAX_ROWS) -> list[Block]:
    behind = sum(1 for r in p.rows if r.status == "behind")
    summary = (
        f"{bold(f'Minutes, {p.month.label()}')}: {plural(len(p.rows), 'student service')}, "
        f"{behind} behind · {plural(p.makeups_owed, 'make-up')} owed"
    )
    blocks: list[Block] = [
        SectionBlock(text=md(_rows_text(summary, p.rows, limit, "No students assigned yet.")))
    ]
    for due in p.makeups[:MAKEUP_BUTTONS]:
        blocks.append(
            SectionBlock(
                text=md(
                    f"Make-up owed: {escape(due.student)} · {service_label(due.service)} · "
                    f"{due.minutes} min missed {due.missed_at:%a %b %-d %H:%M}"
                ),
                accessory=ButtonElement(
                    text="Schedule make-up",
                    action_id=MakeupIds.SCHEDULE,
                    value=str(due.session_id),
                ),
            )
        )
    extra = more_line(len(p.makeups), MAKEUP_BUTTONS, "")
    if extra:
        blocks.append(ContextBlock(elements=[md(extra[0])]))
    blocks.append(ContextBlock(elements=[md(RULE)]))
    return blocks


def district_minutes_blocks(d: DistrictMinutes, *, limit: int = MAX_ROWS) -> list[Block]:
    title = (
        f"{bold(f'{escape(d.district)}, {d.month.label()}')}: "
        f"{plural(d.students_behind, 'student')} behind of "
        f"{plural(d.services, 'student service')} · "
        f"{plural(d.makeups_owed, 'make-up')} owed"
    )
    blocks: list[Block] = [
        SectionBlock(
            text=md(_rows_text(title, d.behind, limit, "Nobody is behind. Everyone's on track."))
        )
    ]
    lines = [bold("Make-ups owed per provider")]
    lines += [
        f"• {escape(p.provider)} ({escape(p.provider_id)}) — {plural(p.count, 'make-up')}, "
        f"{p.minutes} min"
        for p in d.makeups[:limit]
    ] or ["None owed."]
    lines += more_line(len(d.makeups), limit, "providers")
    blocks.append(SectionBlock(text=md(clip("\n".join(lines)))))
    blocks.append(ContextBlock(elements=[md(RULE)]))
    return blocks


def district_line_text(line: DistrictLine) -> str:
    return f"• {bold(escape(line.district))} (`{escape(line.district_id)}`): {line.text()}"


def org_minutes_blocks(o: OrgMinutes, *, limit: int = MAX_ROWS) -> list[Block]:
    lines = [bold(f"Minutes, {o.month.label()}") + ", per district"]
    lines += [district_line_text(d) for d in o.districts[:limit]] or ["No districts yet."]
    lines += more_line(len(o.districts), limit, "districts")
    return [
        SectionBlock(text=md(clip("\n".join(lines)))),
        ContextBlock(elements=[md("For the students behind: `/minutes district=<id>`. " + RULE)]),
    ]
