"""Services: computing, storing and rendering a caseload proposal (and the CLI summary)."""

from __future__ import annotations

import io
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain import matching as mt
from bot.domain.labels import state_name
from bot.domain.matching.explain import explain, explain_in_view
from bot.domain.matching.hires import hires
from bot.domain.matching.sparing import solve_sparing
from bot.domain.schedule import DAY_NAMES
from bot.domain.spreadsheet import SafeWriter
from bot.services.matching.common import KIND, hours, short_name, zone_abbr
from bot.services.matching.filters import DistrictInfo, Filters, resolve_district
from bot.services.matching.fingerprint import Scope, fingerprint
from bot.services.matching.inputs import Context, build_input
from storage import models as m
from storage.proposals import latest_proposal

# --- running ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionOut:
    student_ids: tuple[str, ...]
    student_labels: tuple[str, ...]
    service: str
    school_id: str
    school_name: str
    day: str  # school-local weekday
    start: str
    end: str
    timezone: str
    provider_day: str
    provider_start: str
    provider_end: str
    minutes: int


@dataclass(frozen=True)
class ProviderPlan:
    provider_id: str
    name: str
    slack_user_id: str | None
    timezone: str
    sessions: tuple[SessionOut, ...]
    new_minutes: int
    committed_minutes: int
    capacity_minutes: int
    time_off: str = ""  # "out Dec 7–11: those sessions will be cancelled"
    licence: str = ""  # "Alaska licence ends Dec 23: used for 2 students nobody else can serve"


@dataclass(frozen=True)
class HireOut:
    """A provider profile to hire, in the school's time zone."""

    service: str
    state: str
    weekly_hours: float
    windows: tuple[tuple[str, str, str], ...]  # (school-local day, start, end)
    timezone: str
    would_serve: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "state": self.state,
            "weekly_hours": self.weekly_hours,
            "windows": [
                {"day": d, "start": a, "end": b, "timezone": self.timezone}
                for d, a, b in self.windows
            ],
            "would_serve": list(self.would_serve),
        }


@dataclass(frozen=True)
class Proposal:
    proposal_id: str | None
    district_id: str
    district_name: str
    week_of: date
    plans: tuple[ProviderPlan, ...]
    unmatched: tuple[mt.Unmatched, ...]
    unmatched_labels: dict[str, str]
    students_total: int
    students_served: int
    method: str
    solve_seconds: float
    bound: int | None = None  # at most this many of students_total can be served
    focus: str = ""  # with provider=: whom alone it matches ("Mo R."); the bound is theirs
    hires: tuple[HireOut, ...] = ()

    @property
    def hours_booked(self) -> float:
        return round(sum(p.new_minutes for p in self.plans) / 60, 2)

    def to_json(self) -> dict[str, Any]:
        return {
            "district_id": self.district_id,
            "proposals": [
                {
                    "provider_id": p.provider_id,
                    "sessions": [
                        {
                            "student_ids": list(x.student_ids),
                            "service": x.service,
                            "school_id": x.school_id,
                            "day": x.day,
                            "start": x.start,
                            "end": x.end,
                            "timezone": x.timezone,
                        }
                        for x in p.sessions
                    ],
                }
                for p in self.plans
            ],
            "unmatched": [
                {
                    "student_id": u.student_id,
                    "service": u.service,
                    "reason": u.reason,
                    "detail": u.detail,
                }
                for u in self.unmatched
            ],
            "bound": self.bound if self.bound is not None else self.students_total,
            "hires": [h.to_json() for h in self.hires],
        }

    def to_csv(self) -> str:
        buf = io.StringIO()
        w = SafeWriter(buf)  # a roster name a spreadsheet would run gets a leading '
        w.writerow(
            [
                "provider_id",
                "provider",
                "student_ids",
                "service",
                "school",
                "day",
                "start",
                "end",
                "school_timezone",
                "provider_day",
                "provider_start",
                "provider_end",
            ]
        )
        for p in self.plans:
            for x in p.sessions:
                w.writerow(
                    [
                        p.provider_id,
                        p.name,
                        " ".join(x.student_ids),
                        x.service,
                        x.school_name,
                        x.day,
                        x.start,
                        x.end,
                        x.timezone,
                        x.provider_day,
                        x.provider_start,
                        x.provider_end,
                    ]
                )
        for u in self.unmatched:
            w.writerow(
                [
                    "",
                    "UNSERVED",
                    u.student_id,
                    u.service,
                    "",
                    "",
                    "",
                    "",
                    "",
                    u.reason,
                    "",
                    u.detail,
                ]
            )
        return buf.getvalue()


