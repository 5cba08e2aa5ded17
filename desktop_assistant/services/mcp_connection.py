"""One running MCP server: the SDK client held open by a supervisor task, and its failures in plain words.

The SDK's anyio scopes must be entered and left by the same task, so :class:`ServerConnection` starts a
supervisor task that opens the transport (stdio: the app starts the command, its stderr kept in a temporary
file for the error messages; streamable HTTP: headers given, HTTP error statuses noted) and the ``Client``,
publishes the client, and holds both open until :meth:`ServerConnection.stop`. Calls from other tasks only
use the open session. The read stream is watched, so a server that exits while idle is noticed before the
next call. ``mcp`` is imported only here, and only when a server starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from desktop_assistant.core.errors import ErrorAction, ErrorKind, UserFacingError
from desktop_assistant.core.mcp_config import McpServerConfig, secret_account
from desktop_assistant.core.tools import ToolSpec

if TYPE_CHECKING:
    from mcp import Client

log = logging.getLogger(__name__)

SecretLookup = Callable[[str], Awaitable[str | None]]
STDERR_TAIL_LINES = 12
STDERR_TAIL_CHARS = 1500
_CONNECTION_CLOSED = -32000  # mcp_types.CONNECTION_CLOSED


def leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups, or ``exc`` itself."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in leaves(inner)]
    return [exc]


def is_connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` says the server went away (exited, dropped the connection, or cannot be reached)."""
    import anyio
    import httpx2
    from mcp.shared.exceptions import MCPError

    for leaf in leaves(exc):
        if isinstance(leaf, MCPError) and leaf.code == _CONNECTION_CLOSED:
            return True
        if isinstance(leaf, anyio.ClosedResourceError | anyio.BrokenResourceError | anyio.EndOfStream
                      | httpx2.TransportError | ConnectionError):
            return True
    return False


def _refused(exc: BaseException) -> bool:
    import httpx2

    return any(isinstance(leaf, httpx2.ConnectError | ConnectionRefusedError) for leaf in leaves(exc))


def describe(exc: BaseException) -> str:
    """``exc`` in one short line (exception groups unpacked), for a message's detail."""
    found = [leaf for leaf in leaves(exc) if not isinstance(leaf, asyncio.CancelledError)] or [exc]
    text = "; ".join(f"{type(leaf).__name__}: {leaf}" if str(leaf) else type(leaf).__name__ for leaf in found)
    return text[:500]


class _WatchedReadStream:
    """A transport's read stream that notes its end (the server exited or dropped the connection)."""

    def __init__(self, inner: Any, on_end: Callable[[], None]) -> None:
        self._inner = inner
        self._on_end = on_end

    @property
    def last_context(self) -> Any:
        """The sender's context of the last message, when the inner stream keeps one."""
        return getattr(self._inner, "last_context", None)

    async def receive(self) -> Any:
        """The next message; the end of the stream is noted, then raised as usual."""
        import anyio

        try:
            return await self._inner.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
            self._on_end()
            raise

    def __aiter__(self) -> _WatchedReadStream:
        return self

    async def __anext__(self) -> Any:
        import anyio

        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        """Close the inner stream."""
        await self._inner.aclose()

    async def __aenter__(self) -> _WatchedReadStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


@contextlib.asynccontextmanager
async def _watched(transport: Any, on_end: Callable[[], None]) -> AsyncIterator[tuple[Any, Any]]:
    """``transport`` with its read stream watched for its end."""
    async with transport as (read_stream, write_stream):
        yield _WatchedReadStream(read_stream, on_end), write_stream


