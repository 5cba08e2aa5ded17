"""The transcript's tool blocks: a message view with tool calls or tool results shows them.

Made with the window, so that the first paint already shows a stored conversation's tool calls as blocks;
:class:`~desktop_assistant.ui.chat.tool_wiring.ToolWiring` feeds them the calls streaming in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QBoxLayout, QLabel

from desktop_assistant.core.models import Message, Role, Status, tool_calls
from desktop_assistant.ui.chat.message_view import MessageView
from desktop_assistant.ui.chat.tool_block import ToolBlocks
from desktop_assistant.ui.chat.transcript import Transcript


class ToolViews(QObject):
    """Attaches tool blocks to each message view as it is created (``Transcript.viewCreated``).

    Args:
        server_label: the name shown for a tool server id.
    """

    def __init__(self, transcript: Transcript, server_label: Callable[[str], str]) -> None:
        super().__init__(transcript)
        self._transcript = transcript
        self._label = server_label
        self.blocks: dict[int, ToolBlocks] = {}
        transcript.viewCreated.connect(self.attach)
        for view in list(transcript.views.values()):
            self.attach(view)

    def attach(self, view: MessageView) -> None:
        """Give a new view its tool blocks, if its message has tool parts (others get them when they do)."""
        message = view.message
        if message.role is Role.TOOL or tool_calls(message.parts):
            self._show(self._blocks(view), message)

    def _blocks(self, view: MessageView) -> ToolBlocks:
        """The tool blocks of ``view``, made on first need."""
        message_id = view.message.id
        blocks = self.blocks.get(message_id)
        if blocks is not None and blocks.parent() is view:
            return blocks
        blocks = ToolBlocks(self._transcript.image_loader, self._label, view)
        layout = view.layout()
        if isinstance(layout, QBoxLayout):
            layout.insertWidget(layout.indexOf(view.body) + 1, blocks)
        self.blocks[message_id] = blocks
        view.destroyed.connect(lambda *_: self.blocks.pop(message_id, None))
        if view.message.role is Role.TOOL:
            view.setAccessibleName("Tool result")
            view.body.hide()
            view.action_bar.hide()
            first = layout.itemAt(0) if layout is not None else None
            who = first.widget() if first is not None else None
            if isinstance(who, QLabel):
                who.setText("Tool")
        return blocks

    def _show(self, blocks: ToolBlocks, message: Message) -> None:
        blocks.show_message(message)
        blocks.setVisible(bool(blocks.blocks))
        view = self._transcript.views.get(message.id)
        if view is not None and message.role is Role.ASSISTANT and tool_calls(message.parts):
            view.body.setVisible(bool(message.text.strip()))

    def update_message(self, message: Message) -> None:
        """Show ``message``'s tool parts as they are now (its view, if shown, gets blocks when it needs them)."""
        view = self._transcript.views.get(message.id)
        if view is not None and (message.id in self.blocks or tool_calls(message.parts)):
            self._show(self._blocks(view), message)

    def show_progress(self, message_id: int, calls: list[dict[str, Any]]) -> None:
        """Show the tool calls of a reply still streaming (a late frame must not undo the final message)."""
        view = self._transcript.views.get(message_id)
        if view is not None and view.message.status is Status.STREAMING:
            blocks = self._blocks(view)
            blocks.show_partial(calls)
            blocks.setVisible(True)
