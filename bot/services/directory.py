"""Services: who is in the roster with a Slack account, for the console's /who and /as."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from bot.deps import Deps
from storage import models as m


@dataclass(frozen=True)
class Member:
    slack_user_id: str
    name: str
    manager: bool
    discipline: str | None = None  # providers only
    timezone: str | None = None


@dataclass(frozen=True)
class Directory:
    managers: tuple[Member, ...]
    providers: tuple[Member, ...]


def directory(deps: Deps) -> Directory:
    """Everyone with a Slack account, managers and providers, in roster order."""
    with deps.session_factory() as s:
        providers = s.execute(
            select(
                m.Provider.slack_user_id,
                m.Provider.name,
                m.Provider.discipline,
                m.Provider.timezone,
            )
            .where(m.Provider.slack_user_id.is_not(None))
            .order_by(m.Provider.id)
        ).all()
        managers = s.execute(
            select(m.Manager.slack_user_id, m.Manager.name)
            .where(m.Manager.slack_user_id.is_not(None))
            .order_by(m.Manager.id)
        ).all()
    return Directory(
        managers=tuple(Member(str(u), n, True) for u, n in managers),
        providers=tuple(Member(str(u), n, False, d, tz) for u, n, d, tz in providers),
    )


def member(deps: Deps, slack_user_id: str) -> Member | None:
    """The manager or provider with this Slack account (a manager first), or None."""
    with deps.session_factory() as s:
        mg = s.scalars(select(m.Manager).where(m.Manager.slack_user_id == slack_user_id)).first()
        if mg is not None:
            return Member(slack_user_id, mg.name, True)
        p = s.scalars(select(m.Provider).where(m.Provider.slack_user_id == slack_user_id)).first()
        if p is not None:
            return Member(slack_user_id, p.name, False, p.discipline, p.timezone)
    return None


def first_provider(deps: Deps) -> str | None:
    """The Slack account of the first provider in the roster, if any."""
    with deps.session_factory() as s:
        return s.scalars(
            select(m.Provider.slack_user_id)
            .where(m.Provider.slack_user_id.is_not(None))
            .order_by(m.Provider.id)
        ).first()


def roster_is_empty(deps: Deps) -> bool:
    with deps.session_factory() as s:
        return not s.scalar(select(func.count()).select_from(m.District))
