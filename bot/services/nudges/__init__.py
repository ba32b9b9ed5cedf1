"""Services: deadline nudges — sweeps that queue what is due, delivery that sends it exactly once,
and the buttons on a nudge DM.

The ``nudges`` table is both the ledger and the outbox (``storage.outbox``). A sweep turns the
roster into items (rule, subject, due date, stage, recipient), each under a unique key, and
queues the ones not yet there. Delivery then claims due rows per recipient with a lease, commits
the claim, sends one DM per recipient combining all their items through the ``Notifier`` port,
and marks the rows sent. No row lock is held across a Slack call; a failed send releases the
claim so the next run retries it.

Before sending, each row is checked against today's data: a review marked held, a renewed
licence, a note written, or a later stage due make the row obsolete, and it is skipped (never
sent). Managers are not DMed from here: what is overdue reaches them in their weekly digest
(``bot.services.digest``), every week until it is resolved.

Every use case owns its transactions. Rules live in ``bot.domain.deadlines``; the DM's layout is
``bot.views``' business, so this package never builds text or Block Kit. Modules:

* ``sweeps``: one sweep per rule;
* ``delivery``: claim, send, mark sent; ``compose``: what a DM says, checked against today;
* ``messages``: the DM's contents as plain values; ``buttons``: review held and snooze.
"""

from bot.services.nudges.buttons import ReviewHeld, Snoozed, mark_review_held, snooze
from bot.services.nudges.common import policy_of
from bot.services.nudges.compose import provider_overdue_notes
from bot.services.nudges.delivery import (
    DeliveryReport,
    RunReport,
    default_worker_id,
    deliver,
    run_once,
)
from bot.services.nudges.messages import (
    DeadlineLine,
    LicenceLine,
    NewStudentLine,
    NewStudents,
    NoteLine,
    Notice,
    NudgeMessage,
)
from bot.services.nudges.sweeps import (
    SWEEPS,
    sweep_annual_reviews,
    sweep_licences,
    sweep_soap_notes,
    sweep_triennials,
)

__all__ = [
    "SWEEPS",
    "DeadlineLine",
    "DeliveryReport",
    "LicenceLine",
    "NewStudentLine",
    "NewStudents",
    "NoteLine",
    "Notice",
    "NudgeMessage",
    "ReviewHeld",
    "RunReport",
    "Snoozed",
    "default_worker_id",
    "deliver",
    "mark_review_held",
    "policy_of",
    "provider_overdue_notes",
    "run_once",
    "snooze",
    "sweep_annual_reviews",
    "sweep_licences",
    "sweep_soap_notes",
    "sweep_triennials",
]
