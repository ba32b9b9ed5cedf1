"""Slack edge: pure Block Kit builders for caseloads and deadlines (/caseload, /deadlines, Home)."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.domain.labels import service_label, zone_label
from bot.services.caseload import Caseload, DistrictCaseload, SchoolCaseload
from bot.services.deadlines import ANNUAL, LICENCE, TRIENNIAL, DeadlineItem, Deadlines, NoteCount
from bot.services.matching import hours
from bot.views.conflicts import district_lines
from bot.views.format import bold, plural
from handlers.common import escape

MAX_SECTION_CHARS = 2900
MAX_SCHOOLS = 20
MAX_LINES = 25
KIND_LABEL = {ANNUAL: "annual review", TRIENNIAL: "triennial", LICENCE: "licence ends"}


def md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text)


def clip(text: str, limit: int = MAX_SECTION_CHARS) -> str:
    """Cut at a line end under ``limit`` and say how many lines were left out."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 40].rsplit("\n", 1)[0]
    return cut + f"\n…and {plural(text[len(cut) :].count(chr(10)), 'more line')}"


def more_line(total: int, shown: int, what: str) -> list[str]:
    """ "…and 3 more providers" ("provider" for one) when ``total`` is over ``shown``."""
    if total <= shown:
        return []
    rest = total - shown
    if not what:
        return [f"…and {rest} more"]
    return [f"…and {plural(rest, 'more ' + what.removesuffix('s'))}"]


# --- caseload ------------------------------------------------------------------------------


def _school_text(sc: SchoolCaseload) -> str:
    lines = [f"{bold(escape(sc.school))} · {escape(sc.district)}"]
    for e in sc.entries:
        times = ", ".join(e.times) if e.times else "_no weekly times yet_"
        group = " (group)" if e.group else ""
        lines.append(f"• {escape(e.student)} · {service_label(e.service)} — {times}{group}")
    return clip("\n".join(lines))


def caseload_blocks(c: Caseload, *, max_schools: int = MAX_SCHOOLS) -> list[Block]:
    who = f"{escape(c.provider_name)}'s caseload" if c.on_behalf else "Your caseload"
    summary = (
        f"{bold(who)}: {plural(c.students, 'student')}, {plural(c.services, 'service')} · "
        f"{hours(c.weekly_minutes)} of {hours(c.capacity_minutes)} h/week\n"
        f"Times in {zone_label(c.tz)} time, week of {c.monday:%b %-d}."
    )
    blocks: list[Block] = [SectionBlock(text=md(summary))]
    if not c.schools:
        blocks.append(ContextBlock(elements=[md("No students assigned yet.")]))
        return blocks
    for sc in c.schools[:max_schools]:
        blocks.append(SectionBlock(text=md(_school_text(sc))))
    extra = more_line(len(c.schools), max_schools, "schools")
    if extra:
        blocks.append(ContextBlock(elements=[md(extra[0])]))
    return blocks


def district_caseload_blocks(dc: DistrictCaseload) -> list[Block]:
    """A manager's /caseload: every district's coverage, or one district's providers."""
    if dc.district is None:
        lines = [bold("Caseloads by district")]
        lines += [
            f"• {escape(c.name)} (`{escape(c.district_id)}`): {c.served} of "
            f"{plural(c.total, 'student service')} served"
            for c in dc.coverage
        ]
        if not dc.coverage:
            lines.append("No districts in the roster yet.")
        hint = (
            "Name a district (`/caseload district=anchorage`) or a provider "
            "(`/caseload @provider`)."
        )
        return [SectionBlock(text=md(clip("\n".join(lines)))), ContextBlock(elements=[md(hint)])]
    served = "".join(
        f" · {c.served} of {plural(c.total, 'student service')} served" for c in dc.coverage
    )
    lines = [bold(f"Caseloads in {escape(dc.district)}") + served]
    lines += [
        f"• {escape(p.provider)}: {plural(p.students, 'student')}, {plural(p.services, 'service')}"
        for p in dc.providers[:MAX_LINES]
    ]
    lines += more_line(len(dc.providers), MAX_LINES, "providers")
    if not dc.providers:
        lines.append("No provider serves a student here yet.")
    hint = "See a provider's students and times with `/caseload @provider`."
    blocks: list[Block] = [SectionBlock(text=md(clip("\n".join(lines))))]
    if dc.conflicts is not None:
        conflicts = "\n".join([bold("Conflicts"), *district_lines(dc.conflicts)])
        blocks.append(SectionBlock(text=md(clip(conflicts))))
    else:
        blocks.append(ContextBlock(elements=[md("No conflicts in the next 60 days.")]))
    return [*blocks, ContextBlock(elements=[md(hint)])]


