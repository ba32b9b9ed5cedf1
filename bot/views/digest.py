"""Views: the managers' weekly digest DM, in mrkdwn: short, with the top of each list and a
count of the rest. What needs someone comes first: overdue items, notes, licences, people the
bot can't reach; then what is coming, coverage and the unserved."""

from __future__ import annotations

from typing import Any

from bot.services.deadlines import ANNUAL, DeadlineItem
from bot.services.digest import MAX_LINES, REVIEW_DAYS, WeeklyDigest
from bot.views.blocks import escape as _esc
from bot.views.conflicts import digest_line
from bot.views.format import bold, plural


def _more(total: int, shown: int) -> list[str]:
    return [f"…and {total - shown} more"] if total > shown else []


def _deadline(r: DeadlineItem) -> str:
    kind = "annual review" if r.kind == ANNUAL else "triennial"
    who = f" ({_esc(r.provider)})" if r.provider else " (no provider yet)"
    late = f", {plural(-r.days_left, 'day')} overdue" if r.days_left < 0 else ""
    return f"• {r.due_on:%a %b %-d} — {kind}, {_esc(r.subject)}, {_esc(r.where)}{who}{late}"


def digest_text(d: WeeklyDigest) -> str:
    lines = [f"{bold('Your weekly caseload digest')} — week of {d.week_of:%a %b %-d, %Y}"]
    if d.districts is not None:
        lines.append(f"For {_esc(', '.join(d.districts)) or 'none of the districts yet'}.")

    lines += ["", f"{bold('Overdue IEP reviews and triennials')} ({len(d.overdue)})"]
    lines += [_deadline(r) for r in d.overdue[:MAX_LINES]]
    lines += _more(len(d.overdue), MAX_LINES) or ([] if d.overdue else ["• None. 🎉"])

    total_notes = sum(n.count for n in d.notes)
    lines += ["", f"{bold('Overdue SOAP notes')} ({total_notes})"]
    for n in d.notes[:MAX_LINES]:
        late = f" ({n.escalated} over {plural(d.escalate_days, 'day')})" if n.escalated else ""
        lines.append(f"• {_esc(n.provider)}: {n.count}, oldest from {n.oldest:%b %-d}{late}")
    lines += _more(len(d.notes), MAX_LINES) or ([] if d.notes else ["• None overdue."])

    if d.licences:
        head = bold(f"Licences ending in the next {plural(d.licence_days, 'day')}")
        lines += ["", f"{head} ({len(d.licences)})"]
        for lic in d.licences[:MAX_LINES]:
            lines.append(f"• {lic.due_on:%a %b %-d} — {_esc(lic.where)}: {_esc(lic.subject)}")
        lines += _more(len(d.licences), MAX_LINES)

    if d.unreachable:
        lines += ["", bold("Can't reach") + f" ({len(d.unreachable)})"]
        for person in d.unreachable[:MAX_LINES]:
            name = _esc(person.name)
            who = f"<@{person.slack_user_id}> ({name})" if person.slack_user_id else name
            lines.append(f"• can't reach {who}: Slack says {_esc(person.reason)}")
        lines += _more(len(d.unreachable), MAX_LINES)

    head = bold(f"IEP reviews due in the next {plural(REVIEW_DAYS, 'day')}")
    lines += ["", f"{head} ({len(d.reviews)})"]
    lines += [_deadline(r) for r in d.reviews[:MAX_LINES]]
    lines += _more(len(d.reviews), MAX_LINES) or ([] if d.reviews else ["• None."])

    lines += ["", bold("Coverage")]
    for c in d.coverage:
        pct = f" ({100 * c.served / c.total:.0f}%)" if c.total else ""
        lines.append(
            f"• {_esc(c.name)}: {c.served} of {plural(c.total, 'student service')} served{pct}"
            + (f", {c.unserved} unserved" if c.unserved else "")
        )
    if not d.coverage:
        lines.append("• No districts in the roster yet.")
    if d.minutes:
        lines += ["", bold("IEP minutes this month")]
        lines += [f"• {_esc(line.district)}: {line.text()}" for line in d.minutes]
    lines += ["", f"{bold('Unserved student services')} ({len(d.unserved)})"]
    for u in d.unserved[:MAX_LINES]:
        lines.append(
            f"• {_esc(u.student)} · {u.service.upper()} · {_esc(u.district)} — {_esc(u.reason)}"
        )
    lines += _more(len(d.unserved), MAX_LINES) or ([] if d.unserved else ["• None. 🎉"])
    lines += ["", bold("Conflicts in the next 60 days")]
    lines += [f"• {digest_line(c)}" for c in d.conflicts[:MAX_LINES]]
    lines += _more(len(d.conflicts), MAX_LINES) or ([] if d.conflicts else ["• None."])
    return "\n".join(lines)


def render_digest(d: WeeklyDigest) -> tuple[str, list[dict[str, Any]]]:
    return digest_text(d), []
