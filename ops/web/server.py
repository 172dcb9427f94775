"""The assistant's web page: a small static file server (no internet needed at run time).

Serves `ops/web/static/` at `/`, the rasa-webchat bundle installed by `npm ci` at
`/webchat/index.js`, and `/config.js`, which tells the page where the Rasa socket.io
server listens. `ops.serve` starts it beside Rasa and the action server.
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit

from bot import settings

ROOT = Path(__file__).resolve().parents[2]
STATIC = Path(__file__).resolve().parent / "static"
WEBCHAT_BUNDLE = ROOT / "node_modules" / "rasa-webchat" / "lib" / "index.js"


def socket_url(request_host: str, socket_port: int, configured: Optional[str]) -> str:
    """Where the widget connects: FAQ_SOCKET_URL, else the page's host name on the Rasa port."""
    if configured:
        return configured.rstrip("/")
    hostname = urlsplit(f"//{request_host}").hostname or "localhost"
    if ":" in hostname:  # IPv6 literal
        hostname = f"[{hostname}]"
    return f"http://{hostname}:{socket_port}"


def content_security_policy(socket: str) -> str:
    """Only this server's files and the Rasa socket: no CDN, no third-party font or script."""
    parts = urlsplit(socket)
    ws_scheme = "wss" if parts.scheme == "https" else "ws"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            # the widget injects its own <style> elements
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            f"connect-src 'self' {parts.scheme}://{parts.netloc} {ws_scheme}://{parts.netloc}",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'self'",
        ]
    )


class PageHandler(SimpleHTTPRequestHandler):
    """Static files with security headers; no directory listings."""

    socket_port = 5005
    configured_socket_url: Optional[str] = None

    def _socket_url(self) -> str:
        return socket_url(self.headers.get("Host", ""), self.socket_port, self.configured_socket_url)

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "strict-origin-when-cross-origin")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Content-Security-Policy", content_security_policy(self._socket_url()))
        super().end_headers()

    def _send_bytes(self, body: bytes, content_type: str) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/config.js":
            config = {"socketUrl": self._socket_url()}
            body = f"window.FAQ_ASSISTANT_CONFIG = {json.dumps(config)};\n".encode("utf-8")
            return self._send_bytes(body, "text/javascript; charset=utf-8")
        if path == "/favicon.ico":  # browsers ask for it on pages without <link rel=icon>
            return self._send_bytes((STATIC / "favicon.svg").read_bytes(), "image/svg+xml")
        if path == "/webchat/index.js":
            if not WEBCHAT_BUNDLE.exists():
                return self.send_error(HTTPStatus.NOT_FOUND, "rasa-webchat absent : lancez `make setup` (npm ci)")
            return self._send_bytes(WEBCHAT_BUNDLE.read_bytes(), "text/javascript; charset=utf-8")
        return super().do_GET()

    do_HEAD = do_GET

    def list_directory(self, path):  # noqa: ANN001 - signature of the base class
        self.send_error(HTTPStatus.NOT_FOUND)
        return None

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - base class name
        sys.stderr.write("web: " + (format % args) + "\n")


PageHandler.extensions_map = {
    **SimpleHTTPRequestHandler.extensions_map,
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}


def make_server(host: str, port: int, socket_port: int, configured_socket_url: Optional[str] = None):
    handler = type(
        "Handler", (PageHandler,), {"socket_port": socket_port, "configured_socket_url": configured_socket_url}
    )
    return ThreadingHTTPServer((host, port), partial(handler, directory=str(STATIC)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--socket-port", type=int, default=5005, help="port of the Rasa server (socket.io)")
    args = parser.parse_args(argv)
    server = make_server(args.host, args.port, args.socket_port, settings.current().socket_url or None)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
