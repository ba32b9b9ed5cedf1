"""Development tools: the Slack Web API methods the local fake answers, with realistic payloads
(chat, conversations, views, users.info and the three-step ``files_upload_v2`` flow)."""

from __future__ import annotations

import itertools
import mimetypes
import threading
import time
import uuid
from typing import Any

from devtools.local_slack.wire import conversation_for, utc_offset_seconds
from devtools.slack_requests import (
    APP_ID,
    BOT_ID,
    BOT_NAME,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    modal_view,
)


class WebApiMethods:
    """The methods `LocalSlack` serves; it holds the state they read and write."""

    default_tz: str
    users: dict[str, dict[str, Any]]
    socket_url: str | None
    _cond: threading.Condition
    _ts_seq: itertools.count[int]
    _id_seqs: dict[str, itertools.count[int]]
    _views: dict[str, dict[str, Any]]
    _home_view_ids: dict[str, str]
    _pending_files: dict[str, dict[str, Any]]
    _files: dict[str, dict[str, Any]]
    _history: dict[str, list[dict[str, Any]]]

    @property
    def base_url(self) -> str:
        raise NotImplementedError

    # ---- ids -------------------------------------------------------------------------------

    def _next_ts(self) -> str:
        micros = 1_700_000_000_000_000 + next(self._ts_seq) * 100
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        with self._cond:
            seq = self._id_seqs.setdefault(prefix, itertools.count(1))
            return f"{prefix}{next(seq):08d}"

    # ---- Web API methods -------------------------------------------------------------------

    def _apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.socket_url is None:
            return {"ok": False, "error": "not_allowed_token_type"}
        return {"ok": True, "url": self.socket_url}

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": "Local Workspace",
            "user": BOT_NAME,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _message(self, params: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "text": params.get("text", ""),
            "ts": ts,
            "team": TEAM_ID,
            "bot_profile": {
                "id": BOT_ID,
                "app_id": APP_ID,
                "name": BOT_NAME,
                "deleted": False,
                "team_id": TEAM_ID,
            },
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if params.get(key):
                message[key] = params[key]
        return message

    @staticmethod
    def _has_content(params: dict[str, Any]) -> bool:
        return any(params.get(key) for key in ("text", "blocks", "attachments"))

    def _chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not self._has_content(params):
            return {"ok": False, "error": "no_text"}
        ts = self._next_ts()
        channel = conversation_for(str(params["channel"]))
        message = self._message(params, ts)
        with self._cond:
            self._history.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        """Newest first, from ``oldest`` (a ts), at most ``limit``; message metadata only with
        ``include_all_metadata``, as Slack does."""
        channel = str(params.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(params.get("oldest") or 0)
        limit = int(params.get("limit") or 100)
        with_metadata = str(params.get("include_all_metadata", "")).lower() in {"true", "1"}
        with self._cond:
            taken = list(self._history.get(conversation_for(channel), []))
        found = [m for m in reversed(taken) if float(m["ts"]) >= oldest]
        out = []
        for message in found[:limit]:
            shown = dict(message)
            if not with_metadata:
                shown.pop("metadata", None)
            out.append(shown)
        return {"ok": True, "messages": out, "has_more": len(found) > limit}

    def _chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("user"):
            return {"ok": False, "error": "user_not_found"}
        if not self._has_content(params):
            return {"ok": False, "error": "no_text"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("ts"):
            return {"ok": False, "error": "message_not_found"}
        ts = str(params["ts"])
        return {
            "ok": True,
            "channel": str(params["channel"]),
            "ts": ts,
            "text": params.get("text", ""),
            "message": self._message(params, ts),
        }

    def _chat_delete(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("ts"):
            return {"ok": False, "error": "message_not_found"}
        return {"ok": True, "channel": str(params["channel"]), "ts": str(params["ts"])}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("channel"):
            return {
                "ok": True,
                "no_op": True,
                "already_open": True,
                "channel": {"id": params["channel"]},
            }
        users = params.get("users")
        if isinstance(users, list):
            users = ",".join(users)
        ids = [u for u in str(users or "").split(",") if u]
        if not ids:
            return {"ok": False, "error": "users_list_not_supplied"}
        channel_id = "D" + ids[0] if len(ids) == 1 else "G" + "".join(sorted(ids))
        return {"ok": True, "no_op": False, "already_open": False, "channel": {"id": channel_id}}

    def _view_object(
        self, view: dict[str, Any], view_id: str, *, root_view_id: str | None = None
    ) -> dict[str, Any]:
        served = modal_view(view_id)
        served.update(view)
        served["id"] = view_id
        served["state"] = {"values": {}}
        served["hash"] = f"{int(time.time())}.{uuid.uuid4().hex[:8]}"
        served["root_view_id"] = root_view_id or view_id
        with self._cond:
            self._views[view_id] = served
        return served

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        if not (params.get("trigger_id") or params.get("interactivity_pointer")):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "view": self._view_object(view, self._next_id("V"))}

    def _views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        view_id = params.get("view_id")
        external_id = params.get("external_id")
        with self._cond:
            if not view_id and external_id:
                view_id = next(
                    (vid for vid, v in self._views.items() if v.get("external_id") == external_id),
                    None,
                )
                if view_id is None:
                    return {"ok": False, "error": "not_found"}
            previous = self._views.get(str(view_id)) if view_id else None
        if not view_id:
            return {"ok": False, "error": "invalid_arguments"}
        root = previous.get("root_view_id") if previous else None
        return {"ok": True, "view": self._view_object(view, str(view_id), root_view_id=root)}

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        user_id = params.get("user_id")
        if not isinstance(view, dict) or not user_id:
            return {"ok": False, "error": "invalid_arguments"}
        with self._cond:
            view_id = self._home_view_ids.setdefault(str(user_id), self._next_id("V"))
        return {"ok": True, "view": self._view_object({"type": "home", **view}, view_id)}

    def default_user(self, user_id: str, tz: str | None = None) -> dict[str, Any]:
        """The user object served for ``user_id`` when ``users`` does not say otherwise."""
        zone = tz or self.default_tz
        name = user_id.lower()
        real_name = BOT_NAME if user_id == BOT_USER_ID else f"Local User {user_id}"
        return {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "deleted": False,
            "real_name": real_name,
            "tz": zone,
            "tz_label": zone,
            "tz_offset": utc_offset_seconds(zone),
            "is_admin": False,
            "is_owner": False,
            "is_bot": user_id == BOT_USER_ID,
            "is_app_user": False,
            "updated": 1_700_000_000,
            "profile": {
                "real_name": real_name,
                "display_name": name,
                "email": f"{name}@example.org",
                "team": TEAM_ID,
            },
        }

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = params.get("user")
        if not user_id:
            return {"ok": False, "error": "user_not_found"}
        override = self.users.get(str(user_id), {})
        user = self.default_user(str(user_id), override.get("tz"))
        user.update(override)
        return {"ok": True, "user": user}

    def _files_get_upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        filename = params.get("filename")
        try:
            length = int(params.get("length", ""))
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        if not filename:
            return {"ok": False, "error": "invalid_arguments"}
        file_id = self._next_id("F")
        with self._cond:
            self._pending_files[file_id] = {
                "filename": str(filename),
                "length": length,
                "content": None,
            }
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        entries = params.get("files")
        if not isinstance(entries, list) or not entries:
            return {"ok": False, "error": "invalid_arguments"}
        channels = [c for c in str(params.get("channels") or "").split(",") if c]
        if params.get("channel_id"):
            channels.insert(0, str(params["channel_id"]))
        created = int(time.time())
        served: list[dict[str, Any]] = []
        uploads: list[dict[str, Any]] = []
        with self._cond:
            for entry in entries:
                file_id = str(entry.get("id", ""))
                pending = self._pending_files.get(file_id)
                if pending is None or pending["content"] is None:
                    return {"ok": False, "error": "file_not_found"}
                content: bytes = pending["content"]
                filename = pending["filename"]
                title = entry.get("title") or filename
                url = f"{self.base_url}/files/{file_id}/{filename}"
                file_obj = {
                    "id": file_id,
                    "created": created,
                    "timestamp": created,
                    "name": filename,
                    "title": title,
                    "mimetype": mimetypes.guess_type(filename)[0] or "application/octet-stream",
                    "filetype": filename.rsplit(".", 1)[-1] if "." in filename else "binary",
                    "user": BOT_USER_ID,
                    "user_team": TEAM_ID,
                    "size": len(content),
                    "mode": "hosted",
                    "is_external": False,
                    "is_public": False,
                    "url_private": url,
                    "url_private_download": url,
                    "permalink": url,
                    "channels": channels,
                }
                self._files[file_id] = {**file_obj, "content": content}
                del self._pending_files[file_id]
                served.append(file_obj)
                uploads.append(
                    {"file_id": file_id, "filename": filename, "title": title, "content": content}
                )
        # What the bot uploaded, for assertions (these keys are not part of Slack's API).
        params["uploads"] = uploads
        params["content"] = uploads[0]["content"]
        return {"ok": True, "files": served}
