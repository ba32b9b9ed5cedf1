"""Services: what a user typed, echoed back in an error, is escaped, so `<!channel>` or a link
in a command is shown as typed, never acted on by Slack."""

from __future__ import annotations

import pytest

from bot.deps import Deps
from bot.services import deadlines, matching
from bot.services.errors import UserFacingError
from handlers.caseload import parse_caseload_args

TYPED = "<!channel>`<https://evil.example|click>"


def said(call: object, *args: object) -> str:
    with pytest.raises(UserFacingError) as err:
        call(*args)  # type: ignore[operator]
    return err.value.message


@pytest.mark.parametrize(
    ("call", "text"),
    [
        (matching.parse_filters, TYPED),
        (matching.parse_filters, f"district=x service={TYPED}"),
        (deadlines.parse_deadline_args, TYPED),
        (parse_caseload_args, f"<@U0P1> {TYPED}"),
    ],
)
def test_typed_text_in_errors_is_escaped(call: object, text: str) -> None:
    message = said(call, text)
    assert "<!channel>" not in message and "<https://" not in message
    assert "&lt;!channel&gt;" in message


def test_an_unknown_district_name_is_escaped(demo_deps: Deps) -> None:
    with demo_deps.session_factory() as s:
        message = said(matching.find_district, s, TYPED)
    assert "<!channel>" not in message and "&lt;!channel&gt;" in message
