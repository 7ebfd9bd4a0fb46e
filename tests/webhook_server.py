"""A real HTTP server on 127.0.0.1 that records the webhook requests it receives."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class WebhookServer:
    url: str
    requests: list[dict] = field(default_factory=list)
    status: int = 200
    delay: float = 0.0


def start_webhook_server() -> tuple[WebhookServer, ThreadingHTTPServer]:
    """A server answering each POST with `state.status`; stop it with shutdown()."""
    state = WebhookServer(url="")
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            state.requests.append(
                {
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body,
                    "json": json.loads(body) if body else None,
                }
            )
            if state.delay:
                release.wait(state.delay)
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/contact"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.release = release
    return state, server
