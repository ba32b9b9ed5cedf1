"""Views: the managers' weekly digest DM, in mrkdwn: short, with the top of each list and a
count of the rest."""

from __future__ import annotations

from typing import Any

from bot.services.deadlines import ANNUAL
from bot.services.digest import MAX_LINES, REVIEW_DAYS, WeeklyDigest
from bot.views.blocks import escape as _esc


def _more(total: int, shown: int) -> list[str]:
    return [f"…and {total - shown} more"] if total > shown else []


def digest_text(d: WeeklyDigest) -> str:
    lines = [f"*Your weekly caseload digest* — week of {d.week_of:%a %b %-d, %Y}", "", "*Coverage*"]
    for c in d.coverage:
        pct = f" ({100 * c.served / c.total:.0f}%)" if c.total else ""
        lines.append(
            f"• {_esc(c.name)}: {c.served} of {c.total} student services served{pct}"
            + (f", {c.unserved} unserved" if c.unserved else "")
        )
    if not d.coverage:
        lines.append("• No districts in the roster yet.")
    lines += ["", f"*Unserved student services* ({len(d.unserved)})"]
    for u in d.unserved[:MAX_LINES]:
        lines.append(
            f"• {_esc(u.student)} · {u.service.upper()} · {_esc(u.district)} — {_esc(u.reason)}"
        )
    lines += _more(len(d.unserved), MAX_LINES) or ([] if d.unserved else ["• None. 🎉"])
    total_notes = sum(n.count for n in d.notes)
    lines += ["", f"*Overdue SOAP notes* ({total_notes})"]
    for n in d.notes[:MAX_LINES]:
        lines.append(f"• {_esc(n.provider)}: {n.count}, oldest from {n.oldest:%b %-d}")
    lines += _more(len(d.notes), MAX_LINES) or ([] if d.notes else ["• None overdue."])
    lines += ["", f"*IEP reviews due in the next {REVIEW_DAYS} days* ({len(d.reviews)})"]
    for r in d.reviews[:MAX_LINES]:
        kind = "annual review" if r.kind == ANNUAL else "triennial"
        who = f" ({_esc(r.provider)})" if r.provider else " (no provider yet)"
        lines.append(f"• {r.due_on:%a %b %-d} — {kind}, {_esc(r.subject)}, {_esc(r.where)}{who}")
    lines += _more(len(d.reviews), MAX_LINES) or ([] if d.reviews else ["• None."])
    return "\n".join(lines)


def render_digest(d: WeeklyDigest) -> tuple[str, list[dict[str, Any]]]:
    return digest_text(d), []
