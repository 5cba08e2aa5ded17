"""Fetching an image the person pasted the address of, from a real HTTP server on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from desktop_assistant.core.errors import UserFacingError
from desktop_assistant.services.fetch import fetch_image

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


PAGES = {"/cat.png": ("image/png", PNG), "/page": ("text/html; charset=utf-8", b"<html></html>"),
         "/big.png": ("image/png", PNG * 40_000)}


class _Pictures(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        kind, body = PAGES.get(self.path, ("", b""))
        self.send_response(200 if kind else 404)
        self.send_header("Content-Type", kind or "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def pictures() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pictures)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def test_an_image_is_fetched(pictures: str) -> None:
    assert await fetch_image(f"{pictures}/cat.png", 1_000_000) == PNG


@pytest.mark.parametrize(("path", "said"), [
    ("/missing.png", "could not be fetched (the server answered 404)."),
    ("/page", "is not an image (it is text/html)."),
    ("/big.png", "is larger than 1 MB."),
])
async def test_what_stands_in_the_way_is_said_plainly(pictures: str, path: str, said: str) -> None:
    """Each refusal in its own words (every one read "FrozenInstanceError" once: a frozen exception cannot
    pass through a ``with`` block's exit)."""
    with pytest.raises(UserFacingError) as caught:
        await fetch_image(f"{pictures}{path}", 1024 * 1024)
    assert caught.value.message.endswith(said), caught.value.message


async def test_a_server_that_is_not_there_is_said(pictures: str) -> None:
    with pytest.raises(UserFacingError) as caught:
        await fetch_image("http://127.0.0.1:9/cat.png", 1024)
    assert "could not be fetched: ConnectError" in caught.value.message
