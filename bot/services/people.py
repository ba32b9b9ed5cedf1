"""Services: who a Slack user is in the roster (provider, manager, both, or nobody)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from bot.services.errors import NotAllowed, NotFound, UserFacingError
from storage import models as m

NOT_IN_ROSTER = (
    "I don't have you in the roster yet, so I can't save anything for you. "
    "Please ask your provider-success manager to add your Slack account."
)


@dataclass(frozen=True)
class Person:
    slack_user_id: str
    provider: m.Provider | None
    manager: m.Manager | None
    org_timezone: str

    @property
    def known(self) -> bool:
        return self.provider is not None or self.manager is not None

    @property
    def is_manager(self) -> bool:
        return self.manager is not None

    @property
    def name(self) -> str:
        if self.provider is not None:
            return self.provider.name
        if self.manager is not None:
            return self.manager.name
        return self.slack_user_id

    @property
    def timezone(self) -> str:
        if self.provider is not None:
            return self.provider.timezone
        if self.manager is not None and self.manager.timezone:
            return self.manager.timezone
        return self.org_timezone

    @property
    def actor(self) -> str:
        """How the audit log names this person."""
        if self.manager is not None:
            return f"manager:{self.manager.id}"
        if self.provider is not None:
            return f"provider:{self.provider.id}"
        return f"slack:{self.slack_user_id}"


# Built once: every request identifies its sender, and building a statement costs more CPU
# than running this one.
_PROVIDER_AND_MANAGER = (
    select(m.Provider, m.Manager)
    .outerjoin(m.Manager, m.Manager.slack_user_id == m.Provider.slack_user_id)
    .where(m.Provider.slack_user_id == bindparam("slack_user_id"))
)
_MANAGER = select(m.Manager).where(m.Manager.slack_user_id == bindparam("slack_user_id"))


def identify(s: Session, slack_user_id: str, org_timezone: str) -> Person:
    # One round-trip for a provider (with the manager row of the same person, if any); a
    # manager who is no provider costs a second.
    params = {"slack_user_id": slack_user_id}
    row = s.execute(_PROVIDER_AND_MANAGER, params).one_or_none()
    if row is not None:
        return Person(slack_user_id, row[0], row[1], org_timezone)
    manager = s.scalars(_MANAGER, params).one_or_none()
    return Person(slack_user_id, None, manager, org_timezone)


def require_known(person: Person) -> None:
    if not person.known:
        raise NotAllowed(NOT_IN_ROSTER)


def require_manager(person: Person, what: str) -> None:
    require_known(person)
    if not person.is_manager:
        raise NotAllowed(f"Only provider-success managers can {what}.")


def acting_on(
    s: Session,
    person: Person,
    target_slack_id: str | None,
    *,
    not_a_provider: UserFacingError,
    only_own: str,
) -> m.Provider:
    """The provider ``person`` acts on: themselves, or (managers only) the one they named.

    ``not_a_provider`` is raised for a manager who names nobody; ``only_own`` refuses a
    provider who names someone else.
    """
    require_known(person)
    if target_slack_id is None or target_slack_id == person.slack_user_id:
        if person.provider is None:
            raise not_a_provider
        return person.provider
    if not person.is_manager:
        raise NotAllowed(only_own)
    target = s.scalars(
        select(m.Provider).where(m.Provider.slack_user_id == target_slack_id)
    ).one_or_none()
    if target is None:
        raise NotFound(f"<@{target_slack_id}> is not a provider in the roster.")
    return target


def provider_for_edit(s: Session, person: Person, target_slack_id: str | None) -> m.Provider:
    """The provider whose availability ``person`` may edit, or a polite refusal."""
    return acting_on(
        s,
        person,
        target_slack_id,
        not_a_provider=NotAllowed(
            "You're in the roster as a manager, not a provider. To set a provider's "
            "availability, name them: `/availability @someone Tue 8-11 PT`."
        ),
        only_own="You can only change your own availability.",
    )
