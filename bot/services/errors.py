"""Services: typed errors whose message is a plain sentence for the person who asked."""

from __future__ import annotations


class UserFacingError(Exception):
    """An error whose message may be shown to the user as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAllowed(UserFacingError):
    """The person may not do this (role or ownership)."""


class NotFound(UserFacingError):
    """What was named does not exist (district, student, proposal...)."""


class InvalidInput(UserFacingError):
    """The input cannot be used as it stands; the message says how to fix it."""


class Conflict(UserFacingError):
    """Someone else already did it, or the thing changed under us."""


class Unavailable(UserFacingError):
    """A dependency (the database, Slack) is down for the moment."""

    def __init__(
        self, message: str = "I can't reach my database right now. Please try again in a moment."
    ) -> None:
        super().__init__(message)