def render(result: mt.MatchResult, ctx: Context, proposal_id: str | None) -> Proposal:
    by_provider: dict[str, list[mt.Session]] = defaultdict(list)
    for sess in result.sessions:
        by_provider[sess.provider_id].append(sess)
    plans = []
    for pid in sorted(by_provider, key=lambda p: ctx.provider_name.get(p, p)):
        out = []
        minutes = 0
        for sess in sorted(by_provider[pid], key=lambda x: x.start):
            tz = ctx.school_tz[sess.school_id]
            ptz = ctx.provider_tz[pid]
            a, b = ctx.week.local(sess.start, tz), ctx.week.local(sess.end, tz)
            pa, pb = ctx.week.local(sess.start, ptz), ctx.week.local(sess.end, ptz)
            minutes += sess.end - sess.start
            out.append(
                SessionOut(
                    student_ids=sess.student_ids,
                    student_labels=tuple(ctx.student_label.get(x, x) for x in sess.student_ids),
                    service=sess.service,
                    school_id=sess.school_id,
                    school_name=ctx.school_name.get(sess.school_id, sess.school_id),
                    day=DAY_NAMES[a.weekday()],
                    start=f"{a:%H:%M}",
                    end=f"{b:%H:%M}",
                    timezone=tz,
                    provider_day=DAY_NAMES[pa.weekday()],
                    provider_start=f"{pa:%H:%M}",
                    provider_end=f"{pb:%H:%M}",
                    minutes=sess.end - sess.start,
                )
            )
        plans.append(
            ProviderPlan(
                pid,
                ctx.provider_name[pid],
                ctx.provider_slack[pid],
                ctx.provider_tz[pid],
                tuple(out),
                minutes,
                ctx.provider_committed[pid],
                ctx.provider_capacity[pid],
                time_off_note(ctx.provider_time_off.get(pid, [])),
                licence_note(ctx, pid, by_provider[pid]),
            )
        )
    served = {(sid, sess.service) for sess in result.sessions for sid in sess.student_ids}
    return Proposal(
        proposal_id=proposal_id,
        district_id=ctx.district.id,
        district_name=ctx.district.name,
        week_of=ctx.week.monday,
        plans=tuple(plans),
        unmatched=result.unmatched,
        unmatched_labels={
            u.student_id: ctx.student_label.get(u.student_id, u.student_id)
            for u in result.unmatched
        },
        students_total=ctx.total_needs,
        students_served=len(served),
        method=result.method,
        solve_seconds=result.solve_seconds,
        bound=result.bound,
        focus=ctx.focus,
        hires=tuple(_hire_out(h, ctx) for h in result.hires),
    )


def licence_note(ctx: Context, provider_id: str, sessions: list[mt.Session]) -> str:
    """ "Alaska licence ends Dec 23: used for 2 students nobody else can serve" ("" unless it ends
    within ``SPARE_WITHIN``)."""
    ends = ctx.licence_ending.get(provider_id)
    if ends is None:
        return ""
    text = f"{state_name(ctx.district.state)} licence ends {ends:%b %-d}"
    if not ctx.spare:
        return text
    n = len({(sid, x.service) for x in sessions for sid in x.student_ids})
    return f"{text}: used for {n} {'student' if n == 1 else 'students'} nobody else can serve"


