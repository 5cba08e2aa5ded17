"""A streamable HTTP MCP server on loopback, run by uvicorn on a thread, that requires an API-key header."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from tests.mcp_servers.tools import build_server

HEADER = "X-Api-Key"
HEADER_VALUE = "s3cret-value"


class RequireHeader:
    """An ASGI wrapper answering 401 to any HTTP request without ``header: value``."""

    def __init__(self, app: Any, header: str, value: str) -> None:
        self.app = app
        self.header = header.lower().encode()
        self.value = value.encode()
        self.rejected = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and dict(scope["headers"]).get(self.header) != self.value:
            self.rejected += 1
            await send({"type": "http.response.start", "status": 401,
                        "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"missing or wrong API key"})
            return
        await self.app(scope, receive, send)


@contextmanager
def running_http_server() -> Iterator[tuple[str, RequireHeader]]:
    """Serve the test tools at ``http://127.0.0.1:<port>/mcp``; yields the URL and the header check."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)  # connections wait in the backlog until uvicorn accepts: no start-up race
    port = sock.getsockname()[1]
    guard = RequireHeader(build_server("http-tools").streamable_http_app(host="127.0.0.1"), HEADER, HEADER_VALUE)
    server = uvicorn.Server(uvicorn.Config(guard, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/mcp", guard
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()
