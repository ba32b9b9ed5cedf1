"""Development tools: run the real ``python -m bot serve`` in a subprocess, talk to it as Slack.

Used by the end-to-end tests and the benchmarks under ``bench/``; pair it with ``LocalSlack``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from devtools.slack_requests import sign_request

ROOT = Path(__file__).resolve().parent.parent
SECRET = "local-harness-signing-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def post(
        self, body: str, headers: dict[str, str], timeout: float = 10
    ) -> tuple[int, str, float]:
        req = urllib.request.Request(
            self.url + "/slack/events", data=body.encode(), headers=headers, method="POST"
        )
        start = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.read().decode(), time.monotonic() - start
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(), time.monotonic() - start

    def signed(self, body: str, timestamp: int | None = None) -> tuple[int, str, float]:
        return self.post(body, sign_request(SECRET, body, timestamp))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_bot(
    command: str,
    env: dict[str, str],
    log_path: Path,
    ready: Callable[[], bool],
    waiting_for: str,
) -> subprocess.Popen[bytes]:
    """``python -m bot <command>`` with ``env`` (and a bare ``PATH``), its output in
    ``log_path``; returned once ``ready()`` says so, within 30 s. Raises with the log when it
    exits first or is not ready by then (``waiting_for`` says what it did not do)."""
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", command],
            cwd=ROOT,
            env={"PATH": "/usr/bin:/bin", **env},
            stdout=log,
            stderr=log,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = log_path.read_text(errors="replace")
            raise RuntimeError(f"{command} exited {proc.returncode}:\n{output}")
        if ready():
            return proc
    proc.kill()
    output = log_path.read_text(errors="replace")
    raise RuntimeError(f"{command} did not {waiting_for} in 30 s:\n{output}")


def start_server(
    database_url: str, api_url: str, tmp: Path, extra_env: dict[str, str] | None = None
) -> Server:
    port = free_port()
    env = {
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-e2e-token",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api_url,
        "PORT": str(port),
        "WEB_THREADS": "16",
        **(extra_env or {}),
    }
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=5) as resp:
                if resp.status == 200:
                    return True
        except OSError:  # (not listening yet, or an HTTP error: not ready)
            pass
        time.sleep(0.1)
        return False

    log_path = tmp / f"serve-{port}.log"
    proc = start_bot("serve", env, log_path, healthy, "answer /healthz")
    return Server(url, proc, log_path)


def stop_server(server: Server) -> None:
    stop_process(server.process)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Ask a bot process to stop (SIGTERM), then kill it if it has not within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
