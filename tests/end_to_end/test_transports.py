"""End to end over the other two ways in: the end-to-end tests that do not depend on the
transport run here again, unchanged, with ``server`` standing for

* ``socket``: the real ``python -m bot socket`` connected to a loopback Slack (``FakeSocketMode``
  for the envelopes, ``LocalSlack`` for the Web API); its ``signed(body)`` delivers the envelope
  Slack would have sent in place of that HTTP body;
* ``console``: the local console's app (``devtools.console.make_console``: the same app, its work
  run in the request's thread), ``signed(body)`` handing the body to it as the console does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bot.settings import load_settings
from devtools.console import Console, make_console
from devtools.local_slack import LocalSlack
from devtools.slack_requests import dispatch_signed
from devtools.socket_mode import (
    APP_TOKEN,
    FakeSocketMode,
    SocketBot,
    start_socket_bot,
    stop_socket_bot,
)

# The tests below are collected here too, and run over Socket Mode.
from tests.end_to_end.test_caseload import (  # noqa: F401
    test_overdue_note_on_the_provider_home_and_coverage_on_the_managers,
    test_provider_cannot_see_another_caseload,
    test_soap_form_error_save_and_home,
)
from tests.end_to_end.test_changes import (  # noqa: F401
    test_no_longer_thursdays_names_the_student_and_dms_the_manager,
    test_out_over_a_session_cancels_it_and_no_note_nudge_names_it,
)
from tests.end_to_end.test_jobs import test_a_nudge_button_pressed_through_serve_acts_once  # noqa: F401
from tests.end_to_end.test_match import (  # noqa: F401
    test_bad_filter_gets_usage_and_unknown_district_gets_close_names,
    test_manager_matches_approves_once_and_providers_hear_about_it,
    test_provider_match_is_refused_and_nothing_is_computed,
)
from tests.end_to_end.test_match_rules import (  # noqa: F401
    test_provider_filter_explains_the_unserved_with_the_whole_district_in_view,
    test_the_demo_proposal_arrives_a_rerun_gives_the_same_and_it_survives_an_unrelated_change,
    test_the_hire_it_suggests_once_imported_serves_the_students_it_names,
)
from tests.end_to_end.test_minutes import (  # noqa: F401
    test_cancel_owe_schedule_hold_and_minutes_through_serve,
)
from tests.end_to_end.test_serve import (  # noqa: F401
    test_availability_preview_save_and_show,
    test_cancel_time_off_in_a_dm_removes_it,
    test_change_tue_only_keeps_the_other_days,
    test_dm_time_off_preview_is_a_real_message_that_save_updates_in_place,
    test_out_friday_afternoon_saves_partial_time_off,
    test_second_provider_cannot_edit_the_first,
    test_unknown_user_is_told_to_ask_their_manager,
)

pytestmark = pytest.mark.slow


@dataclass
class ConsoleBot:
    console: Console

    def signed(self, body: str, timestamp: int | None = None) -> tuple[int, str, float]:
        start = time.monotonic()
        response = dispatch_signed(self.console.app, self.console.signing_secret, body)
        return response.status, response.body or "", time.monotonic() - start


@pytest.fixture(scope="module", params=["socket", "console"])
def server(
    request: pytest.FixtureRequest,
    database_url: str,
    e2e_slack: LocalSlack,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SocketBot | ConsoleBot]:
    if request.param == "console":
        console = make_console(load_settings({"DATABASE_URL": database_url}), e2e_slack, None)
        yield ConsoleBot(console)
        console.deps.engine.dispose()
        return
    socket = FakeSocketMode()
    e2e_slack.socket_url = socket.url
    bot = start_socket_bot(database_url, e2e_slack.api_url, socket, tmp_path_factory.mktemp("s"))
    yield bot
    stop_socket_bot(bot)
    socket.close()
    e2e_slack.socket_url = None
    log = bot.log()
    assert "Traceback" not in log, log
    assert "xoxb-e2e-token" not in log and APP_TOKEN not in log
    assert bot.timeouts == 0, "an envelope went unacknowledged"
