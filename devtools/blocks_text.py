"""Development tools: render Block Kit messages and views as plain text for the console.

Pure and standard-library only. Every element a person can press (buttons, each option of a
select, overflow or radio group, a modal's submit and close) becomes a numbered ``Button``,
numbered consecutively in order of appearance, so a console can say "press 2". Input blocks also
come back as ``InputField`` descriptions so a console can ask for their values and build the
``view_submission`` state. ``action_payload`` turns a pressed ``Button`` into the action object
Slack would put in a ``block_actions`` payload.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

DIVIDER = "─" * 40

# Element types whose options the renderer can list as choices.
_OPTION_ELEMENTS = frozenset(
    {"static_select", "multi_static_select", "radio_buttons", "checkboxes", "overflow"}
)
# Human words for an input's element, shown after its label.
_INPUT_KINDS = {
    "plain_text_input": "text",
    "rich_text_input": "text",
    "number_input": "number",
    "email_text_input": "email address",
    "url_text_input": "web address",
    "static_select": "choose one",
    "external_select": "choose one (searched)",
    "multi_static_select": "choose any",
    "multi_external_select": "choose any (searched)",
    "radio_buttons": "choose one",
    "checkboxes": "tick any",
    "datepicker": "date YYYY-MM-DD",
    "timepicker": "time HH:MM",
    "datetimepicker": "date and time",
    "users_select": "a Slack user id",
    "multi_users_select": "Slack user ids",
    "conversations_select": "a conversation id",
    "multi_conversations_select": "conversation ids",
    "channels_select": "a channel id",
    "multi_channels_select": "channel ids",
    "file_input": "file",
}
_DEFAULT_PROMPT = {
    "static_select": "Select an item",
    "multi_static_select": "Select items",
    "radio_buttons": "Choose one",
    "checkboxes": "Choose any",
    "overflow": "More",
}


@dataclass(frozen=True)
class Button:
    """Something a person can press, by ``number``."""

    number: int
    label: str
    action_id: str
    block_id: str
    value: str | None
    style: str | None
    # "button", "overflow", "static_select", "multi_static_select", "radio_buttons",
    # "checkboxes" (one option each), or "submit" / "close" for a modal's own buttons
    kind: str
    option_text: str | None = None  # the option's own text, for selects and the like
    url: str | None = None  # link buttons open this as well as sending the action


@dataclass(frozen=True)
class InputField:
    """An input block of a modal, described for a console that asks for its value."""

    label: str
    block_id: str
    action_id: str
    kind: str  # the element type, e.g. "plain_text_input", "static_select"
    optional: bool
    multiline: bool = False
    initial: tuple[str, ...] = ()  # initial value(s); option values for selects
    options: tuple[tuple[str, str], ...] = ()  # (text, value) for option elements


@dataclass(frozen=True)
class Rendered:
    text: str
    buttons: tuple[Button, ...]
    inputs: tuple[InputField, ...] = ()


def render_message(
    *, text: str | None, blocks: list[dict[str, Any]] | None, start_number: int = 1
) -> Rendered:
    """Render a message as Slack shows it: the blocks if any, else the mrkdwn ``text``."""
    renderer = _Renderer(start_number)
    if blocks:
        renderer.blocks(blocks)
    elif text:
        renderer.lines.extend(mrkdwn_to_text(text).split("\n"))
    return renderer.result()


def render_view(view: dict[str, Any], start_number: int = 1) -> Rendered:
    """Render a modal or Home tab: title, blocks, and for modals the submit and close buttons."""
    renderer = _Renderer(start_number)
    is_home = view.get("type") == "home"
    title = _plain(view.get("title")) or ("Home" if is_home else "")
    if title:
        renderer.header(title)
    renderer.blocks(view.get("blocks") or [])
    if not is_home:
        footer: list[str] = []
        if view.get("submit"):
            submit = _plain(view["submit"])
            footer.append(f"[{renderer.press(submit, kind='submit', style='primary')}] {submit}")
        close = _plain(view.get("close")) or "Cancel"
        footer.append(f"[{renderer.press(close, kind='close')}] {close}")
        renderer.lines.append(DIVIDER)
        renderer.lines.append("  ".join(footer))
    return renderer.result()


def action_payload(button: Button) -> dict[str, Any]:
    """The action object Slack sends in ``block_actions`` when ``button`` is pressed.

    ``action_ts`` is left for the sender (``block_actions_body`` adds it).
    """
    base: dict[str, Any] = {
        "action_id": button.action_id,
        "block_id": button.block_id,
        "type": button.kind,
    }
    option_text = button.option_text if button.option_text is not None else button.label
    option = {
        "text": {"type": "plain_text", "text": option_text, "emoji": True},
        "value": button.value,
    }
    if button.kind == "button":
        base["text"] = {"type": "plain_text", "text": button.label, "emoji": True}
        if button.value is not None:
            base["value"] = button.value
        if button.style:
            base["style"] = button.style
        return base
    if button.kind in ("static_select", "radio_buttons", "overflow"):
        base["selected_option"] = option
        return base
    if button.kind in ("multi_static_select", "checkboxes"):
        base["selected_options"] = [option]
        return base
    raise ValueError(f"{button.kind} buttons do not send block_actions")


# ---- mrkdwn -------------------------------------------------------------------------------

_CODE_BLOCK = re.compile(r"```\n?(.*?)\n?```", re.DOTALL)
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_ANGLE = re.compile(r"<([^<>\n]+)>")
_ENTITY = re.compile(r"&(lt|gt|amp);")
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&"}
_PLACEHOLDER = re.compile("\x00(\\d+)\x00")


def _emphasis(marker: str) -> re.Pattern[str]:
    m = re.escape(marker)
    # Slack only formats a marker pair at word edges: "a_b_c" and "2*3*4" stay as typed.
    return re.compile(rf"(?<![\w{m}]){m}(?=\S)([^{m}\n]+?)(?<=\S){m}(?![\w{m}])")


_EMPHASIS = tuple(_emphasis(marker) for marker in ("*", "_", "~"))


def _unescape(s: str) -> str:
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], s)


def _angle(inner: str) -> str:
    if inner[:1] in ("@", "#"):
        ident, _, label = inner[1:].partition("|")
        if label:
            return label if label[:1] in ("@", "#") else inner[0] + label
        return inner[0] + ident
    if inner.startswith("!"):
        command, _, label = inner[1:].partition("|")
        if label:
            return _unescape(label)
        if command.startswith("subteam^"):
            return "@" + command[len("subteam^") :]
        if command.startswith("date^"):
            return command.split("^")[1]
        return "@" + command
    url, _, label = inner.partition("|")
    url, label = _unescape(url), _unescape(label)
    return f"{label} ({url})" if label and label != url else url


def mrkdwn_to_text(s: str) -> str:
    """Slack mrkdwn as plain text: markers dropped, links, mentions and entities spelled out.

    ``*bold*`` -> ``bold``, ``_it_`` -> ``it``, ``<url|label>`` -> ``label (url)``,
    ``<@U123>`` -> ``@U123``, ``<!here>`` -> ``@here``, ``&lt; &gt; &amp;`` -> ``< > &``.
    """
    kept: list[str] = []

    def keep(value: str) -> str:
        kept.append(value)
        return f"\x00{len(kept) - 1}\x00"

    # Code and links are set aside first so emphasis markers inside them survive.
    out = _CODE_BLOCK.sub(lambda m: keep(_unescape(m.group(1))), s)
    out = _CODE_SPAN.sub(lambda m: keep(_unescape(m.group(1))), out)
    out = _ANGLE.sub(lambda m: keep(_angle(m.group(1))), out)
    for pattern in _EMPHASIS:
        out = pattern.sub(r"\1", out)
    out = _unescape(out)
    return _PLACEHOLDER.sub(lambda m: kept[int(m.group(1))], out)


# ---- rendering ----------------------------------------------------------------------------


def _plain(obj: Any) -> str:
    """The text of a text object (plain_text or mrkdwn), or of a bare string."""
    if obj is None:
        return ""
    if isinstance(obj, str):
        return obj
    text = str(obj.get("text", ""))
    return mrkdwn_to_text(text) if obj.get("type") == "mrkdwn" else text


def _options(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options


def _initial_values(element: dict[str, Any]) -> tuple[str, ...]:
    if element.get("initial_option"):
        return (str(element["initial_option"].get("value", "")),)
    if element.get("initial_options"):
        return tuple(str(o.get("value", "")) for o in element["initial_options"])
    for key in (
        "initial_value",
        "initial_date",
        "initial_time",
        "initial_date_time",
        "initial_user",
        "initial_conversation",
        "initial_channel",
    ):
        if element.get(key) is not None:
            return (str(element[key]),)
    for key in ("initial_users", "initial_conversations", "initial_channels"):
        if element.get(key):
            return tuple(str(v) for v in element[key])
    return ()


class _Renderer:
    def __init__(self, start_number: int) -> None:
        self.next_number = start_number
        self.lines: list[str] = []
        self.buttons: list[Button] = []
        self.inputs: list[InputField] = []
        self._kinds: dict[str, Callable[[dict[str, Any]], None]] = {
            "header": self._header_block,
            "section": self._section,
            "context": self._context,
            "divider": lambda _block: self.lines.append(DIVIDER),
            "actions": self._actions,
            "image": self._image,
            "rich_text": self._rich_text,
            "input": self._input,
        }

    def result(self) -> Rendered:
        return Rendered(
            text="\n".join(self.lines).rstrip("\n"),
            buttons=tuple(self.buttons),
            inputs=tuple(self.inputs),
        )

    def press(
        self,
        label: str,
        *,
        kind: str,
        action_id: str = "",
        block_id: str = "",
        value: str | None = None,
        style: str | None = None,
        option_text: str | None = None,
        url: str | None = None,
    ) -> int:
        """Register a numbered choice and return its number."""
        number = self.next_number
        self.next_number += 1
        self.buttons.append(
            Button(number, label, action_id, block_id, value, style, kind, option_text, url)
        )
        return number

    def blocks(self, blocks: Iterable[dict[str, Any]]) -> None:
        for block in blocks:
            kind = str(block.get("type", ""))
            render = self._kinds.get(kind)
            if render is None:
                self.lines.append(f"[{kind or 'unknown'} block not shown]")
            else:
                render(block)

    def header(self, text: str) -> None:
        if self.lines and self.lines[-1]:
            self.lines.append("")  # a little air above each heading
        self.lines.append(text)
        self.lines.append("═" * len(text))

    def _header_block(self, block: dict[str, Any]) -> None:
        self.header(_plain(block.get("text")))

    def _section(self, block: dict[str, Any]) -> None:
        block_id = str(block.get("block_id", ""))
        lines = _plain(block.get("text")).split("\n") if block.get("text") else []
        for field in block.get("fields") or []:
            lines.extend("  " + line for line in _plain(field).split("\n"))
        below: list[str] = []
        accessory = block.get("accessory")
        if accessory:
            inline, below = self._element(accessory, block_id)
            if inline and lines:
                # Slack shows the accessory beside the text's first line.
                lines[0] = f"{lines[0]}  {inline}"
            elif inline:
                lines.append(inline)
        self.lines.extend(lines)
        self.lines.extend(below)

    def _context(self, block: dict[str, Any]) -> None:
        parts: list[str] = []
        for element in block.get("elements") or []:
            if element.get("type") == "image":
                parts.append(f"[{element.get('alt_text', 'image')}]")
            else:
                parts.append(_plain(element))
        self.lines.append("  ".join(p for p in parts if p))

    def _actions(self, block: dict[str, Any]) -> None:
        block_id = str(block.get("block_id", ""))
        row: list[str] = []
        for element in block.get("elements") or []:
            inline, below = self._element(element, block_id)
            if inline:
                row.append(inline)
            if below:
                # Flush the row first so numbers read in order down the screen.
                if row:
                    self.lines.append("  ".join(row))
                    row = []
                self.lines.extend(below)
        if row:
            self.lines.append("  ".join(row))

    def _element(self, element: dict[str, Any], block_id: str) -> tuple[str | None, list[str]]:
        """Render an interactive element: an inline piece, or lines of its own."""
        kind = str(element.get("type", ""))
        action_id = str(element.get("action_id", ""))
        if kind == "button":
            label = _plain(element.get("text"))
            url = element.get("url")
            number = self.press(
                label,
                kind="button",
                action_id=action_id,
                block_id=block_id,
                value=element.get("value"),
                style=element.get("style"),
                url=url,
            )
            inline = f"[{number}] {label}"
            return (f"{inline} ({url})" if url else inline), []
        if kind == "image":
            return f"[image: {element.get('alt_text', '')}]", []
        if kind in _OPTION_ELEMENTS:
            prompt = _plain(element.get("placeholder")) or _DEFAULT_PROMPT[kind]
            chosen = set(_initial_values(element))
            lines = [f"{prompt}:"]
            for option in _options(element):
                text = _plain(option.get("text"))
                value = option.get("value")
                number = self.press(
                    f"{prompt}: {text}",
                    kind=kind,
                    action_id=action_id,
                    block_id=block_id,
                    value=value,
                    option_text=text,
                )
                mark = "  (selected)" if value in chosen else ""
                lines.append(f"  [{number}] {text}{mark}")
            return None, lines
        prompt = _plain(element.get("placeholder")) or _INPUT_KINDS.get(kind, kind)
        initial = ", ".join(_initial_values(element))
        shown = f"{prompt}: {initial}" if initial else prompt
        return f"[{shown} — not available in the console]", []

    def _image(self, block: dict[str, Any]) -> None:
        title = _plain(block.get("title"))
        if title:
            self.lines.append(title)
        self.lines.append(f"[image: {block.get('alt_text', '')}]")

    def _input(self, block: dict[str, Any]) -> None:
        element = block.get("element") or {}
        kind = str(element.get("type", ""))
        label = _plain(block.get("label"))
        block_id = str(block.get("block_id", ""))
        action_id = str(element.get("action_id", ""))
        optional = bool(block.get("optional", False))
        multiline = bool(element.get("multiline", False))
        initial = _initial_values(element)
        options = tuple((_plain(o.get("text")), str(o.get("value", ""))) for o in _options(element))
        self.inputs.append(
            InputField(label, block_id, action_id, kind, optional, multiline, initial, options)
        )
        what = _INPUT_KINDS.get(kind, kind or "input")
        if multiline:
            what += ", several lines"
        need = "optional" if optional else "required"
        self.lines.append(f"[{label}] ({need}) {what} — {block_id}/{action_id}")
        placeholder = _plain(element.get("placeholder"))
        if placeholder:
            self.lines.append(f"  e.g. {placeholder}")
        for text, value in options:
            mark = "  (selected)" if value in initial else ""
            self.lines.append(f"  - {text}{mark}")
        if initial and not options:
            self.lines.append(f"  now: {', '.join(initial)}")
        hint = _plain(block.get("hint"))
        if hint:
            self.lines.append(f"  ({hint})")

    def _rich_text(self, block: dict[str, Any]) -> None:
        for element in block.get("elements") or []:
            kind = element.get("type")
            inner = element.get("elements") or []
            if kind == "rich_text_list":
                indent = "  " * int(element.get("indent", 0))
                ordered = element.get("style") == "ordered"
                start = int(element.get("offset", 0)) + 1
                for i, item in enumerate(inner, start=start):
                    marker = f"{i}." if ordered else "•"
                    text = _rich_inline(item.get("elements") or [])
                    self.lines.append(f"{indent}{marker} {text}")
            elif kind == "rich_text_preformatted":
                self.lines.extend("    " + line for line in _rich_inline(inner).split("\n"))
            elif kind == "rich_text_quote":
                self.lines.extend("> " + line for line in _rich_inline(inner).split("\n"))
            else:
                self.lines.extend(_rich_inline(inner).rstrip("\n").split("\n"))


def _rich_inline(elements: Iterable[dict[str, Any]]) -> str:
    parts: list[str] = []
    for el in elements:
        kind = el.get("type")
        if kind == "text":
            parts.append(str(el.get("text", "")))
        elif kind == "link":
            url = str(el.get("url", ""))
            text = el.get("text")
            parts.append(f"{text} ({url})" if text and text != url else url)
        elif kind == "user":
            parts.append("@" + str(el.get("user_id", "")))
        elif kind == "usergroup":
            parts.append("@" + str(el.get("usergroup_id", "")))
        elif kind == "channel":
            parts.append("#" + str(el.get("channel_id", "")))
        elif kind == "broadcast":
            parts.append("@" + str(el.get("range", "")))
        elif kind == "emoji":
            parts.append(_emoji(el))
        elif kind == "date":
            parts.append(str(el.get("fallback") or el.get("timestamp", "")))
        elif kind == "color":
            parts.append(str(el.get("value", "")))
        elif "elements" in el:  # a nested section, e.g. inside a list item
            parts.append(_rich_inline(el["elements"]))
    return "".join(parts)


def _emoji(el: dict[str, Any]) -> str:
    code = str(el.get("unicode") or "")
    if re.fullmatch(r"[0-9a-fA-F]{1,6}(-[0-9a-fA-F]{1,6})*", code):
        points = [int(part, 16) for part in code.split("-")]
        if max(points) <= 0x10FFFF:
            return "".join(map(chr, points))
    return f":{el.get('name', '')}:"
