"""Services: the digest of what a proposal was computed from, to refuse a stale one.

A proposal goes stale when, and only when, something its solve read changed. Those inputs, its
"own" ones, are:

- **its needs**, each (student, service) it proposed for or left unserved: the student's school;
  the service's sessions a week, minutes and group flag; any assignment of it made since
  (other than by this proposal: approving one provider's part leaves the rest approvable); and
  the student's time that stays taken (``inputs.student_busy``: weekly times of their other
  assignments, other than this proposal's, and dated sessions that week);
- **its schools**, those of its needs: time zone and school hours, and the district's state;
- **who its candidates are**: for every provider of its needs' disciplines (only the named one
  with ``provider=``), whether they are on the roster and hold a licence in the district's state
  that runs through the proposal's week (``inputs.candidate``). A provider elsewhere gaining such
  a licence, or changing discipline into the field, changes this;
- **each candidate**: discipline, home state and weekly hours; their licences in the district's
  state and in their home state, with end dates (the 8-week licence rule reads them); recurring
  availability that applies in the proposal's week; time off in that week (the proposal notes it);
  every assignment they hold anywhere, with its weekly times (their capacity and busy time); and
  the dated sessions on their calendar that week.

Not inputs, so never a reason to refuse: providers who are not candidates (other states, other
disciplines, removed), other students and schools of the district (a new open need simply stays
open), school calendars (the plan is a recurring week: a closed day cancels its sessions, it does
not move them), time off in other weeks, names, Slack ids and time zones of people (they only label
the message), and the district's previous proposal (a preference, not a rule). With
``provider=``, the explanation of the unserved also looks at the district's other candidates; it
is advice that "Run it again" refreshes, and it does not make the proposal stale.

A re-match (``moving``) leaves out the current assignments of the services it moves: approving
part of it moves them, and the rest still holds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services.matching.inputs import Week, _dated_sessions, candidate, student_busy
from storage import models as m


@dataclass(frozen=True)
class Scope:
    """What identifies a proposal's inputs: stored in its payload, read back at approval."""

    district_id: str
    week_of: date
    needs: frozenset[tuple[str, str]]
    provider_ids: tuple[str, ...]
    provider_slack_id: str | None = None  # the ``provider=`` filter
    exclude_proposal: str | None = None  # this proposal's own approvals are not a change
    moving: frozenset[tuple[str, str]] = frozenset()

    @classmethod
    def of_payload(cls, proposal_id: str, payload: dict[str, Any]) -> Scope:
        if "needs" in payload:
            needs = {(str(a), str(b)) for a, b in payload["needs"]}
        else:  # stored before the needs were: every need is either served or explained
            needs = {(sid, x["service"]) for x in payload["sessions"] for sid in x["student_ids"]}
            needs |= {(u["student_id"], u["service"]) for u in payload.get("unmatched", [])}
        return cls(
            district_id=payload["district_id"],
            week_of=date.fromisoformat(payload["week_of"]),
            needs=frozenset(needs),
            provider_ids=tuple(payload["provider_ids"]),
            provider_slack_id=(payload.get("filters") or {}).get("provider"),
            exclude_proposal=proposal_id,
            moving=frozenset((str(x[0]), str(x[1])) for x in payload.get("rematch") or []),
        )


