"""Tools in chat: the tool loop around the chat stream, approval of each call, and the results stored.

The chat controller streams one request at a time; this module adds what tools need around it:
- :meth:`ToolLoop.prepare` lists the tools of the conversation's enabled servers (started on demand) into a
  :class:`ToolStep`: the request's ``tools``, the estimate of their tokens, and a merger for the streamed calls
  (shown as they arrive through ``callsProgress``);
- :meth:`ToolLoop.follow` runs while replies end with ``tool_calls``: each call is shown and approved (an inline
  card listens to ``approvalRequested``), approved calls run concurrently with the settings' timeout, every
  result is stored as a ``tool`` message (a refusal, a problem with the call or a tool's error goes back to the
  model as text), then the next request streams; bounded by ``Settings.tool_step_limit``.
Stop (the runner cancels the reply task) during approval or a call stores a "stopped" result for each call
that has none: nothing already returned is lost, and the history stays valid for the API.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from PySide6.QtCore import QObject, QTimer, Signal, SignalInstance

from desktop_assistant.controllers.endpoint import EndpointController
from desktop_assistant.controllers.images import Attachment, decode, normalise
from desktop_assistant.core.errors import ErrorAction, UserFacingError
from desktop_assistant.core.mcp_config import (
    McpServerConfig,
    allow_always,
    approvals_from_json,
    approvals_to_json,
    is_always_allowed,
    servers_from_json,
)
from desktop_assistant.core.models import (
    Conversation,
    Message,
    Role,
    Status,
    tool_call_part,
    tool_calls,
    tool_result_part,
)
from desktop_assistant.core.tokens import estimate_tool_definitions
from desktop_assistant.core.tool_calls import ToolCallMerger
from desktop_assistant.core.tools import (
    ToolCallProblem,
    ToolResult,
    ToolSet,
    build_tool_set,
    parse_arguments,
    pretty_arguments,
    result_text,
)
from desktop_assistant.services.gateway import ToolCallDelta
from desktop_assistant.services.image_store import ImageStore
from desktop_assistant.services.mcp_servers import McpServers
from desktop_assistant.services.secrets import SecretStore
from desktop_assistant.services.store import Store

log = logging.getLogger(__name__)

Choice = Literal["once", "always", "deny"]
DENIED = "The person declined to run this tool call. Do not try it again unless they ask; answer without it."
PROGRESS_MS = 33
STOPPED = "[Stopped: the person stopped this call before it finished.]"
NOT_RUN = "[Not run: the person stopped before allowing this call.]"


@dataclass
class ToolStep:
    """One request's tools: what is sent, what it costs (an estimate), and the calls streaming back."""

    tool_set: ToolSet | None = None
    extra_tokens: int = 0
    merger: ToolCallMerger = field(default_factory=ToolCallMerger)
    on_progress: Callable[[list[dict[str, Any]]], None] | None = None

    @property
    def feature(self) -> str:
        """The ledger feature of the request: ``tools`` when it carries tool definitions."""
        return "tools" if self.tool_set is not None else "chat"

    def body(self) -> dict[str, Any]:
        """What the request body gains (its ``tools``), or nothing."""
        return {"tools": self.tool_set.definitions} if self.tool_set is not None else {}

    def add(self, event: ToolCallDelta) -> None:
        """Merge a streamed fragment and report the calls so far."""
        self.merger.add(event.index, event.id, event.name, event.arguments)
        if self.on_progress is not None:
            self.on_progress(self.partial())

    def partial(self) -> list[dict[str, Any]]:
        """The calls as they stand (arguments possibly incomplete), for display."""
        return [{"index": c.index, "id": c.id, "name": c.name, "arguments": c.arguments}
                for c in self.merger.ordered()]

    def parts(self) -> list[dict[str, Any]]:
        """The stored ``tool_call`` parts of the reply, each with the server tool behind its name (if any)."""
        out: list[dict[str, Any]] = []
        for number, call in enumerate(self.merger.ordered()):
            spec = self.tool_set.targets.get(call.name) if self.tool_set is not None else None
            out.append(tool_call_part(call.id or f"call_{number}", call.name, call.arguments,
                                      spec.server_id if spec else "", spec.name if spec else ""))
        return out


@dataclass(frozen=True)
class PendingApproval:
    """A call waiting for the person's yes or no (every string is untrusted: show as plain text)."""

    call_id: str
    function: str
    server_id: str
    server_label: str
    tool: str
    arguments: str  # pretty JSON
    later: int = 0  # calls of the same reply still to be asked about after this one


@dataclass
class _Outcome:
    text: str
    error: bool = False
    denied: bool = False
    status: Status = Status.COMPLETE
    images: list[dict[str, Any]] = field(default_factory=list)