def time_off_note(ranges: list[tuple[date, date]]) -> str:
    """ "out Dec 7–11: those sessions will be cancelled" (the plan itself is the recurring week)."""
    if not ranges:
        return ""
    parts = []
    for a, b in ranges:
        if a == b:
            parts.append(f"{a:%b %-d}")
        elif (a.year, a.month) == (b.year, b.month):
            parts.append(f"{a:%b %-d}–{b:%-d}")
        else:
            parts.append(f"{a:%b %-d}–{b:%b %-d}")
    return f"out {', '.join(parts)}: those sessions will be cancelled"


def _hire_out(h: mt.Hire, ctx: Context) -> HireOut:
    tz = ctx.school_tz[ctx.student_school[h.would_serve[0]]]
    windows = []
    for _, a, b in h.windows:
        la, lb = ctx.week.local(a, tz), ctx.week.local(b, tz)
        windows.append((DAY_NAMES[la.weekday()], f"{la:%H:%M}", f"{lb:%H:%M}"))
    return HireOut(
        h.service, h.state, round(h.weekly_minutes / 60, 2), tuple(windows), tz, h.would_serve
    )


def compute(
    deps: Deps,
    district: DistrictInfo,
    today: date,
    filters: Filters | None = None,
    progress: mt.ProgressFn | None = None,
) -> tuple[mt.MatchInput, mt.MatchResult, Context, str]:
    with deps.session_factory() as s:
        inp, ctx = build_input(s, deps, district, today, filters)
        fp = fingerprint(s, scope_of(inp, ctx, filters))
        view = _district_view(s, deps, district, today, filters)
        last = _unchanged_since(s, inp, ctx, filters, fp)
    result = _replay(inp, ctx, last) if last is not None else None
    if result is None:
        result = solve(deps, inp, ctx, progress)
    if view is not None:
        result = _in_view(result, *view)
    return inp, result, ctx, fp


def replay_key(inp: mt.MatchInput, ctx: Context, filters: Filters | None) -> dict[str, Any]:
    """Besides the fingerprint, what a proposal's plan depends on: its week, filters, the
    providers spared by the licence rule (which moves with the clock) and the group size."""
    return {
        "week_of": ctx.week.monday.isoformat(),
        "filters": {
            "service": filters.service if filters else None,
            "provider": filters.provider_slack_id if filters else None,
        },
        "spared": sorted(ctx.licence_ending) if ctx.spare else [],
        "group_max": inp.group_max,
    }


def _unchanged_since(
    s: Session, inp: mt.MatchInput, ctx: Context, filters: Filters | None, fp: str
) -> dict[str, Any] | None:
    """The district's latest proposal's payload when it was computed from these very inputs."""
    last = latest_proposal(s, ctx.district.id)
    if last is None or last.fingerprint != fp:
        return None
    payload = dict(last.payload)
    return payload if payload.get("replay") == replay_key(inp, ctx, filters) else None


def _replay(inp: mt.MatchInput, ctx: Context, payload: dict[str, Any]) -> mt.MatchResult | None:
    """The same inputs give the same proposal: the last plan again (checked by the validator,
    and explained afresh), without solving. None if it does not hold (then solve)."""
    t0 = time.perf_counter()
    sessions = []
    for x in payload["sessions"]:
        tz = ctx.school_tz.get(x["school_id"])
        if tz is None:
            return None
        day = DAY_NAMES[ctx.week.local(x["start"], tz).weekday()]
        sessions.append(
            mt.Session(
                x["provider_id"],
                tuple(x["student_ids"]),
                x["service"],
                x["school_id"],
                day,
                x["start"],
                x["end"],
            )
        )
    _, details = mt.evaluate(inp, sessions)
    result = mt.MatchResult(
        sessions=tuple(sessions),
        unmatched=tuple(explain(inp, sessions)),
        method="unchanged since the last run",
        objective=details,
        solve_seconds=0.0,
        bound=payload.get("bound"),
        hires=tuple(hires(inp, sessions)),
    )
    if mt.validate(inp, result):
        return None
    return replace(result, solve_seconds=time.perf_counter() - t0)


