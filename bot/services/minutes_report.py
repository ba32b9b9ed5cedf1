"""Services: the service log a district asks for, as CSV — one row per session, or one row per
student service (``summary``) — for ``python -m bot report minutes`` and the manager's Home.

Ids only by default; student names only when the caller asks (the CLI's ``--with-names``), and
that is audited. Every text cell is made safe to open in a spreadsheet: a cell that starts with
``= + - @`` (or a tab or carriage return) gets a leading ``'`` so it is never read as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain.minutes import Month
from bot.domain.spreadsheet import safe_cell
from bot.services.districts import find_district
from bot.services.minutes import month_minutes
from bot.services.people import identify, require_manager
from bot.services.scope import audited, check_district
from storage import minutes as q
from storage import models as m
from storage.queries import school_zones

TS = m.TherapySession
SESSION_HEADER = [
    "date",
    "start_time",
    "timezone",
    "student_id",
    "service",
    "minutes",
    "status",
    "cancel_reason",
    "note_written",
    "provider_id",
    "makeup",
]
SUMMARY_HEADER = [
    "month",
    "student_id",
    "service",
    "provider_id",
    "required",
    "required_to_date",
    "delivered",
    "owed",
    "status",
]
NAME_COLUMNS = ["first_name", "last_name"]
FETCH = 5000


def safe(cell: object) -> object:
    """A cell a spreadsheet shows as text: formula-looking text gets a leading ``'``.

    Only text: a number stays a number (a negative count is not a formula)."""
    return safe_cell(cell) if isinstance(cell, str) else cell


@dataclass(frozen=True)
class Report:
    district_id: str
    district: str
    month: Month
    rows: int


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _session_rows(
    s: Session, district_id: str, month: Month, with_names: bool
) -> Iterator[list[object]]:
    zones = school_zones(s, [district_id])
    bounds = {z: q.month_bounds(month.first, month.last, z) for z in set(zones.values())}
    if not bounds:
        return
    lo = min(a for a, _ in bounds.values())
    hi = max(b for _, b in bounds.values())
    stmt = (
        select(
            TS.starts_at,
            TS.student_id,
            TS.service,
            TS.minutes,
            TS.status,
            TS.cancel_reason,
            TS.note_done_at.is_not(None),
            TS.provider_id,
            TS.makeup,
            m.Student.school_id,
            m.Student.first_name,
            m.Student.last_name,
        )
        .join(m.Student, m.Student.id == TS.student_id)
        .join(m.School, m.School.id == m.Student.school_id)
        .where(m.School.district_id == district_id, TS.starts_at >= lo, TS.starts_at < hi)
        .order_by(TS.starts_at, TS.student_id, TS.id)
        .execution_options(yield_per=FETCH)
    )
    tzinfo: dict[str, ZoneInfo] = {z: ZoneInfo(z) for z in bounds}
    # Many sessions share a start (the slots' half hours): each one's local date and time once.
    wall: dict[tuple[datetime, str], tuple[str, str]] = {}
    for (
        at,
        student,
        service,
        minutes,
        status,
        reason,
        note,
        provider,
        makeup,
        school,
        fn,
        ln,
    ) in s.execute(stmt):
        zone = zones[school]
        z_lo, z_hi = bounds[zone]
        if not z_lo <= at < z_hi:
            continue
        shown = wall.get((at, zone))
        if shown is None:
            local = at.astimezone(tzinfo[zone])
            shown = wall[(at, zone)] = (local.date().isoformat(), local.strftime("%H:%M"))
        row: list[object] = [shown[0], shown[1], zone, student]
        if with_names:
            row += [fn, ln]
        row += [
            service,
            minutes,
            status,
            reason or "",
            _yes(bool(note)),
            provider,
            _yes(bool(makeup)),
        ]
        yield row


def _header(base: list[str], with_names: bool, after: str) -> list[str]:
    if not with_names:
        return list(base)
    i = base.index(after) + 1
    return base[:i] + NAME_COLUMNS + base[i:]


def _audit(
    s: Session, actor: str, district_id: str, month: Month, kind: str, now: datetime
) -> None:
    s.add(
        m.AuditLog(
            at=now,
            actor=actor,
            action="report.minutes_with_names",
            subject_type="district",
            subject_id=district_id,
            before=None,
            after={"month": str(month), "report": kind},
        )
    )


def write_report(
    deps: Deps,
    district_text: str,
    month: Month,
    out: TextIO,
    *,
    summary: bool = False,
    with_names: bool = False,
    actor: str = "cli",
) -> Report:
    """Write the district's month as CSV to ``out``; the names, when asked for, are audited."""
    now = deps.clock.now()
    writer = csv.writer(out, lineterminator="\n")
    rows = 0
    with deps.session_factory.begin() as s:
        district = find_district(s, district_text)
        if with_names:
            _audit(s, actor, district.id, month, "summary" if summary else "sessions", now)
        if summary:
            writer.writerow(_header(SUMMARY_HEADER, with_names, "student_id"))
            scope = q.Scope(district_ids=frozenset({district.id}))
            items = month_minutes(s, scope, month, now, deps.settings)
            names: dict[str, tuple[str, str]] = {}
            if with_names:
                names = {
                    sid: (fn, ln)
                    for sid, fn, ln in s.execute(
                        select(m.Student.id, m.Student.first_name, m.Student.last_name)
                        .join(m.School, m.School.id == m.Student.school_id)
                        .where(m.School.district_id == district.id)
                    )
                }
            for i in items:
                row: list[object] = [str(month), i.student_id]
                if with_names:
                    row += list(names.get(i.student_id, ("", "")))
                row += [
                    i.service,
                    i.provider_id or "",
                    i.line.required,
                    i.line.required_to_date,
                    i.line.delivered,
                    i.line.owed,
                    i.line.status,
                ]
                writer.writerow([safe(c) for c in row])
                rows += 1
        else:
            writer.writerow(_header(SESSION_HEADER, with_names, "student_id"))
            for row in _session_rows(s, district.id, month, with_names):
                writer.writerow([safe(c) for c in row])
                rows += 1
        return Report(district.id, district.name, month, rows)


@dataclass(frozen=True)
class ReportFile:
    filename: str
    title: str
    content: str


@audited
def manager_reports(deps: Deps, slack_user_id: str, district_text: str) -> list[ReportFile]:
    """This month's two CSVs (sessions and summary, ids only) for a manager's district."""
    now = deps.clock.now()
    with deps.session_factory() as s:
        person = identify(s, slack_user_id, deps.settings.org_timezone)
        require_manager(person, "download service logs")
        district = find_district(s, district_text, slack_user_id)
        check_district(s, slack_user_id, district.id, "minutes.report_denied")
        tz = person.timezone
    month = Month.of(now.astimezone(ZoneInfo(tz)).date())
    out: list[ReportFile] = []
    for summary in (False, True):
        buffer = io.StringIO()
        write_report(deps, district.id, month, buffer, summary=summary)
        kind = "summary" if summary else "sessions"
        out.append(
            ReportFile(
                f"minutes-{district.id}-{month}-{kind}.csv",
                f"{district.name}: service {'minutes summary' if summary else 'log'}, "
                f"{month.label()}",
                buffer.getvalue(),
            )
        )
    return out
