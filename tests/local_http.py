"""Small HTTP servers on 127.0.0.1 in a background thread, for stand-ins the tests control."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


def serve_in_thread(handler: type[BaseHTTPRequestHandler], port: int = 0) -> ThreadingHTTPServer:
    """Serve `handler` on `port` (0: any free port) until `shut_down`."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def shut_down(server: ThreadingHTTPServer | None) -> None:
    if server is not None:
        server.shutdown()
        server.server_close()


class QuietHandler(BaseHTTPRequestHandler):
    """A handler that answers in one call and keeps the test output free of access logs."""

    def reply(
        self, status: int, body: bytes, content_type: str, headers: Mapping[str, str] = {}
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class StandIn:
    """A stand-in server: `start` serves the subclass's `handler()` on a free port."""

    server: ThreadingHTTPServer | None = field(default=None, init=False)

    @property
    def port(self) -> int:
        assert self.server is not None, "not started"
        return self.server.server_address[1]

    def handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def start(self) -> Self:
        self.server = serve_in_thread(self.handler())
        return self

    def stop(self) -> None:
        shut_down(self.server)
