"""MCP tool servers: started on demand, listed, called with a timeout, restarted after a crash, stopped on close.

One :class:`McpServers` per app. Each running server is a :class:`ServerConnection` (``mcp_connection.py``)
whose supervisor task holds the SDK's ``Client`` open until stopped; stopping is a signal to that task,
which is then awaited (no task is left behind). One server start at a time per server: parallel first calls
share it.

Failures become :class:`UserFacingError`: a server that does not start (with the tail of its stderr), a
call that outlasts its timeout (the call is cancelled; the server stays up), a server that dies mid-call
(it is started afresh by the next call: a call is never re-run by itself, since a tool may have effects),
an unknown tool. A tool that reports an error is not a failure: it is a :class:`ToolResult` with
``is_error``, for the model to read. The ``mcp`` SDK is imported only when a server first starts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from desktop_assistant.core.errors import ErrorAction, ErrorKind, UserFacingError
from desktop_assistant.core.mcp_config import McpServerConfig
from desktop_assistant.core.tools import ToolResult, ToolSpec
from desktop_assistant.services.mcp_connection import SecretLookup, ServerConnection, describe, is_connection_lost
from desktop_assistant.services.mcp_results import tool_result, tool_spec

START_TIMEOUT = 30.0
CALL_TIMEOUT = 120.0
_MAX_LIST_PAGES = 50


async def _no_secrets(_account: str) -> str | None:
    return None


class McpServers:
    """The configured MCP servers: started on first use, stopped by :meth:`close`.

    Args:
        servers: the configured servers (disabled ones refuse calls).
        secrets: reads a secret by keyring account (``SecretStore.get_secret``); header and environment
            values named as secret in a config come from it.
        start_timeout: seconds a server has to start and answer the handshake.
    """

    def __init__(self, servers: Iterable[McpServerConfig] = (), secrets: SecretLookup | None = None,
                 *, start_timeout: float = START_TIMEOUT) -> None:
        self._configs = {s.id: s for s in servers}
        self._secrets = secrets or _no_secrets
        self._start_timeout = start_timeout
        self._connections: dict[str, ServerConnection] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._closed = False

    @property
    def configs(self) -> list[McpServerConfig]:
        """The configured servers, in order."""
        return list(self._configs.values())

    def is_running(self, server_id: str) -> bool:
        """Whether ``server_id`` is started and connected."""
        connection = self._connections.get(server_id)
        return connection is not None and connection.client is not None and not connection.lost

    def stderr_tail(self, server_id: str) -> str:
        """The last lines a running stdio server wrote to stderr (its log), or an empty string."""
        connection = self._connections.get(server_id)
        return connection.stderr_tail() if connection is not None else ""

    async def update(self, servers: Iterable[McpServerConfig]) -> None:
        """Use ``servers`` from now on; a running server whose settings changed or that is gone is stopped."""
        self._configs = {s.id: s for s in servers}
        for server_id, connection in list(self._connections.items()):
            if self._configs.get(server_id) != connection.config:
                await self.stop(server_id)

    def _config(self, server_id: str) -> McpServerConfig:
        config = self._configs.get(server_id)
        if config is None:
            raise UserFacingError(ErrorKind.BAD_INPUT, f"There is no tool server “{server_id}” any more.",
                                  ErrorAction.OPEN_SETTINGS)
        if not config.enabled:
            raise UserFacingError(ErrorKind.BAD_INPUT, f"The tool server “{config.label}” is turned off.",
                                  ErrorAction.OPEN_SETTINGS)
        return config

    async def _connected(self, server_id: str) -> ServerConnection:
        if self._closed:
            raise UserFacingError(ErrorKind.INTERNAL, "The app is closing; tools can no longer run.")
        config = self._config(server_id)
        lock = self._locks.setdefault(server_id, asyncio.Lock())
        async with lock:
            connection = self._connections.get(server_id)
            if connection is not None and (connection.lost or connection.client is None):
                await self.stop(server_id)  # it crashed: start it afresh
                connection = None
            if connection is None:
                connection = ServerConnection(config, self._secrets)
                await connection.start(self._start_timeout)
                self._connections[server_id] = connection
            return connection

    async def list_tools(self, server_id: str, *, refresh: bool = False) -> list[ToolSpec]:
        """The tools of ``server_id`` (started if needed), as listed at start unless ``refresh``."""
        connection = await self._connected(server_id)
        if connection.tools is not None and not refresh:
            return list(connection.tools)
        client = connection.client
        assert client is not None
        tools: list[ToolSpec] = []
        cursor: str | None = None
        try:
            for _ in range(_MAX_LIST_PAGES):
                page = await client.list_tools(cursor=cursor)
                tools.extend(tool_spec(server_id, tool) for tool in page.tools)
                cursor = page.next_cursor
                if not cursor:
                    break
        except Exception as exc:
            raise await self._call_failure(connection, "listing its tools", exc) from exc
        connection.tools = tools
        return list(tools)

    async def call_tool(self, server_id: str, tool: str, arguments: dict[str, Any] | None = None,
                        *, timeout: float = CALL_TIMEOUT) -> ToolResult:
        """Run ``tool`` of ``server_id`` with ``arguments``; cancel the caller's task to stop it early.

        Raises :class:`UserFacingError` for an unknown tool, a timeout (the call is cancelled on the server's
        side too), a server that stopped during the call, or one that cannot start.
        """
        tools = await self.list_tools(server_id)
        config = self._configs[server_id]
        if all(spec.name != tool for spec in tools):
            raise UserFacingError(ErrorKind.BAD_INPUT, f"The tool server “{config.label}” has no tool named “{tool}”.")
        connection = await self._connected(server_id)
        client = connection.client
        assert client is not None
        mark = connection.stderr_size()
        try:
            async with asyncio.timeout(timeout):
                result = await client.call_tool(tool, arguments or {})
        except TimeoutError:
            raise UserFacingError(
                ErrorKind.TIMEOUT,
                f"The tool “{tool}” of “{config.label}” did not finish within {timeout:g} seconds, so it was stopped.",
                ErrorAction.RETRY,
            ) from None
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise await self._call_failure(connection, f"running the tool “{tool}”", exc, since=mark) from exc
        return tool_result(result)

    async def _call_failure(self, connection: ServerConnection, doing: str, exc: Exception,
                            since: int = 0) -> UserFacingError:
        label = connection.config.label
        if not is_connection_lost(exc):
            return UserFacingError(ErrorKind.SERVER, f"The tool server “{label}” refused {doing}: {describe(exc)}")
        connection.lost = True
        tail = connection.stderr_tail(since)  # read before stop() closes the server's stderr file
        if self._connections.get(connection.config.id) is connection:
            await self.stop(connection.config.id)  # the next call starts it again
        message = f"The tool server “{label}” stopped while {doing}. It will be started again for the next call."
        if tail:
            message += f"\n\nIts last output:\n{tail}"
        return UserFacingError(ErrorKind.SERVER, message, ErrorAction.RETRY, detail=tail or describe(exc))

    async def stop(self, server_id: str) -> None:
        """Stop ``server_id`` if it runs (the next call starts it again)."""
        connection = self._connections.pop(server_id, None)
        if connection is not None:
            await connection.stop()

    async def close(self) -> None:
        """Stop every server and refuse calls from now on (awaited when the app closes)."""
        self._closed = True
        await asyncio.gather(*(self.stop(server_id) for server_id in list(self._connections)))
