"""Views: ``to_dicts`` serialises slack_sdk's Block Kit models exactly as their own ``to_dict``
does, with the same checks (a text over Slack's limit still raises)."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    ImageElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    OptionGroup,
    PlainTextInputElement,
    PlainTextObject,
    RichTextBlock,
    RichTextSectionElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.views.blocks import plain, to_dicts


def every_kind() -> list[Block]:
    options = [Option(text=PlainTextObject(text=f"o{i}"), value=str(i)) for i in range(3)]
    return [
        HeaderBlock(text="Your week"),
        SectionBlock(
            block_id="s1",
            text=MarkdownTextObject(text="*Tue* 8:00–11:00"),
            fields=[MarkdownTextObject(text="a"), PlainTextObject(text="b", emoji=True)],
            accessory=ButtonElement(
                text="Save",
                action_id="save",
                value="p-1",
                style="primary",
                confirm=ConfirmObject(title="Sure?", text="It replaces your week."),
            ),
        ),
        DividerBlock(),
        ContextBlock(
            elements=[
                MarkdownTextObject(text="In AKT time"),
                ImageElement(image_url="https://example.com/a.png", alt_text="a"),
            ]
        ),
        ActionsBlock(
            block_id="availability_actions",
            elements=[
                ButtonElement(text="Save", action_id="a", value="1"),
                ButtonElement(text="Cancel", action_id="b", value="1"),
                StaticSelectElement(action_id="c", options=options, initial_option=options[1]),
                StaticSelectElement(
                    action_id="d", option_groups=[OptionGroup(label="g", options=options)]
                ),
            ],
        ),
        InputBlock(
            block_id="i",
            label="Subjective",
            element=PlainTextInputElement(action_id="t", multiline=True, max_length=3000),
            optional=True,
        ),
        RichTextBlock(elements=[RichTextSectionElement(elements=[])]),
        SectionBlock(text="plain text section", fields=[]),
    ]


def test_every_kind_of_block_serialises_as_slack_sdk_does() -> None:
    blocks = every_kind()
    assert to_dicts(blocks) == [b.to_dict() for b in blocks]
    view = View(type="modal", title="SOAP", blocks=blocks, private_metadata="x")
    assert plain(view) == view.to_dict()  # a class with its own to_dict is left to it


@pytest.mark.parametrize(
    "block",
    [
        SectionBlock(text=MarkdownTextObject(text="x" * 3001)),
        SectionBlock(block_id="b" * 256, text="x"),
        ActionsBlock(elements=[ButtonElement(text="t", action_id="a" * 256, value="v")]),
        HeaderBlock(text="h" * 151),
    ],
)
def test_the_same_checks_refuse_what_slack_would(block: Block) -> None:
    with pytest.raises(SlackObjectFormationError) as theirs:
        block.to_dict()
    with pytest.raises(SlackObjectFormationError) as ours:
        to_dicts([block])
    assert str(ours.value) == str(theirs.value)
