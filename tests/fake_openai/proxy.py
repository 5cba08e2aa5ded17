"""A loopback HTTP forward proxy for tests: relays absolute-form requests and records what it relayed."""

from __future__ import annotations

import asyncio
import threading
from contextlib import suppress
from urllib.parse import urlsplit


class LoopbackProxy:
    """An HTTP proxy on 127.0.0.1 (plain HTTP targets only) running on its own thread."""

    def __init__(self, hosts: dict[str, str] | None = None) -> None:
        self.requests: list[str] = []  # request lines as received ("POST http://127.0.0.1:…/v1/… HTTP/1.1")
        self.hosts = hosts or {}  # names it reaches at another address, as a hosts file would (no DNS in tests)
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server: asyncio.base_events.Server | None = None
        self._thread = threading.Thread(target=self._run, name="loopback-proxy", daemon=True)

    def start(self) -> None:
        """Listen on an ephemeral port; ``url`` is the proxy's address."""
        self._thread.start()
        self._ready.wait(10)

    def stop(self) -> None:
        """Stop listening and end the thread."""
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            writer.close()
            return
        first, _, rest = head.partition(b"\r\n")
        method, target, version = first.decode("latin-1").split(" ", 2)
        self.requests.append(first.decode("latin-1"))
        parts = urlsplit(target)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = parts.hostname or ""
        up_reader, up_writer = await asyncio.open_connection(self.hosts.get(host, host), parts.port or 80)
        up_writer.write(f"{method} {path} {version}\r\n".encode("latin-1") + rest)
        await up_writer.drain()

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with suppress(ConnectionError, asyncio.CancelledError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            with suppress(Exception):
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