class ServerConnection:
    """One started server and the supervisor task that keeps its SDK client open."""

    def __init__(self, config: McpServerConfig, secrets: SecretLookup) -> None:
        self.config = config
        self._secrets = secrets
        self._stderr: IO[bytes] | None = None  # the server's stderr, appended to a temporary file
        self._stderr_path: Path | None = None
        self._stop = asyncio.Event()
        self._ready: asyncio.Future[Client] | None = None
        self._task: asyncio.Task[None] | None = None
        self.client: Client | None = None
        self.tools: list[ToolSpec] | None = None
        self.lost = False
        self.http_error: int | None = None  # the last HTTP error status an HTTP server answered

    def stderr_size(self) -> int:
        """How much the server has written to stderr so far (a mark for :meth:`stderr_tail`)."""
        try:
            return self._stderr_path.stat().st_size if self._stderr_path is not None else 0
        except OSError:
            return 0

    def stderr_tail(self, since: int = 0) -> str:
        """The last lines the server wrote to stderr (after ``since``, a :meth:`stderr_size`: what an earlier call
        wrote is not this call's story); empty for HTTP servers or a silent one."""
        if self._stderr_path is None:
            return ""
        try:  # a handle of its own: the server's writes and this read never share a file offset
            with self._stderr_path.open("rb") as log_file:
                size = log_file.seek(0, os.SEEK_END)
                log_file.seek(max(since, size - STDERR_TAIL_CHARS * 4))
                text = log_file.read().decode("utf-8", "replace")
        except OSError:
            return ""
        lines = [line.rstrip() for line in text.splitlines() if line.strip()]
        return "\n".join(lines[-STDERR_TAIL_LINES:])[-STDERR_TAIL_CHARS:]

    async def _environment(self) -> dict[str, str]:
        env = dict(self.config.env)
        for name in self.config.secret_env:
            env[name] = await self._secret("env", name, "environment variable")
        return env

    async def _headers(self) -> dict[str, str]:
        headers = dict(self.config.headers)
        for name in self.config.secret_headers:
            headers[name] = await self._secret("header", name, "header")
        return headers

    async def _secret(self, kind: Any, name: str, what: str) -> str:
        value = await self._secrets(secret_account(self.config.id, kind, name))
        if not value:
            raise UserFacingError(
                ErrorKind.NO_KEY,
                f"The {what} {name} of the tool server “{self.config.label}” has no saved value. "
                "Enter it again in the server's settings.",
                ErrorAction.OPEN_SETTINGS,
            )
        return value

    async def start(self, timeout: float) -> None:
        """Start the server and complete the MCP handshake; :class:`UserFacingError` when it fails."""
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        if self.config.transport == "stdio":
            values = await self._environment()
            fd, name = tempfile.mkstemp(prefix=f"mcp-{self.config.id}-", suffix=".log")
            self._stderr, self._stderr_path = os.fdopen(fd, "ab"), Path(name)  # append: the server writes at the end
        else:
            values = await self._headers()
        self._task = asyncio.create_task(self._supervise(values), name=f"mcp server {self.config.id}")
        try:
            async with asyncio.timeout(timeout):
                self.client = await asyncio.shield(self._ready)
        except TimeoutError:
            error = self._start_error(f"it did not answer within {timeout:g} seconds", ErrorKind.TIMEOUT)
            await self.stop()
            raise error from None
        except asyncio.CancelledError:
            await self.stop()
            raise
        except Exception as exc:
            reason = describe(exc)
            if self.http_error in (401, 403):
                reason = (f"it refused the request (HTTP {self.http_error}); check its headers, such as an API key "
                          "or token")
            elif self.http_error is not None:
                reason = f"it answered with an error (HTTP {self.http_error})"
            elif _refused(exc):
                reason = "nothing answered at that address"
            elif is_connection_lost(exc):
                reason = ("it exited before answering" if self.config.transport == "stdio"
                          else f"the connection closed before it answered ({reason})")
            elif isinstance(exc, FileNotFoundError):
                reason = "the command was not found"
                first, _, rest = self.config.command.strip().partition(" ")
                if rest.strip():  # "python /path/server.py" typed whole in Command
                    reason += (f" (“{first}” is the command: put “{rest.strip()}” in Arguments, one per line, and "
                               "only the command in Command)")
            error = self._start_error(reason, ErrorKind.SERVER)  # before stop(), which closes its stderr file
            await self.stop()
            raise error from exc

    def _start_error(self, reason: str, kind: ErrorKind) -> UserFacingError:
        tail = self.stderr_tail()
        where = f"“{self.config.command}”" if self.config.transport == "stdio" else self.config.url
        message = f"The tool server “{self.config.label}” ({where}) could not be started: {reason}."
        if tail:
            message += f"\n\nIts last output:\n{tail}"
        return UserFacingError(kind, message, ErrorAction.OPEN_SETTINGS, detail=tail or reason)

    async def _supervise(self, values: dict[str, str]) -> None:
        """The server's life: open the transport and the SDK client, publish it, hold both until :meth:`stop`."""
        assert self._ready is not None
        try:
            from mcp import Client
            from mcp_types import Implementation

            async with contextlib.AsyncExitStack() as stack:
                transport = await self._transport(values, stack)
                client = Client(_watched(transport, self._mark_lost), cache=None,
                                client_info=Implementation(name="desktop-assistant", version="0.1"))
                await stack.enter_async_context(client)
                if not self._ready.done():
                    self._ready.set_result(client)
                await self._stop.wait()
        except asyncio.CancelledError:
            if not self._ready.done():
                self._ready.cancel()
            raise
        except Exception as exc:
            self.lost = True
            if not self._ready.done():
                self._ready.set_exception(exc)
            else:
                log.warning("MCP server %s ended: %s", self.config.id, describe(exc))
        finally:
            self.client = None

    def _mark_lost(self) -> None:
        if not self._stop.is_set():
            log.info("MCP server %s closed its connection", self.config.id)
            self.lost = True

    async def _transport(self, values: dict[str, str], stack: contextlib.AsyncExitStack) -> Any:
        """The SDK transport: stdio (``values`` is the environment) or streamable HTTP (``values``: headers)."""
        if self.config.transport == "stdio":
            from mcp.client.stdio import StdioServerParameters, stdio_client

            params = StdioServerParameters(command=self.config.command, args=list(self.config.args),
                                           env=values or None, cwd=self.config.cwd or None)
            errlog: Any = self._stderr if self._stderr is not None else sys.stderr  # only its fileno() is used
            return stdio_client(params, errlog=errlog)

        import httpx2
        from mcp.client.streamable_http import streamable_http_client

        async def note_errors(response: httpx2.Response) -> None:
            if response.status_code >= 400:
                self.http_error = response.status_code

        http = await stack.enter_async_context(httpx2.AsyncClient(
            headers=values, timeout=httpx2.Timeout(30.0, read=300.0), event_hooks={"response": [note_errors]}))
        return streamable_http_client(self.config.url, http_client=http)

    async def stop(self) -> None:
        """Stop the server (stdio: close its stdin, then terminate it) and wait for the supervisor to end."""
        self._stop.set()
        task = self._task
        if task is not None and self._ready is not None and not self._ready.done():
            task.cancel()  # still starting (a timeout or a cancelled caller): no handshake to wait for
        if task is not None and not task.done():
            _, pending = await asyncio.wait({task}, timeout=10)  # the SDK's own shutdown is bounded (about 6 s)
            if pending:
                task.cancel()
                await asyncio.wait({task}, timeout=5)
        if task is not None and task.done() and not task.cancelled():
            task.exception()  # retrieved: a failure was already reported through ``start`` or the log
        if self._ready is not None and self._ready.done() and not self._ready.cancelled():
            self._ready.exception()
        self.client = None
        if self._stderr is not None:
            with contextlib.suppress(OSError):
                self._stderr.close()
            self._stderr = None
        if self._stderr_path is not None:
            with contextlib.suppress(OSError):
                self._stderr_path.unlink()
            self._stderr_path = None
