"""Services: coverage — how many student services each district has served, and which are not
(with the latest proposal's reason), for the App Home, the weekly digest and /caseload.

Query helpers: they take an open ``Session`` and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain import privacy
from storage import models as m
from storage.proposals import latest_proposal

NOT_MATCHED = "not matched yet"
PROPOSED = "proposed, waiting for approval"
REASONS = {
    "no_licensed_provider": "no licensed provider",
    "no_common_time": "no common time",
    "no_capacity": "no capacity",
}


# --- coverage ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DistrictCoverage:
    district_id: str
    name: str
    total: int  # student services
    served: int  # with an approved provider

    @property
    def unserved(self) -> int:
        return self.total - self.served


@dataclass(frozen=True)
class Unserved:
    student_id: str
    student: str
    service: str
    district_id: str
    district: str
    reason: str
    detail: str


def _services_by_district(s: Session) -> list[tuple[m.District, m.Student, str, bool]]:
    assigned = select(m.Assignment.id).where(
        m.Assignment.student_id == m.StudentService.student_id,
        m.Assignment.service == m.StudentService.service,
    )
    q = (
        select(m.District, m.Student, m.StudentService.service, assigned.exists())
        .join(m.School, m.School.district_id == m.District.id)
        .join(m.Student, m.Student.school_id == m.School.id)
        .join(m.StudentService, m.StudentService.student_id == m.Student.id)
        .order_by(m.District.name, m.Student.id, m.StudentService.service)
    )
    return [(d, st, svc, bool(served)) for d, st, svc, served in s.execute(q)]


def coverage(s: Session) -> list[DistrictCoverage]:
    totals: dict[str, list[int]] = {}
    names: dict[str, str] = {}
    for d in s.scalars(select(m.District).order_by(m.District.name)):
        totals[d.id], names[d.id] = [0, 0], d.name
    for d, _, _, served in _services_by_district(s):
        totals[d.id][0] += 1
        totals[d.id][1] += int(served)
    return [DistrictCoverage(did, names[did], t, sv) for did, (t, sv) in totals.items()]


def _latest_reasons(s: Session, district_id: str) -> dict[tuple[str, str], tuple[str, str]]:
    """Why each of the district's services is unserved, by its latest proposal that looked at
    every provider (a `provider=` proposal's reasons hold for that one provider only)."""
    latest = latest_proposal(s, district_id, without=("provider",))
    if latest is None:
        return {}
    reasons: dict[tuple[str, str], tuple[str, str]] = {}
    if latest.status == "pending":
        for sess in latest.payload.get("sessions", []):
            for sid in sess.get("student_ids", []):
                reasons[(str(sid), str(sess.get("service")))] = (PROPOSED, "")
    for u in latest.payload.get("unmatched", []):
        reason = str(u.get("reason", ""))
        reasons[(str(u.get("student_id")), str(u.get("service")))] = (
            REASONS.get(reason, reason.replace("_", " ")),
            str(u.get("detail", "")),
        )
    return reasons


def unserved(s: Session, show_names: bool) -> list[Unserved]:
    """Student services with no provider, with the latest proposal's reason when it gave one."""
    out: list[Unserved] = []
    reasons: dict[str, dict[tuple[str, str], tuple[str, str]]] = {}
    for d, st, service, served in _services_by_district(s):
        if served:
            continue
        if d.id not in reasons:
            reasons[d.id] = _latest_reasons(s, d.id)
        reason, detail = reasons[d.id].get((st.id, service), (NOT_MATCHED, ""))
        out.append(
            Unserved(
                st.id,
                privacy.student_label(st.id, st.first_name, st.last_name, show_names),
                service,
                d.id,
                d.name,
                reason,
                detail,
            )
        )
    return out
