"""Services: availability previews, saves, undo, and the weekly schedule view.

A preview is stored as a pending action; Save, Cancel and Undo are conditional status updates
(``pending -> applied -> undone``), so a double click, a Slack retry or a second process acts
once. Each change records who made it, the schedule before and after, in the audit log.

- `reading`: the schedule as it stands (`show`, `view_for_provider`) and the returned values;
- `preview`: understanding a message and storing what Save would do;
- `saving`: Save, Cancel and Undo, each at most once;
- `changes`: how a saved change reaches the schedule and time-off tables.
"""

from bot.services.availability.preview import Preview, preview, preview_cancel_time_off
from bot.services.availability.reading import (
    EXAMPLES,
    KIND,
    Question,
    ScheduleView,
    TimeOffSpan,
    show,
    view_for_provider,
    windows_on,
)
from bot.services.availability.saving import Saved, Undone, cancel, save, undo, undo_last

__all__ = [
    "EXAMPLES",
    "KIND",
    "Preview",
    "Question",
    "Saved",
    "ScheduleView",
    "TimeOffSpan",
    "Undone",
    "cancel",
    "preview",
    "preview_cancel_time_off",
    "save",
    "show",
    "undo",
    "undo_last",
    "view_for_provider",
    "windows_on",
]
