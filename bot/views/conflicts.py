"""Views: conflicts and schedule-change effects as mrkdwn lines, for the Home, ``/caseload``,
the weekly digest, availability previews and the managers' DM.

Pure functions of the services' plain results; text placed in mrkdwn is escaped here, once.
"""

from __future__ import annotations

from datetime import date

from bot.domain.conflicts import Cause
from bot.domain.labels import day_label, service_label, state_name, zone_abbr
from bot.domain.schedule import hhmm
from bot.services.conflicts import ConflictLine, DistrictConflicts, GapLine
from bot.services.schedule_effects import Effects, SlotEffect
from bot.views.format import bold, plural

CAUSE_WORDS = {
    Cause.PROVIDER_REMOVED: "provider removed",
    Cause.STUDENT_EXITED: "student exited",
    Cause.SERVICE_ENDED: "service ended",
    Cause.SCHOOL_CLOSED: "school closed",
    Cause.LICENCE: "no licence",
    Cause.TIME_OFF: "time off",
    Cause.OUTSIDE_AVAILABILITY: "outside availability",
}


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def day_span(a: date, b: date) -> str:
    """ "Dec 21 – Jan 1", or "Dec 21" for one day."""
    return f"{a:%b %-d}" if a == b else f"{a:%b %-d} – {b:%b %-d}"


def closed_line(spans: tuple[tuple[date, date], ...]) -> str | None:
    """ "closed Dec 21 – Jan 1; Feb 16"."""
    if not spans:
        return None
    return "closed " + "; ".join(day_span(a, b) for a, b in spans)


def gap_line(g: GapLine) -> str:
    """ "Pat Lee: AK licence ends Dec 16: 13 services need a new provider from Dec 16 unless
    renewed" (a licence counts until the day it expires)."""
    who = escape(g.provider)
    need = f"{plural(g.services, 'service')} need{'s' if g.services == 1 else ''} a new provider"
    if g.expires is None:
        return f"{who}: no {state_name(g.state)} licence: {need}"
    return (
        f"{who}: {g.state} licence ends {g.expires:%b %-d}: {need} "
        f"from {g.expires:%b %-d} unless renewed"
    )


def slot_time(day: int | None, start: int | None, tz: str, first: date) -> str:
    if day is None or start is None:
        return f"{first:%a %b %-d}"
    return f"{day_label(day)} {hhmm(start)} {zone_abbr(tz)}"


def conflict_line(c: ConflictLine) -> str:
    """ "Thu 14:30 AKT, J.D. (S-AK-01), SLP with Pat Lee: outside availability from Dec 3"."""
    when = slot_time(c.day, c.start, c.tz, c.first)
    more = f" from {c.first:%b %-d}" if c.day is not None else ""
    times = f" ({plural(c.count, 'date')})" if c.count > 1 else ""
    return (
        f"{when}, {escape(c.student)}, {service_label(c.service)} with {escape(c.provider)}: "
        f"{CAUSE_WORDS[c.cause]}{more}{times}"
    )


def district_lines(d: DistrictConflicts) -> list[str]:
    """The district's conflicts as lines: counts, licence gaps, the soonest items, closures."""
    lines: list[str] = []
    if d.total:
        counts = ", ".join(f"{n} {CAUSE_WORDS[cause]}" for cause, n in d.counts)
        lines.append(f"{bold(plural(d.total, 'conflict'))} in the next 60 days: {counts}")
    lines.extend(f"• {gap_line(g)}" for g in d.gaps)
    lines.extend(f"• {conflict_line(c)}" for c in d.lines)
    shown = len(d.lines) + sum(n for cause, n in d.counts if cause == Cause.LICENCE)
    if d.total > shown:
        lines.append(f"…and {d.total - shown} more")
    closed = closed_line(d.closed)
    if closed:
        lines.append(f"• {closed}")
    return lines


def digest_line(d: DistrictConflicts) -> str:
    """One line for the weekly digest: "Anchorage: 5 conflicts (3 no licence, …); closed …"."""
    parts = []
    if d.total:
        counts = ", ".join(f"{n} {CAUSE_WORDS[cause]}" for cause, n in d.counts)
        parts.append(f"{plural(d.total, 'conflict')} ({counts})")
    closed = closed_line(d.closed)
    if closed:
        parts.append(closed)
    return f"{escape(d.district)}: " + "; ".join(parts)


# --- availability previews and saves ------------------------------------------------------------


def slot_effect(e: SlotEffect) -> str:
    """ "Thu 14:30 AKT, J.D. (S-AK-01) and A.B. (S-AK-03)"."""
    names = [escape(n) for n in e.students]
    who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{day_label(e.day)} {hhmm(e.start)} {zone_abbr(e.tz)}, {who}"


def effect_lines(effects: Effects, *, saved: bool = False, whose: str = "your") -> list[str]:
    """What a preview would do, or what a save did, to the planned sessions."""
    lines: list[str] = []
    if effects.outside:
        n = effects.outside_sessions
        verb = "fall" if n != 1 else "falls"
        lines.append(
            f"{plural(n, 'weekly session')} {verb} outside {whose} new hours: "
            + "; ".join(slot_effect(e) for e in effects.outside)
            + (". The managers were told, to find new times." if saved else ".")
        )
    if effects.cancelled:
        n = effects.cancelled
        lines.append(
            f"{plural(n, 'session')} on these days {'were' if saved else 'will be'} cancelled."
            if n != 1
            else f"1 session on these days {'was' if saved else 'will be'} cancelled."
        )
    if effects.restored:
        n = effects.restored
        verb = ("is" if n == 1 else "are") if saved else "will be"
        lines.append(f"{plural(n, 'session')} cancelled for time off {verb} back on the schedule.")
    return lines


def manager_dm_text(provider: str, slots: list[dict[str, object]]) -> str:
    """The managers' DM after a provider's new hours left weekly sessions outside them."""
    lines = [
        f"• {day_label(int(str(x['day'])))} {hhmm(int(str(x['start'])))} "
        f"{zone_abbr(str(x['tz']))}: " + ", ".join(escape(str(n)) for n in x["students"])  # type: ignore[attr-defined]
        for x in slots
    ]
    return (
        f"{escape(provider)} changed their availability; these weekly sessions now fall "
        "outside it:\n" + "\n".join(lines)
    )