def fingerprint(s: Session, scope: Scope) -> str:
    """A digest of the proposal's own inputs (the module docstring lists them)."""
    h = hashlib.sha256()
    week = Week(scope.week_of)
    last_day = week.date_of(4)
    pids = sorted(scope.provider_ids)
    needs = scope.needs
    student_ids = sorted({sid for sid, _ in needs})
    disciplines = sorted({service for _, service in needs})
    district = s.get(m.District, scope.district_id)
    state = district.state if district is not None else ""
    _digest(h, [(scope.district_id, state)])

    # Its needs and their schools.
    students = list(
        s.execute(select(m.Student.id, m.Student.school_id).where(m.Student.id.in_(student_ids)))
    )
    _digest(h, students)
    services = s.execute(
        select(
            m.StudentService.student_id,
            m.StudentService.service,
            m.StudentService.sessions_per_week,
            m.StudentService.session_minutes,
            m.StudentService.group_ok,
        ).where(m.StudentService.student_id.in_(student_ids))
    )
    _digest(h, (r for r in services if (r[0], r[1]) in needs))
    schools = sorted({school for _, school in students})
    _digest(h, s.execute(select(m.School.id, m.School.timezone).where(m.School.id.in_(schools))))
    _digest(
        h,
        s.execute(
            select(
                m.SchoolHours.school_id,
                m.SchoolHours.day,
                m.SchoolHours.start_minute,
                m.SchoolHours.end_minute,
            ).where(m.SchoolHours.school_id.in_(schools))
        ),
    )
    mine = m.Assignment.proposal_id.is_(None) | (
        m.Assignment.proposal_id != (scope.exclude_proposal or "")
    )
    taken = s.execute(
        select(m.Assignment.student_id, m.Assignment.service, m.Assignment.provider_id).where(
            mine, m.Assignment.student_id.in_(student_ids)
        )
    )
    _digest(h, (r for r in taken if (r[0], r[1]) in needs and (r[0], r[1]) not in scope.moving))
    busy = student_busy(s, week, needs | scope.moving, scope.exclude_proposal)
    _digest(h, ((sid, tuple(sorted(ivs))) for sid, ivs in busy.items()))

    # Who the candidates are, then everything the matcher reads about each.
    field = select(m.Provider.id).where(
        candidate(state, last_day, disciplines, scope.provider_slack_id)
    )
    _digest(h, [tuple(sorted(s.scalars(field)))])
    _digest(
        h,
        s.execute(
            select(
                m.Provider.id,
                m.Provider.discipline,
                m.Provider.home_state,
                m.Provider.weekly_hours,
                m.Provider.removed_at,
            ).where(m.Provider.id.in_(pids))
        ),
    )
    _digest(
        h,
        s.execute(
            select(m.License.provider_id, m.License.state, m.License.expires_on)
            .join(m.Provider, m.Provider.id == m.License.provider_id)
            .where(
                m.License.provider_id.in_(pids),
                (m.License.state == state) | (m.License.state == m.Provider.home_state),
            )
        ),
    )
    sunday = week.date_of(6)
    aw = m.AvailabilityWindow
    _digest(
        h,
        s.execute(
            select(
                aw.provider_id,
                aw.day,
                aw.start_minute,
                aw.end_minute,
                aw.timezone,
                aw.effective_from,
                aw.effective_to,
            ).where(
                aw.provider_id.in_(pids),
                aw.effective_from.is_(None) | (aw.effective_from <= sunday),
                aw.effective_to.is_(None) | (aw.effective_to >= week.monday),
            )
        ),
    )
    _digest(
        h,
        s.execute(
            select(
                m.TimeOff.provider_id,
                m.TimeOff.start_date,
                m.TimeOff.end_date,
                m.TimeOff.start_minute,
                m.TimeOff.end_minute,
                m.TimeOff.timezone,
            ).where(
                m.TimeOff.provider_id.in_(pids),
                m.TimeOff.end_date >= week.monday,
                m.TimeOff.start_date <= last_day,
            )
        ),
    )
    held = s.execute(
        select(
            m.Assignment.id,
            m.Assignment.student_id,
            m.Assignment.service,
            m.Assignment.provider_id,
        ).where(mine, m.Assignment.provider_id.in_(pids))
    )
    kept = {r[0]: r[1:] for r in held if (r[1], r[2]) not in scope.moving}
    _digest(h, kept.values())
    slots = s.execute(
        select(
            m.AssignmentSlot.assignment_id,
            m.AssignmentSlot.day,
            m.AssignmentSlot.start_minute,
            m.AssignmentSlot.end_minute,
            m.AssignmentSlot.timezone,
            m.AssignmentSlot.group_key,
        )
        .join(m.Assignment, m.Assignment.id == m.AssignmentSlot.assignment_id)
        .where(mine, m.Assignment.provider_id.in_(pids))
    )
    _digest(h, ((*kept[r[0]], *r[1:]) for r in slots if r[0] in kept))
    dated = _dated_sessions(s, pids, week)
    _digest(h, ((pid, tuple(sorted(ivs))) for pid, ivs in dated.items()))
    return h.hexdigest()[:32]


def _digest(h: Any, rows: Iterable[Any]) -> None:
    h.update("\n".join(sorted(repr(tuple(r)) for r in rows)).encode())
    h.update(b"\x00")
