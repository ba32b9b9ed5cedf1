"""Views: the Block Kit basics every builder uses: mrkdwn text, escaping, serialising."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.basic_objects import EMPTY_ALLOWED_TYPE_AND_PROPERTY_LIST, JsonObject
from slack_sdk.models.blocks import Block, MarkdownTextObject

from bot.domain.mrkdwn import escape

__all__ = ["MAX_BLOCKS", "escape", "md", "plain", "to_dicts"]

MAX_BLOCKS = 50  # Slack's limit per message, which slack_sdk does not check


def md(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text)


def to_dicts(blocks: list[Block]) -> list[dict[str, Any]]:
    """Serialise (this is where slack_sdk's checks of text lengths run) and enforce the 50-block
    limit."""
    out = [plain(b) for b in blocks]
    if len(out) > MAX_BLOCKS:
        raise ValueError(f"{len(out)} blocks: Slack allows {MAX_BLOCKS} per message")
    return out


# What ``JsonObject.to_dict`` does for one kind of object, found once per class and ``type``:
# its validators (the methods slack_sdk marks as checks, run in slack_sdk's order), its JSON
# keys, sorted, and the keys that may hold an empty list. Objects are then read without
# rebuilding those sets for every object and nested object. A class that serialises or
# validates itself (its own ``to_dict``, ``validate_json``, …) is left to its ``to_dict``.
_Plan = tuple[tuple[str, ...], tuple[str, ...], frozenset[str]]
_PLANS: dict[tuple[type, Any], _Plan | None] = {}
_INHERITED = ("to_dict", "get_non_null_attributes", "get_object_attribute", "validate_json")


def _plan(obj: JsonObject) -> _Plan | None:
    cls, type_value = type(obj), getattr(obj, "type", None)
    key = (cls, type_value)
    if key in _PLANS:
        return _PLANS[key]
    plan: _Plan | None = None
    if all(getattr(cls, name) is getattr(JsonObject, name) for name in _INHERITED):
        validators = sorted(
            name
            for name in dir(cls)
            if not name.startswith("__")
            and callable(getattr(cls, name, None))
            and hasattr(getattr(cls, name), "validator")
        )
        empty_ok = frozenset(
            str(e["property"])
            for e in EMPTY_ALLOWED_TYPE_AND_PROPERTY_LIST
            if e["type"] == type_value
        )
        plan = (tuple(validators), tuple(sorted(obj.attributes)), empty_ok)
    _PLANS[key] = plan
    return plan


_SCALARS = frozenset({str, int, float, bool})


def plain(value: Any) -> Any:
    """``value.to_dict()`` for a slack_sdk model: the same dict, after the same checks of its
    class's validators (``SlackObjectFormationError``), in less than half the CPU. Lists and
    tuples element by element; anything else as it is."""
    if type(value) in _SCALARS:
        return value
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if not isinstance(value, JsonObject):
        to_dict = getattr(value, "to_dict", None)
        if callable(to_dict):
            return {k: plain(v) for k, v in to_dict().items()}
        return value
    plan = _plan(value)
    if plan is None:
        return {k: plain(v) for k, v in value.to_dict().items()}
    validators, keys, empty_ok = plan
    for name in validators:
        getattr(value, name)()
    out: dict[str, Any] = {}
    for key in keys:
        v = getattr(value, key, None)
        if v is None:
            continue
        if type(v) in _SCALARS:
            if v == "" and key not in empty_ok:  # an empty string has no length either
                continue
            out[key] = v
        elif key in empty_ok or not hasattr(v, "__len__") or len(v) > 0:
            out[key] = plain(v)
    return out
