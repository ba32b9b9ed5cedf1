"""Domain: why a session did not happen as planned, as stored in ``sessions.cancel_reason``.

Each value is the stored text, so a member compares equal to it. Who bears the loss follows
from the reason (a provider's cancellation or time off is owed to the student as a make-up; a
closed school or an exited student is not), and that rule lives with the minutes work.
"""

from __future__ import annotations

from enum import StrEnum


class CancelReason(StrEnum):
    PROVIDER = "provider"  # the provider cancelled
    SCHOOL = "school"  # the school cancelled (an assembly, a test day)
    STUDENT_ABSENT = "student_absent"
    PROVIDER_OUT = "provider_out"  # inside the provider's time off
    STUDENT_EXITED = "student_exited"  # the student left the roster
    SCHOOL_CLOSED = "school_closed"  # the school calendar says closed
    LICENCE_ENDED = "licence_ended"  # the provider's licence for the student's state ended
    PROVIDER_REMOVED = "provider_removed"  # the provider left the roster
