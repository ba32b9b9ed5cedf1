"""Wiring tests: Block Kit renders as readable terminal text with numbered choices."""

from __future__ import annotations

from typing import Any

import pytest

from devtools.blocks_text import (
    DIVIDER,
    Button,
    InputField,
    action_payload,
    mrkdwn_to_text,
    render_message,
    render_view,
)


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text), "value": value}


PREVIEW_BLOCKS: list[dict[str, Any]] = [
    {"type": "header", "text": plain("Check your availability")},
    {
        "type": "section",
        "text": mrkdwn("I read *Tue 8:00–11:00* in _Pacific time_:\n• Tuesday 08:00–11:00"),
    },
    {"type": "context", "elements": [mrkdwn("Replaces what you had. Zone: America/Los_Angeles")]},
    {
        "type": "actions",
        "block_id": "avail_preview",
        "elements": [
            {
                "type": "button",
                "action_id": "avail_save",
                "text": plain("Save"),
                "style": "primary",
                "value": "draft-7",
            },
            {
                "type": "button",
                "action_id": "avail_cancel",
                "text": plain("Cancel"),
                "value": "draft-7",
            },
        ],
    },
]


def test_preview_with_save_and_cancel() -> None:
    shown = render_message(text="Check your availability", blocks=PREVIEW_BLOCKS)

    assert shown.text == "\n".join(
        [
            "Check your availability",
            "═══════════════════════",
            "I read Tue 8:00–11:00 in Pacific time:",
            "• Tuesday 08:00–11:00",
            "Replaces what you had. Zone: America/Los_Angeles",
            "[1] Save  [2] Cancel",
        ]
    )
    assert shown.buttons == (
        Button(1, "Save", "avail_save", "avail_preview", "draft-7", "primary", "button"),
        Button(2, "Cancel", "avail_cancel", "avail_preview", "draft-7", None, "button"),
    )


def test_numbers_continue_from_start_number() -> None:
    shown = render_message(text=None, blocks=PREVIEW_BLOCKS, start_number=7)

    assert [b.number for b in shown.buttons] == [7, 8]
    assert shown.text.endswith("[7] Save  [8] Cancel")


def test_text_only_message_renders_its_mrkdwn() -> None:
    shown = render_message(text="Saved *Tue 8-11* for <@U0ALICE>", blocks=None)

    assert shown == render_message(text="Saved *Tue 8-11* for <@U0ALICE>", blocks=[])
    assert shown.text == "Saved Tue 8-11 for @U0ALICE"
    assert shown.buttons == ()


HOME_VIEW: dict[str, Any] = {
    "type": "home",
    "blocks": [
        {"type": "header", "text": plain("Your caseload")},
        {
            "type": "section",
            "block_id": "student_S123",
            "text": mrkdwn("*A.B.* (S123) · Speech"),
            "fields": [mrkdwn("*School*\nNorth Elementary"), mrkdwn("*IEP due*\n2024-05-01")],
            "accessory": {
                "type": "button",
                "action_id": "soap_open",
                "text": plain("Log SOAP"),
                "value": "S123",
            },
        },
        {"type": "context", "elements": [mrkdwn("Last session Tue"), mrkdwn("3 this month")]},
        {"type": "divider"},
        {"type": "section", "text": mrkdwn("No deadlines this week :tada:")},
    ],
}


def test_home_view_with_sections_fields_context_and_divider() -> None:
    shown = render_view(HOME_VIEW)

    assert shown.text == "\n".join(
        [
            "Home",
            "════",
            "",
            "Your caseload",
            "═════════════",
            "A.B. (S123) · Speech  [1] Log SOAP",
            "  School",
            "  North Elementary",
            "  IEP due",
            "  2024-05-01",
            "Last session Tue  3 this month",
            DIVIDER,
            "No deadlines this week :tada:",
        ]
    )
    (log_soap,) = shown.buttons  # a Home tab has no submit or close
    assert (log_soap.action_id, log_soap.block_id, log_soap.value) == (
        "soap_open",
        "student_S123",
        "S123",
    )


MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "avail_modal",
    "title": plain("Set availability"),
    "submit": plain("Save"),
    "close": plain("Not now"),
    "blocks": [
        {"type": "section", "text": mrkdwn("Say when you can see students.")},
        {
            "type": "input",
            "block_id": "avail_text",
            "label": plain("When are you free?"),
            "hint": plain("Your own time zone unless you name one"),
            "element": {
                "type": "plain_text_input",
                "action_id": "value",
                "multiline": True,
                "placeholder": plain("Tue 8-11 PT"),
            },
        },
        {
            "type": "input",
            "block_id": "service",
            "optional": True,
            "label": plain("Service"),
            "element": {
                "type": "static_select",
                "action_id": "pick",
                "options": [option("Speech", "slp"), option("Occupational therapy", "ot")],
                "initial_option": option("Speech", "slp"),
            },
        },
        {
            "type": "input",
            "block_id": "starts",
            "label": plain("Starting"),
            "element": {"type": "datepicker", "action_id": "date", "initial_date": "2024-09-03"},
        },
    ],
}


def test_modal_shows_inputs_and_numbers_submit_and_close() -> None:
    shown = render_view(MODAL, start_number=4)

    assert shown.text == "\n".join(
        [
            "Set availability",
            "════════════════",
            "Say when you can see students.",
            "[When are you free?] (required) text, several lines — avail_text/value",
            "  e.g. Tue 8-11 PT",
            "  (Your own time zone unless you name one)",
            "[Service] (optional) choose one — service/pick",
            "  - Speech  (selected)",
            "  - Occupational therapy",
            "[Starting] (required) date YYYY-MM-DD — starts/date",
            "  now: 2024-09-03",
            DIVIDER,
            "[4] Save  [5] Not now",
        ]
    )
    assert [(b.number, b.label, b.kind) for b in shown.buttons] == [
        (4, "Save", "submit"),
        (5, "Not now", "close"),
    ]
    assert shown.inputs == (
        InputField("When are you free?", "avail_text", "value", "plain_text_input", False, True),
        InputField(
            "Service",
            "service",
            "pick",
            "static_select",
            True,
            initial=("slp",),
            options=(("Speech", "slp"), ("Occupational therapy", "ot")),
        ),
        InputField("Starting", "starts", "date", "datepicker", False, initial=("2024-09-03",)),
    )


def test_modal_without_submit_offers_close_only() -> None:
    shown = render_view({"type": "modal", "title": plain("Done"), "blocks": []})

    assert shown.text.splitlines()[-1] == "[1] Cancel"
    assert [b.kind for b in shown.buttons] == ["close"]


def test_select_options_are_numbered_choices_in_order_of_appearance() -> None:
    blocks = [
        {
            "type": "actions",
            "block_id": "slot_pick",
            "elements": [
                {"type": "button", "action_id": "refresh", "text": plain("Refresh")},
                {
                    "type": "static_select",
                    "action_id": "slot",
                    "placeholder": plain("Pick a slot"),
                    "option_groups": [
                        {"label": plain("Tuesday"), "options": [option("Tue 9:00", "tue-0900")]},
                        {"label": plain("Wednesday"), "options": [option("Wed 10:00", "wed-1000")]},
                    ],
                },
                {"type": "button", "action_id": "skip", "text": plain("Skip"), "style": "danger"},
            ],
        },
        {
            "type": "section",
            "block_id": "row",
            "text": mrkdwn("Review held"),
            "accessory": {
                "type": "overflow",
                "action_id": "row_more",
                "options": [option("Snooze", "snooze"), option("Done", "done")],
            },
        },
    ]

    shown = render_message(text=None, blocks=blocks)

    assert shown.text == "\n".join(
        [
            "[1] Refresh",
            "Pick a slot:",
            "  [2] Tue 9:00",
            "  [3] Wed 10:00",
            "[4] Skip",
            "Review held",
            "More:",
            "  [5] Snooze",
            "  [6] Done",
        ]
    )
    labels = [(b.number, b.label, b.kind, b.value) for b in shown.buttons]
    assert labels == [
        (1, "Refresh", "button", None),
        (2, "Pick a slot: Tue 9:00", "static_select", "tue-0900"),
        (3, "Pick a slot: Wed 10:00", "static_select", "wed-1000"),
        (4, "Skip", "button", None),
        (5, "More: Snooze", "overflow", "snooze"),
        (6, "More: Done", "overflow", "done"),
    ]
    assert shown.buttons[3].style == "danger"