def solve(
    deps: Deps, inp: mt.MatchInput, ctx: Context, progress: mt.ProgressFn | None = None
) -> mt.MatchResult:
    """The matcher, with the providers whose licence ends soon used only where nobody else can
    serve (``ctx.licence_ending``)."""
    spared = frozenset(ctx.licence_ending) if ctx.spare else frozenset()
    return solve_sparing(inp, spared, lambda i: deps.solve(i, progress))


def _district_view(
    s: Session, deps: Deps, district: DistrictInfo, today: date, filters: Filters | None
) -> tuple[mt.MatchInput, dict[str, str], dict[str, str]] | None:
    """With ``provider=``: the same needs with every candidate of the district, the named
    provider (id -> discipline) and everyone's short names; None without the filter."""
    if filters is None or not filters.provider_slack_id:
        return None
    everyone = Filters(filters.district, filters.service, None)
    inp, ctx = build_input(s, deps, district, today, everyone)
    named = s.execute(
        select(m.Provider.id, m.Provider.name, m.Provider.discipline).where(
            m.Provider.slack_user_id == filters.provider_slack_id
        )
    ).all()
    everyone_names = {**ctx.provider_name, **{pid: name for pid, name, _ in named}}
    names = {pid: short_name(n) for pid, n in everyone_names.items()}
    return inp, {pid: discipline for pid, _, discipline in named}, names


def _in_view(
    result: mt.MatchResult, inp: mt.MatchInput, focus: dict[str, str], names: dict[str, str]
) -> mt.MatchResult:
    """The unserved explained with the whole district in view; hires only for needs that no
    other provider of the district could take either."""
    unmatched = explain_in_view(inp, result.sessions, focus, names)
    open_keys = {(u.student_id, u.service) for u in unmatched if u.reason not in NOT_A_HIRE}
    rest = replace(inp, needs=tuple(n for n in inp.needs if n.key in open_keys))
    return replace(result, unmatched=tuple(unmatched), hires=tuple(hires(rest, result.sessions)))


# Unserved only because of the filter, or because the solver stopped: no hire would help.
NOT_A_HIRE = frozenset({"other_providers", "not_placed"})


def scope_of(
    inp: mt.MatchInput,
    ctx: Context,
    filters: Filters | None,
    moving: frozenset[tuple[str, str]] = frozenset(),
) -> Scope:
    """The proposal's own inputs (``fingerprint``), as the payload will record them."""
    return Scope(
        district_id=ctx.district.id,
        week_of=ctx.week.monday,
        needs=frozenset(n.key for n in inp.needs),
        provider_ids=tuple(sorted(p.provider_id for p in inp.providers)),
        provider_slack_id=filters.provider_slack_id if filters else None,
        moving=moving,
    )


def preview_only(deps: Deps, district: DistrictInfo, today: date) -> Proposal:
    """Compute a proposal without storing it (the CLI)."""
    _, result, ctx, _ = compute(deps, district, today)
    return render(result, ctx, None)


def propose(
    deps: Deps, slack_user_id: str, filters: Filters, progress: mt.ProgressFn | None = None
) -> Proposal:
    """Compute and store a proposal for a manager. Caller has checked the role. ``progress``
    hears how far the solve has got."""
    district = resolve_district(deps, filters.district)
    today = deps.clock.now().astimezone(ZoneInfo(district.timezone)).date()
    inp, result, ctx, fp = compute(deps, district, today, filters, progress)
    with deps.session_factory.begin() as s:
        proposal_id = store(
            s,
            deps,
            slack_user_id,
            inp,
            result,
            ctx,
            fp,
            {
                "filters": {"service": filters.service, "provider": filters.provider_slack_id},
                "replay": replay_key(inp, ctx, filters),
            },
        )
    return render(result, ctx, proposal_id)


