"""Slack edge: the make-up form (suggested times) and its confirmation, as pure builders."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ContextBlock, InputBlock, Option, SectionBlock
from slack_sdk.models.blocks.block_elements import StaticSelectElement
from slack_sdk.models.views import View

from bot.domain.labels import service_label, zone_abbr
from bot.services.makeups import Booked, MakeupOptions, MakeupSlot
from bot.views.format import bold
from bot.views.makeups import MakeupIds
from handlers.caseload_blocks import md
from handlers.common import escape


def slot_label(slot: MakeupSlot) -> str:
    """``Tue Dec 22 09:00 AKST`` in the school's zone, plus the provider's own when it differs."""
    school = slot.starts_at.astimezone(ZoneInfo(slot.school_tz))
    text = f"{school:%a %b %-d %H:%M} {zone_abbr(slot.school_tz)}"
    if slot.provider_tz != slot.school_tz:
        own = slot.starts_at.astimezone(ZoneInfo(slot.provider_tz))
        if own.utcoffset() != school.utcoffset():
            text += f" ({own:%H:%M} {zone_abbr(slot.provider_tz)})"
    return text


def options_view(o: MakeupOptions) -> View:
    missed = o.missed_at.astimezone(ZoneInfo(o.school_tz))
    head = SectionBlock(
        text=md(
            f"{bold(escape(o.student))} · {service_label(o.service)} · {o.minutes} min, missed "
            f"{missed:%a %b %-d %H:%M} {zone_abbr(o.school_tz)}"
        )
    )
    if not o.slots:
        return View(
            type="modal",
            title="Schedule make-up",
            close="Close",
            blocks=[
                head,
                SectionBlock(
                    text=md(
                        "No time in the next 2 weeks fits the school's hours, your availability, "
                        "your other sessions and your weekly hours. Add availability "
                        "(`/availability add …`) and try again, or ask your manager."
                    )
                ),
            ],
        )
    return View(
        type="modal",
        callback_id=MakeupIds.CALLBACK,
        private_metadata=str(o.missed_session_id),
        title="Schedule make-up",
        submit="Book it",
        close="Cancel",
        blocks=[
            head,
            InputBlock(
                block_id=MakeupIds.TIME_BLOCK,
                label="Time (school's zone)",
                element=StaticSelectElement(
                    action_id=MakeupIds.TIME_SELECT,
                    placeholder="Choose a time",
                    options=[Option(text=slot_label(s), value=s.value) for s in o.slots],
                ),
            ),
            ContextBlock(
                elements=[
                    md(
                        "Only times in the next 2 weeks that fit the school's hours, your "
                        "availability, your other sessions and your weekly hours."
                    )
                ]
            ),
        ],
    )


def booked_view(b: Booked) -> View:
    return View(
        type="modal",
        title="Make-up booked",
        close="Done",
        blocks=[
            SectionBlock(
                text=md(
                    f"Booked: {bold(escape(b.student))} · {service_label(b.service)}, "
                    f"{slot_label(b.slot)}. It's in your sessions now; mark it held when it's done."
                )
            )
        ],
    )