def test_image_rich_text_link_button_and_unknown_blocks() -> None:
    blocks = [
        {"type": "image", "image_url": "https://x/chart.png", "alt_text": "Caseload by week"},
        {
            "type": "rich_text",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [
                        {"type": "text", "text": "Hi "},
                        {"type": "user", "user_id": "U0ALICE"},
                        {"type": "emoji", "name": "wave", "unicode": "1f44b"},
                        {"type": "text", "text": "\n"},
                    ],
                },
                {
                    "type": "rich_text_list",
                    "style": "ordered",
                    "elements": [
                        {"type": "rich_text_section", "elements": [{"type": "text", "text": "a"}]},
                        {
                            "type": "rich_text_section",
                            "elements": [{"type": "link", "url": "https://x.org", "text": "b"}],
                        },
                    ],
                },
                {
                    "type": "rich_text_preformatted",
                    "elements": [{"type": "text", "text": "Tue 8-11"}],
                },
            ],
        },
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "help",
                    "text": plain("Help"),
                    "url": "https://example.org/help",
                },
                {"type": "users_select", "action_id": "who", "placeholder": plain("Pick someone")},
            ],
        },
        {"type": "video", "title": plain("Intro")},
    ]

    shown = render_message(text=None, blocks=blocks)

    assert shown.text == "\n".join(
        [
            "[image: Caseload by week]",
            "Hi @U0ALICE👋",
            "1. a",
            "2. b (https://x.org)",
            "    Tue 8-11",
            "[1] Help (https://example.org/help)  [Pick someone — not available in the console]",
            "[video block not shown]",
        ]
    )
    assert shown.buttons[0].url == "https://example.org/help"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("*bold* and _italic_ and ~gone~", "bold and italic and gone"),
        (
            "<https://example.org/a?x=1&amp;y=2|the guide>",
            "the guide (https://example.org/a?x=1&y=2)",
        ),
        ("<https://example.org>", "https://example.org"),
        ("<@U123> and <@U456|ana>", "@U123 and @ana"),
        ("<#C123|caseload> <#C999>", "#caseload #C999"),
        ("<!here> <!channel> <!subteam^S1|@slps>", "@here @channel @slps"),
        ("<!date^1700000000^{date_short}|Nov 14>", "Nov 14"),
        ("a &lt;b&gt; &amp; c", "a <b> & c"),
        ("&amp;lt; stays escaped once", "&lt; stays escaped once"),
        ("snake_case_id and 2*3*4", "snake_case_id and 2*3*4"),
        ("`*not bold*` and ```\n_kept_\n```", "*not bold* and _kept_"),
        ("*<https://x.org|linked>*", "linked (https://x.org)"),
        ("A.B. (S123) &gt; review", "A.B. (S123) > review"),
        ("* not bold *", "* not bold *"),
    ],
)
def test_mrkdwn_to_text(source: str, expected: str) -> None:
    assert mrkdwn_to_text(source) == expected


def test_action_payload_is_what_slack_sends_for_the_pressed_choice() -> None:
    shown = render_message(
        text=None,
        blocks=[
            *PREVIEW_BLOCKS,
            {
                "type": "actions",
                "block_id": "pick",
                "elements": [
                    {
                        "type": "static_select",
                        "action_id": "slot",
                        "placeholder": plain("Pick a slot"),
                        "options": [option("Tue 9:00", "tue-0900")],
                    },
                    {
                        "type": "checkboxes",
                        "action_id": "days",
                        "options": [option("Monday", "mon")],
                    },
                ],
            },
        ],
    )
    save, _cancel, slot, monday = shown.buttons

    assert action_payload(save) == {
        "action_id": "avail_save",
        "block_id": "avail_preview",
        "type": "button",
        "text": plain("Save"),
        "value": "draft-7",
        "style": "primary",
    }
    assert action_payload(slot) == {
        "action_id": "slot",
        "block_id": "pick",
        "type": "static_select",
        "selected_option": {"text": plain("Tue 9:00"), "value": "tue-0900"},
    }
    assert action_payload(monday)["selected_options"] == [{"text": plain("Monday"), "value": "mon"}]
    submit = render_view(MODAL).buttons[0]
    with pytest.raises(ValueError, match="submit"):
        action_payload(submit)
