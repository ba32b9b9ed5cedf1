"""Wiring: the process configuration, read once from the environment at start.

This is the only module that reads ``os.environ``. A missing or invalid setting is reported as
one line naming the variable (``SettingsError``), never as a traceback.
"""

from __future__ import annotations

import os
from datetime import time
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from bot.domain.vocabulary import SCHOOL_DAYS, Day

DEFAULT_SLACK_API_URL = "https://slack.com/api/"


class SettingsError(Exception):
    """A setting is missing or invalid; the message names the variable."""


def _zone(value: str, name: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. America/Anchorage)") from None
    return value


class Settings(BaseSettings):
    """Every knob of the bot. Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    database_url: str = "sqlite:///caseload.db"
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    port: int = Field(default=3000, ge=1, le=65535)
    org_timezone: str = "America/Los_Angeles"

    # Product settings (documented in the README's Configuration section).
    match_time_limit_seconds: float = Field(default=10.0, gt=0, le=600)
    group_max: int = Field(default=4, ge=2, le=6)
    soap_note_due_hours: int = Field(default=48, ge=1, le=24 * 14)
    soap_escalate_days: int = Field(default=5, ge=1, le=60)
    annual_review_stages: Annotated[tuple[int, ...], NoDecode] = (30, 14, 7, 1)
    triennial_stages: Annotated[tuple[int, ...], NoDecode] = (60, 30, 14)
    licence_stages: Annotated[tuple[int, ...], NoDecode] = (60, 30, 7)
    licence_manager_stage: int = 7
    working_days: Annotated[tuple[str, ...], NoDecode] = tuple(SCHOOL_DAYS)
    working_hours_start: time = time(8, 0)
    working_hours_end: time = time(18, 0)
    show_student_names: bool = False
    # A student's absence owes a make-up only where the district's policy says so.
    makeup_for_no_shows: bool = False
    # Threads that run listeners' work after the acknowledgement: a few per core, since the work
    # waits on the database and Slack as much as it computes.
    listener_threads: int = Field(default_factory=lambda: 4 * (os.cpu_count() or 1), ge=1, le=512)
    # /match solves at once: each uses a core for up to MATCH_TIME_LIMIT_SECONDS.
    match_solves: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=64)
    web_threads: int = Field(default=32, ge=1, le=512)
    web_workers: int = Field(default=1, ge=1, le=64)
    log_level: str = "INFO"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_settings() is the one reader of the environment; the class takes only what it
        # is given, so a test's settings never pick up a stray variable.
        return (init_settings,)

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("is empty")
        # Heroku and most PaaS write postgres://; SQLAlchemy wants a driver-qualified name.
        for prefix in ("postgres://", "postgresql://"):
            if v.startswith(prefix):
                return "postgresql+psycopg://" + v[len(prefix) :]
        if "://" not in v:
            raise ValueError("is not a database URL (e.g. sqlite:///caseload.db)")
        return v

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v if v.endswith("/") else v + "/"

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return v or None

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return v or None

    @field_validator("org_timezone")
    @classmethod
    def _org_tz(cls, v: str) -> str:
        return _zone(v, "ORG_TIMEZONE")

    @field_validator("annual_review_stages", "triennial_stages", "licence_stages", mode="before")
    @classmethod
    def _stages(cls, v: Any) -> Any:
        if isinstance(v, str):
            try:
                v = tuple(int(p) for p in v.replace(" ", "").split(",") if p)
            except ValueError:
                raise ValueError("must be comma-separated whole days, e.g. 30,14,7,1") from None
        if isinstance(v, tuple | list):
            if not v or any(int(d) < 0 for d in v):
                raise ValueError("must be comma-separated whole days, e.g. 30,14,7,1")
            return tuple(sorted({int(d) for d in v}, reverse=True))
        return v

    @field_validator("working_days", mode="before")
    @classmethod
    def _days(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = tuple(p.strip().lower()[:3] for p in v.split(",") if p.strip())
        if not v or any(d not in set(Day) for d in v):
            raise ValueError("must be comma-separated days, e.g. mon,tue,wed,thu,fri")
        return tuple(v)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read the settings from ``environ`` (default: the process environment).

    Raises ``SettingsError`` with one line naming the first bad variable.
    """
    env = dict(os.environ if environ is None else environ)
    if "SLACK_CLIENT_ID" in env and "SLACK_CLIENT_SECRET" in env:
        # Bolt silently switches to OAuth (multi-workspace) mode when both exist, even empty,
        # and then answers every request "installation no longer available".
        raise SettingsError(
            "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set: this bot runs with a single "
            "workspace bot token (SLACK_BOT_TOKEN); unset both variables"
        )
    values: dict[str, Any] = {
        k.lower(): v for k, v in env.items() if k.lower() in Settings.model_fields
    }
    try:
        return Settings(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]).upper() if err["loc"] else "settings"
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{name}: {msg}") from None