# --- deadlines -----------------------------------------------------------------------------


def _when(days_left: int) -> str:
    if days_left < 0:
        return bold(f"overdue by {plural(-days_left, 'day')}")
    if days_left == 0:
        return bold("today")
    return f"in {plural(days_left, 'day')}"


def deadline_line(item: DeadlineItem, *, with_provider: bool) -> str:
    kind = KIND_LABEL.get(item.kind, item.kind)
    if item.kind == LICENCE:
        who = f" · {escape(item.provider)}" if with_provider else ""
        return (
            f"• {item.due_on:%a %b %-d} ({_when(item.days_left)}) — {kind}: "
            f"{escape(item.subject)}{who}"
        )
    who = ""
    if with_provider:
        who = f" · {escape(item.provider)}" if item.provider else " · _no provider yet_"
    return (
        f"• {item.due_on:%a %b %-d} ({_when(item.days_left)}) — {kind}: "
        f"{escape(item.subject)}, {escape(item.where)}{who}"
    )


def deadline_text(
    title: str, items: Sequence[DeadlineItem], *, with_provider: bool, limit: int = MAX_LINES
) -> str:
    lines = [f"{bold(title)} ({len(items)})"]
    lines += [deadline_line(i, with_provider=with_provider) for i in items[:limit]]
    lines += more_line(len(items), limit, "")
    if not items:
        lines.append("Nothing due. 🎉")
    return clip("\n".join(lines))


def notes_text(counts: Sequence[NoteCount], *, limit: int = MAX_LINES) -> str:
    total = sum(c.count for c in counts)
    lines = [bold("Overdue SOAP notes") + f" ({total})"]
    lines += [
        f"• {escape(c.provider)}: {c.count}, oldest from {c.oldest:%b %-d}" for c in counts[:limit]
    ]
    lines += more_line(len(counts), limit, "providers")
    if not counts:
        lines.append("None overdue.")
    return clip("\n".join(lines))


def deadlines_blocks(d: Deadlines) -> list[Block]:
    """What is due leads; sections with nothing in them are named once, at the end."""
    students = [i for i in d.items if i.kind != LICENCE]
    licences = [i for i in d.items if i.kind == LICENCE]
    sections = (
        ("overdue SOAP notes", sum(c.count for c in d.notes), lambda: notes_text(d.notes)),
        (
            "IEP annual reviews or triennials",
            len(students),
            lambda: deadline_text(
                "IEP annual reviews and triennials", students, with_provider=d.for_manager
            ),
        ),
        (
            "licences ending",
            len(licences),
            lambda: deadline_text("Licences ending", licences, with_provider=True),
        ),
    )
    blocks: list[Block] = [
        SectionBlock(
            text=md(
                f"{bold(f'Deadlines for {escape(d.scope)}')} — the next {plural(d.days, 'day')}, "
                f"from {d.today:%a %b %-d}"
            )
        )
    ]
    blocks += [SectionBlock(text=md(text())) for _, count, text in sections if count]
    empty = [name for name, count, _ in sections if not count]
    if len(empty) == len(sections):
        blocks.append(SectionBlock(text=md("Nothing due, and no notes overdue. 🎉")))
    elif empty:
        blocks.append(ContextBlock(elements=[md("Nothing due: " + ", ".join(empty) + ".")]))
    if not d.for_manager and d.notes:
        blocks.append(
            ContextBlock(elements=[md("Write overdue notes with `/soap` or from the App Home.")])
        )
    return blocks


CASELOAD_HELP = (
    bold("How to use /caseload") + "\n"
    "• `/caseload` — your students, services and weekly times\n"
    "• `/caseload @provider` — a provider's caseload (managers)\n"
    "• `/caseload district=anchorage` — who serves a district, and how many (managers)"
)
