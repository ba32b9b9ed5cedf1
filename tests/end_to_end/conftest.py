"""End-to-end wiring: the real ``python -m bot serve`` in a subprocess, the fake Slack Web API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.harness import SECRET, Server, start_server, stop_server
from devtools.local_slack import LocalSlack

__all__ = ["SECRET", "Server"]


@pytest.fixture(scope="session")
def e2e_slack() -> Iterator[LocalSlack]:
    with LocalSlack() as fake:
        yield fake


@pytest.fixture(scope="session")
def server(
    database_url: str, e2e_slack: LocalSlack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    srv = start_server(database_url, e2e_slack.api_url, tmp_path_factory.mktemp("serve"))
    yield srv
    stop_server(srv)
    log = srv.log()
    assert "Traceback" not in log, log
    # Secrets never reach a log line, whatever happened during the run.
    assert "xoxb-e2e-token" not in log and SECRET not in log


@pytest.fixture
def fake(e2e_slack: LocalSlack) -> LocalSlack:
    e2e_slack.clear()
    return e2e_slack
