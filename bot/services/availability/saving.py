"""Services: Save, Cancel and Undo of an availability preview, each at most once.

Save, Cancel and Undo are conditional status updates (``pending -> applied -> undone``), so a
double click, a Slack retry or a second process acts once. Each change records who made it, the
schedule before and after, in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.services import hours_notice, schedule_effects
from bot.services.availability.changes import apply_saved_change, restore_time_off
from bot.services.availability.reading import (
    KIND,
    ScheduleView,
    schedule_view,
    take_snapshot,
    today_of,
)
from bot.services.errors import Conflict, NotAllowed, NotFound
from bot.services.people import Person, identify
from bot.services.schedule_effects import Effects
from bot.services.scope import visible_effects
from storage import models as m


@dataclass(frozen=True)
class Saved:
    pending_id: str
    already: bool
    view: ScheduleView
    summary: str
    effects: Effects = Effects()  # what the save did to the planned sessions


@dataclass(frozen=True)
class Undone:
    already: bool
    view: ScheduleView


def _claim(s: Session, pending_id: str, slack_user_id: str, frm: str, to: str, now: Any) -> bool:
    """Move the action from ``frm`` to ``to`` once; False if someone already did."""
    res = s.execute(
        update(m.PendingAction)
        .where(
            m.PendingAction.id == pending_id,
            m.PendingAction.kind == KIND,
            m.PendingAction.status == frm,
        )
        .values(status=to, decided_at=now, decided_by=slack_user_id)
    )
    return res.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def _load_pending(s: Session, pending_id: str, slack_user_id: str) -> m.PendingAction:
    action = s.get(m.PendingAction, pending_id)
    if action is None or action.kind != KIND:
        raise NotFound("That preview has expired. Please send your availability again.")
    if action.actor_slack_id != slack_user_id:
        raise NotAllowed("Only the person who asked for this change can save or undo it.")
    return action


def _lock_provider_of(s: Session, pending_id: str) -> None:
    """Locks the row of the provider a preview is about, as the transaction's first statement.

    Saves and undos of one provider then run one after another, so the fingerprint check that
    follows sees every change committed before it: of two previews saved at the same instant, the
    second is refused as changed-since-preview, and repeated clicks find the first one's result.
    PostgreSQL takes a row lock; SQLite has none, so a no-op UPDATE takes its write lock (it must
    come first: a SQLite transaction that has read cannot wait for the lock, only fail).
    """
    subject = (
        select(m.PendingAction.subject_id)
        .where(m.PendingAction.id == pending_id, m.PendingAction.kind == KIND)
        .scalar_subquery()
    )
    if s.get_bind().dialect.name == "sqlite":
        s.execute(update(m.Provider).where(m.Provider.id == subject).values(name=m.Provider.name))
    else:
        s.execute(select(m.Provider.id).where(m.Provider.id == subject).with_for_update())


def _locked_action(
    s: Session, pending_id: str, slack_user_id: str
) -> tuple[m.PendingAction, m.Provider]:
    """The caller's pending action and its provider, the provider's row locked first."""
    _lock_provider_of(s, pending_id)
    action = _load_pending(s, pending_id, slack_user_id)
    provider = s.get(m.Provider, action.subject_id)
    if provider is None:
        raise NotFound("That provider is no longer in the roster.")
    return action, provider


def save(
    deps: Deps, slack_user_id: str, pending_id: str, *, only_named_days: bool = False
) -> Saved:
    """Saves a preview once. ``only_named_days``: the [Change Tue only] choice of a replace
    that would drop other days."""
    saved = _save(deps, slack_user_id, pending_id, only_named_days)
    if saved.already:
        return saved
    if saved.effects.outside:  # committed: the managers hear of it now (or from the clock)
        schedule_effects.deliver_change_dms(deps, pending_id)
    if saved.view.on_behalf:  # and the provider, of what their manager changed
        hours_notice.deliver(deps, pending_id)
    return saved


def _save(deps: Deps, slack_user_id: str, pending_id: str, only_named_days: bool) -> Saved:
    now = deps.clock.now()
    with deps.session_factory.begin() as s:
        action, provider = _locked_action(s, pending_id, slack_user_id)
        person = identify(s, slack_user_id, deps.settings.org_timezone)
        if action.status != "pending":
            if action.status in ("applied", "undone"):
                s.refresh(action)
                view = schedule_view(s, deps, provider, action.subject_id != _provider_id(person))
                return Saved(pending_id, True, view, "Already saved.")
            raise Conflict(
                "That preview was cancelled. Send your availability again to start over."
            )
        snap = take_snapshot(s, provider.id)
        if snap.fingerprint() != action.fingerprint:
            raise Conflict(
                "Your availability changed since this preview was made, so I didn't save it. "
                "Please send the change again and I'll show a fresh preview."
            )
        if not _claim(s, pending_id, slack_user_id, "pending", "applied", now):
            view = schedule_view(s, deps, provider, False)
            return Saved(pending_id, True, view, "Already saved.")
        if only_named_days:
            action.payload = {**action.payload, "days_only": True}
        on_behalf = action.subject_id != _provider_id(person)
        before_view = schedule_view(s, deps, provider, on_behalf)
        today = today_of(deps, provider.timezone)
        summary = apply_saved_change(s, provider, action.payload, today, now)
        effects = schedule_effects.on_save(
            s, deps, provider, pending_id, snap.windows, str(action.payload["intent"])
        )
        shown = visible_effects(s, slack_user_id, provider, effects)
        after = take_snapshot(s, provider.id)
        action.payload = {
            **action.payload,
            "before": snap.windows,
            "before_time_off": snap.time_off,
            "after_fingerprint": after.fingerprint(),
        }
        s.add(
            m.AuditLog(
                at=now,
                actor=person.actor,
                action=f"availability.{action.payload['intent']}",
                subject_type="provider",
                subject_id=provider.id,
                before={"windows": snap.windows, "time_off": snap.time_off},
                after={"windows": after.windows, "time_off": after.time_off},
            )
        )
        view = schedule_view(s, deps, provider, on_behalf)
        if on_behalf:  # the provider hears what their manager changed, before → after
            hours_notice.queue(
                s, provider, _hours_changed(pending_id, person, before_view, view), now
            )
        return Saved(pending_id, False, view, summary, shown)


def _hours_changed(
    pending_id: str, manager: Person, before: ScheduleView, after: ScheduleView
) -> hours_notice.HoursChanged:
    def weeks(v: ScheduleView) -> tuple[hours_notice.Week, ...]:
        return ((None, v.windows), *v.upcoming)

    return hours_notice.HoursChanged(
        pending_id,
        manager.name,
        after.tz,
        weeks(before),
        weeks(after),
        before.time_off,
        after.time_off,
    )


def _provider_id(person: Person) -> str | None:
    return person.provider.id if person.provider else None


def cancel(deps: Deps, slack_user_id: str, pending_id: str) -> bool:
    with deps.session_factory.begin() as s:
        _load_pending(s, pending_id, slack_user_id)
        return _claim(s, pending_id, slack_user_id, "pending", "cancelled", deps.clock.now())


def undo(deps: Deps, slack_user_id: str, pending_id: str) -> Undone:
    undone = _undo(deps, slack_user_id, pending_id)
    if not undone.already and undone.view.on_behalf:  # the provider hears of it, as of the save
        hours_notice.deliver(deps, f"{pending_id}.undo")
    return undone


def _undo(deps: Deps, slack_user_id: str, pending_id: str) -> Undone:
    now = deps.clock.now()
    with deps.session_factory.begin() as s:
        action, provider = _locked_action(s, pending_id, slack_user_id)
        person = identify(s, slack_user_id, deps.settings.org_timezone)
        on_behalf = action.subject_id != _provider_id(person)
        if action.status == "undone":
            return Undone(True, schedule_view(s, deps, provider, on_behalf))
        if action.status != "applied":
            raise Conflict("There is nothing to undo: that change was never saved.")
        current = take_snapshot(s, provider.id)
        if current.fingerprint() != action.payload.get("after_fingerprint"):
            raise Conflict(
                "Your availability has changed again since then, so I can't undo this one. "
                "Send the schedule you want and I'll replace it."
            )
        if not _claim(s, pending_id, slack_user_id, "applied", "undone", now):
            return Undone(True, schedule_view(s, deps, provider, on_behalf))
        before_view = schedule_view(s, deps, provider, on_behalf)
        s.execute(
            delete(m.AvailabilityWindow).where(m.AvailabilityWindow.provider_id == provider.id)
        )
        for day, start, end, tz, frm, to in action.payload["before"]:
            s.add(
                m.AvailabilityWindow(
                    provider_id=provider.id,
                    day=day,
                    start_minute=start,
                    end_minute=end,
                    timezone=tz,
                    effective_from=date.fromisoformat(frm) if frm else None,
                    effective_to=date.fromisoformat(to) if to else None,
                )
            )
        restore_time_off(s, provider.id, action.payload.get("before_time_off", []), now)
        schedule_effects.on_undo(s, deps, provider)
        after = take_snapshot(s, provider.id)
        s.add(
            m.AuditLog(
                at=now,
                actor=person.actor,
                action="availability.undo",
                subject_type="provider",
                subject_id=provider.id,
                before={"windows": current.windows, "time_off": current.time_off},
                after={"windows": after.windows, "time_off": after.time_off},
            )
        )
        view = schedule_view(s, deps, provider, on_behalf)
        if on_behalf:
            changed = _hours_changed(f"{pending_id}.undo", person, before_view, view)
            hours_notice.queue(s, provider, changed, now)
        return Undone(False, view)


def undo_last(deps: Deps, slack_user_id: str) -> Undone | None:
    """ "undo" in a DM: the person's most recent saved availability change, if any."""
    with deps.session_factory() as s:
        q = (
            select(m.PendingAction.id)
            .where(
                m.PendingAction.kind == KIND,
                m.PendingAction.actor_slack_id == slack_user_id,
                m.PendingAction.status == "applied",
            )
            .order_by(m.PendingAction.decided_at.desc())
            .limit(1)
        )
        pending_id = s.scalar(q)
    return None if pending_id is None else undo(deps, slack_user_id, pending_id)