class ToolLoop(QObject):
    """Tools for the chat controller (set as ``ChatController.tools``).

    Signals:
        callsProgress(int, list): a streaming reply's id and its tool calls so far (dicts: index, id, name,
            arguments).
        approvalRequested(object): a :class:`PendingApproval`; answer with :meth:`answer`.
        approvalClosed(str): the call id whose approval is no longer wanted (answered, or stopped).
        toolsChanged(list): the server ids enabled in the conversation just changed.
        definitionsKnown(): the tool definitions of servers just enabled were listed (the next request's count
            can include them).
        running(str): the calls now running, said for the person ("“search” of My tools"); "" once they ended.
    """

    callsProgress = Signal(int, list)
    approvalRequested = Signal(object)
    approvalClosed = Signal(str)
    toolsChanged = Signal(list)
    definitionsKnown = Signal()
    running = Signal(str)

    def __init__(self, store: Store, endpoint: EndpointController, servers: McpServers, images: ImageStore,
                 secrets: SecretStore | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._secrets = secrets
        self._store = store
        self._endpoint = endpoint
        self.servers = servers
        self._images = images
        self._waiting: dict[str, asyncio.Future[Choice]] = {}
        self.pending: list[PendingApproval] = []
        self._tool_set: ToolSet | None = None
        self._definitions: dict[tuple[str, ...], list[dict[str, Any]]] = {}  # enabled servers -> last definitions
        self._progress: tuple[int, list[dict[str, Any]]] | None = None
        self._frame = QTimer(self)  # streamed calls are shown at most once per frame, not once per fragment
        self._frame.setSingleShot(True)
        self._frame.setInterval(PROGRESS_MS)
        self._frame.timeout.connect(self._emit_progress)

    @property
    def settings_changed(self) -> SignalInstance:
        """Emitted with the new ``Settings`` when they were saved (servers may have changed)."""
        return self._endpoint.settingsChanged

    # -- configuration -----------------------------------------------------------------------------------------

    @property
    def configs(self) -> list[McpServerConfig]:
        """The configured servers, from the settings."""
        return servers_from_json(self._endpoint.settings.mcp_servers)[0]

    def enabled(self, conv: Conversation | None) -> list[McpServerConfig]:
        """The servers ``conv`` may use that are configured and turned on."""
        wanted = set(conv.tools) if conv is not None else set()
        return [c for c in self.configs if c.id in wanted and c.enabled]

    async def set_tools(self, conv: Conversation, server_ids: list[str]) -> None:
        """Let ``conv`` use the tools of ``server_ids`` from its next request on."""
        conv.tools = list(dict.fromkeys(server_ids))
        await self._store.update_conversation(conv.id, tools=conv.tools)
        self.toolsChanged.emit(list(conv.tools))

    async def describe_tools(self, config: McpServerConfig, typed: dict[str, str] | None = None) -> str:
        """The tools of ``config`` (started on its own, then stopped) as plain text, or why they cannot be listed.

        ``typed``: secrets entered but not saved yet, by keyring account (they win over the keyring's).
        """
        pending = dict(typed or {})

        async def lookup(account: str) -> str | None:
            if account in pending:
                return pending[account]
            return await self._secrets.get_secret(account) if self._secrets is not None else None
        probe = McpServers([replace(config, enabled=True)], lookup)
        try:
            specs = await probe.list_tools(config.id)
        except UserFacingError as exc:
            return exc.message
        finally:
            await probe.close()
        if not specs:
            return "This server offers no tools."
        blocks = []
        for spec in specs:
            schema = json.dumps(dict(spec.input_schema), indent=2, ensure_ascii=False)
            blocks.append(f"{spec.name}: {spec.description.strip() or spec.title or '(no description)'}\n"
                          f"Arguments: {schema}")
        return "\n\n".join(blocks)

    async def store_secrets(self, secrets: dict[str, str]) -> None:
        """Keep each value under its keyring account (header and environment secrets of servers)."""
        if self._secrets is None:
            return
        for account, value in secrets.items():
            await self._secrets.set_secret(account, value)
        await self.servers.update([])  # running servers restart with the new values on their next call
        await self.servers.update(self.configs)

    # -- one request -------------------------------------------------------------------------------------------

    async def learn_definitions(self, conv: Conversation) -> None:
        """List the tools of the servers ``conv`` has just turned on, so that the count of its next request
        includes their definitions before it is sent (a server that cannot start says so at the request)."""
        servers = self.enabled(conv)
        if not servers or tuple(sorted(s.id for s in servers)) in self._definitions:
            return
        try:
            await self._listed(servers)
        except UserFacingError as exc:
            log.info("the tools could not be listed yet: %s", exc.message)
            return
        self.definitionsKnown.emit()

    def known_definitions(self, conv: Conversation | None) -> list[dict[str, Any]] | None:
        """The tool definitions ``conv``'s next request would carry, as last listed (None: tools are on but not
        listed yet, their servers start with the first request; [] when no tools are on)."""
        servers = self.enabled(conv)
        if not servers:
            return []
        return self._definitions.get(tuple(sorted(s.id for s in servers)))

    async def prepare(self, conv: Conversation, model: str, reply_id: Callable[[], int | None]) -> ToolStep:
        """The tools of ``conv``'s next request (servers started as needed; a failed start raises its error)."""
        servers = self.enabled(conv)
        if not servers:
            return ToolStep()
        tool_set = self._tool_set = await self._listed(servers)
        has_system = bool(conv.system_prompt.strip())
        extra = estimate_tool_definitions(tool_set.definitions, model, merged_into_system=has_system).tokens

        def progress(calls: list[dict[str, Any]]) -> None:
            rid = reply_id()
            if rid is not None:
                self._progress = (rid, calls)
                if not self._frame.isActive():
                    self._frame.start()
        return ToolStep(tool_set, extra, on_progress=progress)

    async def _listed(self, servers: list[McpServerConfig]) -> ToolSet:
        """The tools of ``servers`` (started as needed; a failed start raises its error), their definitions kept
        for :meth:`known_definitions`."""
        if self.servers.configs != self.configs:  # changed in Settings: stop what changed, know what is new
            await self.servers.update(self.configs)
        specs = []
        for server in servers:
            specs.extend(await self.servers.list_tools(server.id))
        tool_set = build_tool_set(specs)
        self._definitions[tuple(sorted(s.id for s in servers))] = tool_set.definitions
        return tool_set

    def _emit_progress(self) -> None:
        if self._progress is not None:
            self.callsProgress.emit(*self._progress)
            self._progress = None

    # -- the loop ----------------------------------------------------------------------------------------------

    @staticmethod
    def wants_tools(reply: Message | None) -> bool:
        """Whether ``reply`` asked for tools and ended cleanly (so the calls run)."""
        return (reply is not None and reply.status is Status.COMPLETE and reply.finish_reason == "tool_calls"
                and bool(tool_calls(reply.parts)))

    async def follow(self, conv: Conversation, reply: Message | None,
                     next_step: Callable[[Message], Awaitable[Message | None]],
                     append: Callable[[Message], None], changed: Callable[[Message], None],
                     current: Callable[[], Conversation | None]) -> None:
        """Run the calls of ``reply`` and ask again, while the model calls tools, up to the step limit.

        The results are always stored; they are shown, and the next step asked, only while ``conv`` is still
        the conversation shown (``current``): the next request is built from what is shown.
        """
        steps = 1
        limit = max(1, int(self._endpoint.settings.tool_step_limit))
        while reply is not None and self.wants_tools(reply):
            results = await self.run_calls(conv, reply, lambda m: append(m) if current() is conv else None)
            if current() is not conv:
                return  # another conversation was opened meanwhile: it goes on when the person asks again
            if steps >= limit:
                await self._limit_reached(reply, limit, changed)
                return
            reply = await next_step(results[-1])
            steps += 1

    async def _limit_reached(self, reply: Message, limit: int, changed: Callable[[Message], None]) -> None:
        message = (f"The model used tools {limit} times in a row, the step limit set in Settings > Tools (MCP), so "
                   "it was stopped there. The tool results are kept: send a message to let it go on.")
        await self._store.update_message(reply.id, error=message, error_action=ErrorAction.NONE.value)
        reply.error, reply.error_action = message, ErrorAction.NONE.value
        changed(reply)

    async def run_calls(self, conv: Conversation, reply: Message, append: Callable[[Message], None]) -> list[Message]:
        """Approve and run every call of ``reply``; the stored ``tool`` messages, one per call, in order."""
        calls = tool_calls(reply.parts)
        outcomes: dict[str, _Outcome] = {}
        runs: list[tuple[dict[str, Any], dict[str, Any]]] = []
        try:
            for number, call in enumerate(calls, 1):
                ready = await self._approved(call, outcomes, later=len(calls) - number)
                if ready is not None:
                    runs.append((call, ready))
            if runs:
                self.running.emit(self._running_text([call for call, _arguments in runs]))
            try:
                await asyncio.gather(*(self._run(call, arguments, outcomes) for call, arguments in runs))
            finally:
                if runs:
                    self.running.emit("")
        except asyncio.CancelledError:
            started = {call["id"] for call, _arguments in runs}
            for call in calls:  # a call stopped while it waited to be allowed never ran: it says so
                outcomes.setdefault(call["id"], _Outcome(STOPPED if call["id"] in started else NOT_RUN,
                                                         status=Status.STOPPED))
            await asyncio.shield(self._store_results(conv, reply, calls, outcomes, append))
            raise
        return await self._store_results(conv, reply, calls, outcomes, append)

    def _running_text(self, calls: list[dict[str, Any]]) -> str:
        labels = {c.id: c.label for c in self.configs}
        if len(calls) == 1:
            call = calls[0]
            server = str(call.get("server") or "")
            return f"“{call.get('tool') or call.get('name')}” of {labels.get(server, server)}" if server \
                else f"“{call.get('name')}”"
        return f"{len(calls)} tools"

    async def _approved(self, call: dict[str, Any], outcomes: dict[str, _Outcome],
                        later: int = 0) -> dict[str, Any] | None:
        """The arguments of ``call`` once the person allows it; None when it cannot run (outcome recorded)."""
        try:
            if not call.get("server"):
                if self._tool_set is None:
                    raise ToolCallProblem(f"There is no tool named {call['name']!r}.")
                self._tool_set.resolve(call["name"])  # raises with the names that exist
            arguments = parse_arguments(call.get("arguments"))
        except ToolCallProblem as problem:
            outcomes[call["id"]] = _Outcome(problem.message, error=True)
            return None
        server, tool = str(call["server"]), str(call["tool"])
        approvals = approvals_from_json(self._endpoint.settings.mcp_always_allow)
        if is_always_allowed(approvals, server, tool):
            return arguments
        label = next((c.label for c in self.configs if c.id == server), server)
        choice = await self._ask(PendingApproval(call["id"], call["name"], server, label, tool,
                                                 pretty_arguments(arguments), later=later))
        if choice == "deny":
            outcomes[call["id"]] = _Outcome(DENIED, denied=True)
            return None
        if choice == "always":
            approvals = approvals_from_json(self._endpoint.settings.mcp_always_allow)
            self._endpoint.update_settings(mcp_always_allow=approvals_to_json(allow_always(approvals, server, tool)))
        return arguments

    async def _ask(self, pending: PendingApproval) -> Choice:
        future: asyncio.Future[Choice] = asyncio.get_running_loop().create_future()
        self._waiting[pending.call_id] = future
        self.pending.append(pending)
        self.approvalRequested.emit(pending)
        try:
            return await future
        finally:
            self._waiting.pop(pending.call_id, None)
            self.pending = [p for p in self.pending if p.call_id != pending.call_id]
            self.approvalClosed.emit(pending.call_id)

    def answer(self, call_id: str, choice: Choice) -> None:
        """The person's answer to the approval of ``call_id``: ``once``, ``always`` or ``deny``."""
        future = self._waiting.get(call_id)
        if future is not None and not future.done():
            future.set_result(choice)
            self.pending = [p for p in self.pending if p.call_id != call_id]

    async def _run(self, call: dict[str, Any], arguments: dict[str, Any], outcomes: dict[str, _Outcome]) -> None:
        timeout = float(self._endpoint.settings.mcp_call_timeout_seconds)
        try:
            result = await self.servers.call_tool(str(call["server"]), str(call["tool"]), arguments,
                                                  timeout=timeout)
        except UserFacingError as exc:
            outcomes[call["id"]] = _Outcome(f"The tool could not run: {exc.message}", error=True)
            return
        images = await asyncio.to_thread(self._stored_images, result, str(call["name"]))
        outcomes[call["id"]] = _Outcome(result_text(result), error=result.is_error, images=images)

    def _stored_images(self, result: ToolResult, name: str) -> list[dict[str, Any]]:
        """The result's images stored like chat images (worker thread); one that does not decode is left out."""
        parts: list[dict[str, Any]] = []
        for number, image in enumerate(result.images, 1):
            try:
                picture, _note = decode(image.data, f"{name}-{number}")
                stored, mime, width, height = normalise(picture)
            except UserFacingError as exc:
                log.info("a tool image was not kept: %s", exc.message)
                continue
            digest = self._images.put(stored, mime)
            parts.append(Attachment(digest, mime, width, height, f"{name}-{number}").part())
        return parts

    async def _store_results(self, conv: Conversation, reply: Message, calls: list[dict[str, Any]],
                             outcomes: dict[str, _Outcome], append: Callable[[Message], None]) -> list[Message]:
        messages: list[Message] = []
        parent = reply.id
        for call in calls:
            outcome = outcomes[call["id"]]
            parts = [tool_result_part(call["id"], call["name"], outcome.text, error=outcome.error,
                                      denied=outcome.denied), *outcome.images]
            message = await self._store.add_message(conv.id, parent, Role.TOOL, parts, status=outcome.status)
            parent = message.id
            messages.append(message)
            append(message)
        conv.current_leaf_id = parent  # add_message made it the current leaf on disk
        return messages
