"""Tool calls and results in the transcript, as collapsible blocks under a message.

Everything a tool call or result holds is untrusted (the model wrote the arguments, a server wrote the result):
it is shown as plain text only, never as rich text, and only the app's own stored images are loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QFrame, QLabel, QPlainTextEdit, QToolButton, QVBoxLayout, QWidget

from desktop_assistant.core.models import Message, Role
from desktop_assistant.core.tool_arguments import describe_arguments

PREVIEW_CHARS = 80
THUMB_SIDE = 240


def _one_line(text: str, limit: int = PREVIEW_CHARS) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def call_summary(part: dict[str, Any], server_label: str = "") -> str:
    """The header line of a call: the tool, its server and its arguments in short."""
    tool = str(part.get("tool") or part.get("name") or "tool")
    where = f" on {server_label}" if server_label else ""
    return f"Tool call: {tool}{where}  {_one_line(str(part.get('arguments', '')))}".rstrip()


def result_summary(part: dict[str, Any]) -> str:
    """The header line of a result: what happened and its first words."""
    name = str(part.get("name", "tool"))
    if part.get("denied"):
        kind = f"Denied: {name}"
    elif part.get("error"):
        kind = f"Error from {name}"
    else:
        kind = f"Result of {name}"
    return f"{kind}  {_one_line(str(part.get('text', '')))}".rstrip()


class ToolBlock(QFrame):
    """One call or result: a header that opens and closes the full plain text (and images) below it."""

    def __init__(self, summary: str, text: str, images: list[QImage] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tool_block")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(2)
        self.toggle = QToolButton(self)
        self.toggle.setObjectName("tool_block_toggle")
        self.toggle.setCheckable(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.setAccessibleName("Show or hide details")
        self.toggle.toggled.connect(self._on_toggled)
        layout.addWidget(self.toggle)
        self.details = QPlainTextEdit(self)  # plain text only: untrusted content is never interpreted
        self.details.setObjectName("tool_block_details")
        self.details.setReadOnly(True)
        self.details.setAccessibleName("Tool details")
        self.details.setMaximumHeight(240)
        self.details.hide()
        layout.addWidget(self.details)
        self.images: list[QLabel] = []
        for image in images or []:
            label = QLabel(self)
            label.setObjectName("tool_block_image")
            label.setPixmap(QPixmap.fromImage(image.scaled(
                THUMB_SIDE, THUMB_SIDE, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation)))
            label.hide()
            layout.addWidget(label)
            self.images.append(label)
        self.set_content(summary, text)

    def set_content(self, summary: str, text: str) -> None:
        """Show ``summary`` in the header and ``text`` in the details (both plain text)."""
        self.toggle.setText(summary)
        self.toggle.setToolTip("")  # a tooltip would guess rich text from the untrusted summary
        if self.details.toPlainText() != text:
            self.details.setPlainText(text)

    @property
    def summary(self) -> str:
        """The header line."""
        return self.toggle.text()

    def _on_toggled(self, open_: bool) -> None:
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if open_ else Qt.ArrowType.RightArrow)
        self.details.setVisible(open_)
        for label in self.images:
            label.setVisible(open_)


class ToolBlocks(QWidget):
    """The tool calls of an assistant message, or the result of a tool message."""

    def __init__(self, image_loader: Callable[[str], QImage | None] | None = None,
                 server_label: Callable[[str], str] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tool_blocks")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self._image_loader = image_loader
        self._server_label = server_label or (lambda server_id: server_id)
        self.blocks: list[ToolBlock] = []
        self._key: object = None

    def _replace(self, entries: list[tuple[str, str, list[QImage]]]) -> None:
        if len(entries) == len(self.blocks) and all(not images for _s, _t, images in entries):
            for block, (summary, text, _images) in zip(self.blocks, entries, strict=True):
                block.set_content(summary, text)  # same blocks (streaming): keep them open or closed
            return
        for block in self.blocks:
            self._layout.removeWidget(block)
            block.hide()
            block.deleteLater()
        self.blocks = [ToolBlock(summary, text, images, self) for summary, text, images in entries]
        for block in self.blocks:
            self._layout.addWidget(block)
        self.setVisible(bool(self.blocks))

    def show_message(self, message: Message) -> None:
        """Show the tool parts of ``message`` (nothing when it has none)."""
        key = (message.id, repr(message.parts))
        if key == self._key:
            return
        self._key = key
        entries: list[tuple[str, str, list[QImage]]] = []
        for part in message.parts:
            if part.get("type") == "tool_call":
                summary = call_summary(part, self._server_label(str(part.get("server", ""))))
                entries.append((summary, describe_arguments(str(part.get("arguments", ""))), []))
            elif part.get("type") == "tool_result":
                entries.append((result_summary(part), str(part.get("text", "")), self._images(message)))
        self._replace(entries)

    def show_partial(self, calls: list[dict[str, Any]]) -> None:
        """Calls still streaming in: name and arguments so far."""
        self._key = None
        self._replace([(call_summary(c), describe_arguments(str(c.get("arguments", ""))), []) for c in calls])

    def _images(self, message: Message) -> list[QImage]:
        if message.role is not Role.TOOL or self._image_loader is None:
            return []
        out: list[QImage] = []
        for part in message.parts:
            if part.get("type") == "image_url":
                image = self._image_loader(str(part.get("image_url", {}).get("url", "")))
                if image is not None and not image.isNull():
                    out.append(image)
        return out
