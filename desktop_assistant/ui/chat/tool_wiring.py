"""Tools in the chat window: the per-conversation tool picker, the approval card and the transcript's tool blocks.

Built by the app after the window, so the shared window, transcript and message view need no changes: the
window's :class:`~desktop_assistant.ui.chat.tool_views.ToolViews` attaches the blocks to each message view
(and is fed here the calls as they stream), the card is put above the composer, and the picker into the
conversation options panel.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QBoxLayout, QCheckBox, QLabel, QLayout, QVBoxLayout, QWidget

from desktop_assistant.controllers.chat import ChatController
from desktop_assistant.controllers.tools import PendingApproval, ToolLoop
from desktop_assistant.core.mcp_config import McpServerConfig
from desktop_assistant.core.models import Conversation
from desktop_assistant.ui.chat.approval_card import ApprovalCard
from desktop_assistant.ui.chat.composer import Composer
from desktop_assistant.ui.chat.tool_views import ToolViews
from desktop_assistant.ui.chat.transcript import Transcript


class ChatWindow(Protocol):
    """What the wiring needs of the main window."""

    @property
    def transcript(self) -> Transcript: ...

    @property
    def composer(self) -> Composer: ...

    @property
    def options(self) -> QWidget: ...

    @property
    def tool_views(self) -> ToolViews: ...


class ToolsPicker(QWidget):
    """Check boxes for the configured MCP servers whose tools this conversation may use.

    Signals:
        changed(list): the server ids now checked.
    """

    changed = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tools_picker")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 6, 0, 0)
        self.title = QLabel("Tools (MCP servers) this conversation may use:")
        self._layout.addWidget(self.title)
        self.empty = QLabel("No tool servers are set up. Add one in Settings under “Tools (MCP)”.")
        self.empty.setProperty("muted", True)
        self.empty.setWordWrap(True)
        self._layout.addWidget(self.empty)
        self.boxes: dict[str, QCheckBox] = {}

    def show_servers(self, servers: list[McpServerConfig], enabled: list[str]) -> None:
        """List ``servers``, checking the ``enabled`` ones (a server turned off in Settings cannot be checked)."""
        for box in self.boxes.values():
            self._layout.removeWidget(box)
            box.deleteLater()
        self.boxes = {}
        for server in servers:
            box = QCheckBox(server.label if server.enabled else f"{server.label} (turned off in Settings)")
            box.setObjectName(f"tools_server_{server.id}")
            box.setChecked(server.id in enabled)
            box.setEnabled(server.enabled)
            box.toggled.connect(self._emit)
            self._layout.addWidget(box)
            self.boxes[server.id] = box
        self.empty.setVisible(not servers)

    def _emit(self) -> None:
        self.changed.emit([sid for sid, box in self.boxes.items() if box.isChecked()])


class ToolWiring(QObject):
    """Connects the tool loop to the window's widgets."""

    def __init__(self, window: ChatWindow, chat: ChatController, tools: ToolLoop,
                 run: Callable[[str, Coroutine[Any, Any, Any]], object]) -> None:
        super().__init__(window.transcript)
        self._chat = chat
        self._tools = tools
        self._run = run
        self.views = window.tool_views
        self.card = ApprovalCard()
        composer = window.composer
        holder = composer.parentWidget()
        layout = holder.layout() if holder is not None else None
        if layout is not None:
            _insert_before(layout, composer, self.card)
        self.card.answered.connect(lambda call_id, choice: tools.answer(call_id, choice))
        tools.approvalRequested.connect(self._on_approval)
        tools.approvalClosed.connect(self.card.close_request)
        self.picker = ToolsPicker()
        options_layout = window.options.layout()
        if options_layout is not None:
            options_layout.addWidget(self.picker)
        self.picker.changed.connect(self._on_picked)
        chat.conversationOpened.connect(self._on_conversation)
        tools.settings_changed.connect(lambda _settings: self._on_conversation(chat.conversation))
        self._on_conversation(chat.conversation)
        chat.messageChanged.connect(self.views.update_message)
        tools.callsProgress.connect(self.views.show_progress)
        self._composer = composer
        self._running = ""  # the calls running, said; their time counted on the composer's activity line
        self._running_since = 0.0
        self._running_timer = QTimer(self)
        self._running_timer.setInterval(1000)
        self._running_timer.timeout.connect(self._show_running)
        tools.running.connect(self._on_running)

    def _on_running(self, what: str) -> None:
        """A tool runs (nothing else on screen moves meanwhile): say which, and for how long; Stop ends it."""
        self._running, self._running_since = what, time.monotonic()
        if what:
            self._running_timer.start()
        else:
            self._running_timer.stop()
        self._show_running()

    def _show_running(self) -> None:
        if not self._running:
            self._composer.show_activity("")
            return
        seconds = int(time.monotonic() - self._running_since)
        self._composer.show_activity(f"Running {self._running}… {seconds} s" if seconds else
                                     f"Running {self._running}…")

    # -- the Settings tab ------------------------------------------------------------------------------------

    def describe_tools(self, config: McpServerConfig, secrets: dict[str, str], done: Callable[[str], None]) -> None:
        """List ``config``'s tools in the background (``secrets``: typed, not yet saved); ``done`` gets the text."""
        async def describe() -> None:
            done(await self._tools.describe_tools(config, secrets))
        self._run("list tools", describe())

    def store_secrets(self, secrets: dict[str, str]) -> None:
        """Keep server secrets in the keyring (in the background)."""
        self._run("tool server secrets", self._tools.store_secrets(secrets))

    # -- approval and picker ---------------------------------------------------------------------------------

    def _on_approval(self, pending: PendingApproval) -> None:
        self.card.ask(pending)

    def _on_conversation(self, conv: Conversation | None) -> None:
        self.picker.blockSignals(True)
        try:
            self.picker.show_servers(self._tools.configs, conv.tools if conv is not None else [])
        finally:
            self.picker.blockSignals(False)

    def _on_picked(self, server_ids: list[str]) -> None:
        async def apply() -> None:
            conv = await self._chat.ensure_conversation()  # (a new chat is stored: its picker was shown again, empty)
            await self._tools.set_tools(conv, server_ids)
            if self._chat.conversation is conv:
                self._on_conversation(conv)  # the boxes ticked stay ticked, as the tools are on
            await self._tools.learn_definitions(conv)  # counted in the next request before it is sent
        self._run("tools", apply())


def _insert_before(layout: QLayout, anchor: QWidget, widget: QWidget) -> None:
    """Put ``widget`` just above ``anchor`` in ``layout`` (a box layout), or at its end."""
    index = layout.indexOf(anchor)
    if isinstance(layout, QBoxLayout) and index >= 0:
        layout.insertWidget(index, widget)
    else:
        layout.addWidget(widget)
