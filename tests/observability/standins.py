"""Stand-ins for what the observability tests talk to: the Telegram Bot API and a
scrape target that can be brought up on demand."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from devstack import observability as obs
from tests.local_http import QuietHandler, StandIn, serve_in_thread


@dataclass
class TelegramStandIn(StandIn):
    """Records sendMessage calls the way the Bot API receives them and answers like it."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handler(self) -> type[QuietHandler]:
        standin = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                is_json = self.headers.get("Content-Type", "").startswith("application/json")
                params = json.loads(raw) if is_json else dict(parse_qsl(raw))
                standin.paths.append(self.path)
                if self.path.endswith("/sendMessage"):
                    standin.messages.append({"path": self.path, **params})
                chat = {"id": int(params.get("chat_id", 0)), "type": "group", "title": "ops"}
                result = {
                    "message_id": len(standin.messages),
                    "date": int(time.time()),
                    "chat": chat,
                }
                body = json.dumps({"ok": True, "result": {**result, "text": params.get("text")}})
                self.reply(200, body.encode(), "application/json")

        return Handler


def metrics_target(port: int) -> ThreadingHTTPServer:
    """A minimal healthy scrape target on `port` (to make a down target come back)."""

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            body = b"# TYPE standin_ready gauge\nstandin_ready 1\n"
            self.reply(200, body, "text/plain; version=0.0.4")

    return serve_in_thread(Handler, port)


BOT_TOKEN = "123456:TEST-token_for-the-stand-in"
CHAT_ID = "-1001234567890"


@dataclass(frozen=True)
class AlertingStack:
    cfg: obs.Config
    telegram: TelegramStandIn

    @property
    def catalog_port(self) -> int:
        return int(self.cfg.upstreams["catalog"].rsplit(":", 1)[1])