def store(
    s: Session,
    deps: Deps,
    slack_user_id: str,
    inp: mt.MatchInput,
    result: mt.MatchResult,
    ctx: Context,
    fp: str,
    extra: dict[str, Any],
    subject_id: str | None = None,
) -> str:
    """Add the proposal (what Approve acts on) to the caller's transaction; its id.

    ``subject_id`` other than the district keeps it out of the district's latest proposal
    (the one whose unserved list the Home and the digest show)."""
    proposal_id = str(uuid.uuid4())
    payload = {
        "district_id": ctx.district.id,
        "week_of": ctx.week.monday.isoformat(),
        "provider_ids": sorted(p.provider_id for p in inp.providers),
        "needs": sorted([n.student_id, n.service] for n in inp.needs),
        "bound": result.bound,
        **extra,
        "sessions": [
            {
                "provider_id": x.provider_id,
                "student_ids": list(x.student_ids),
                "service": x.service,
                "school_id": x.school_id,
                "start": x.start,
                "end": x.end,
            }
            for x in result.sessions
        ],
        # Whom to hire for the rest: the manager's App Home shows the latest proposal's.
        "hires": [_hire_out(h, ctx).to_json() for h in result.hires],
        # Why each left-over service stayed unserved: the App Home and the digest show it.
        "unmatched": [
            {
                "student_id": u.student_id,
                "service": u.service,
                "reason": u.reason,
                "detail": u.detail,
            }
            for u in result.unmatched
        ],
    }
    s.add(
        m.PendingAction(
            id=proposal_id,
            kind=KIND,
            actor_slack_id=slack_user_id,
            subject_id=subject_id or ctx.district.id,
            payload=payload,
            fingerprint=fp,
            status="pending",
            created_at=deps.clock.now(),
        )
    )
    return proposal_id


# --- CLI ------------------------------------------------------------------------------------


def bound_rest(p: Proposal) -> str:
    """What the bound line says of the services beyond it: " (the other 3 have no licensed
    provider or no common time)"; with provider=, by them, and why the others are below."""
    rest = p.students_total - min(
        p.bound if p.bound is not None else p.students_total, p.students_total
    )
    if p.focus:
        return f" by {p.focus}" + (f" (why not the other {rest}: below)" if rest > 0 else "")
    if rest <= 0:
        return ""
    verb = "has" if rest == 1 else "have"
    return f" (the other {rest} {verb} no licensed provider or no common time)"


def text_summary(p: Proposal) -> str:
    from bot.domain.availability_text import zone_label

    lines = [
        f"{p.district_name} — proposal for the week of {p.week_of:%b %-d, %Y}",
        f"Students served: {p.students_served}/{p.students_total} · providers: {len(p.plans)} · "
        f"hours booked: {p.hours_booked:g} · {p.method}, {p.solve_seconds:.1f} s",
    ]
    if p.bound is not None:
        lines.append(f"At most {p.bound} can be served{bound_rest(p)}")
    for plan in p.plans:
        lines.append(
            f"\n{plan.name} ({plan.provider_id}) — "
            f"{hours(plan.committed_minutes + plan.new_minutes)} of "
            f"{hours(plan.capacity_minutes)} h/week"
            + (f" · {plan.time_off}" if plan.time_off else "")
            + (f" · {plan.licence}" if plan.licence else "")
        )
        for x in plan.sessions:
            lines.append(
                f"  {x.day.title()} {x.start}–{x.end} {zone_abbr(x.timezone)} "
                f"({x.provider_day.title()} {x.provider_start} {zone_label(plan.timezone)})  "
                f"{', '.join(x.student_labels)}  {x.service.upper()} @ {x.school_name}"
            )
    for h in p.hires:
        when = ", ".join(f"{d.title()} {a}–{b}" for d, a, b in h.windows)
        lines.append(
            f"Hire: 1 {h.service.upper()} licensed in {h.state}, about {h.weekly_hours:g} h a "
            f"week, {when} {zone_abbr(h.timezone)}, would serve {len(h.would_serve)}"
        )
    if p.unmatched:
        lines.append("\nNot served:")
        for u in p.unmatched:
            lines.append(
                f"  {p.unmatched_labels.get(u.student_id, u.student_id)} {u.service.upper()}: "
                f"{u.reason} — {u.detail}"
            )
    return "\n".join(lines)
