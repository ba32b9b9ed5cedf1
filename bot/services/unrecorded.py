"""Services: weekly-slot dates that passed with nothing recorded become sessions, so they are
debts like any other.

An approved weekly slot promises a session on each of its dates. When a date's grace to be
marked is over and no session is on file for it at all (the bot was down, the slot was approved
after the date's session would have been made, a generated session was removed), the sweeper
writes one: cancelled, reason ``not_recorded``, under the slot's own session key, so it is owed
(make-up DM with [Schedule make-up], owed totals, the manager's views and digest, the service
log as a missed slot), a held make-up pays it back, and the provider can still mark it held if it
did happen. The same dates the minutes rule counts (``unrecorded_dates``): the school open, the
service active and approved, the student not exited. Safe to repeat: the key is unique.

Each run first withdraws the rows of its months whose date has a session on file by now (moved
there, or imported; the roster import withdraws those it answers itself):
``storage.not_recorded``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain.minutes import NOT_RECORDED, Month
from bot.domain.schedule import local_date
from bot.domain.sessions import session_key
from bot.domain.vocabulary import SessionStatus
from bot.services.minutes_calendar import (
    calendar_of,
    service_ends,
    unmarked_cutoff,
    unrecorded_dates,
)
from bot.settings import Settings
from storage import minutes as q
from storage import models as m
from storage import outbox
from storage.not_recorded import withdraw_superseded

log = logging.getLogger(__name__)

TS = m.TherapySession
ACTOR = "makeups-job"


def months_to_sweep(now: datetime, settings: Settings) -> list[Month]:
    """This month and the one before (in the organisation's zone): a date's grace ends at most
    a few days after it, and the sweeper runs every few minutes."""
    this = Month.of(local_date(now, settings.org_timezone))
    before = Month.of(this.first - timedelta(days=1))
    return [before, this]


def unrecorded_rows(s: Session, now: datetime, settings: Settings) -> list[dict[str, object]]:
    """The sessions to write for the slot dates with nothing on file (not written here)."""
    scope = q.Scope()
    slots = q.slot_rows(s, scope)
    if not slots:
        return []
    services = q.service_rows(s, scope)
    dates = {(r.student_id, r.service): (r.starts_on, service_ends(r)) for r in services}
    schools = {r.school_id for r in services}
    cutoff = unmarked_cutoff(now, settings)
    rows: list[dict[str, object]] = []
    for month in months_to_sweep(now, settings):
        calendar = calendar_of(s, scope, schools, month, now, settings)
        for slot, day in unrecorded_dates(s, scope, slots, month, calendar, dates, cutoff):
            midnight = datetime.combine(day, time(0), ZoneInfo(slot.timezone))
            rows.append(
                {
                    "session_key": session_key(slot.slot_id, slot.group_key, day),
                    "provider_id": slot.provider_id,
                    "student_id": slot.student_id,
                    "service": slot.service,
                    "starts_at": (midnight + timedelta(minutes=slot.start_minute)).astimezone(UTC),
                    "minutes": slot.minutes,
                    "status": SessionStatus.CANCELLED,
                    "cancel_reason": NOT_RECORDED,
                    "note_done_at": None,
                    "makeup": False,
                }
            )
    return rows


def record_unrecorded(deps: Deps, now: datetime) -> int:
    """Withdraw the ``not_recorded`` sessions of the months swept whose date has its session on
    file by now, then write one for every slot date past its grace with nothing on file;
    returns how many were new."""
    first = months_to_sweep(now, deps.settings)[0].first - timedelta(days=1)  # any zone's
    with deps.session_factory.begin() as s:
        since = datetime.combine(first, time(0), UTC)
        withdrawn = withdraw_superseded(s, now, ACTOR, since=since)
        rows = unrecorded_rows(s, now, deps.settings)
        created = outbox.insert_ignore(s, TS, rows, ["session_key", "student_id"], returning=TS.id)
    log.info(
        "minutes.unrecorded_recorded", extra={"new": len(created), "withdrawn": len(withdrawn)}
    )
    return len(created)
