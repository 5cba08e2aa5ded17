"""The images and files of an earlier question being edited, each with a ✕ that leaves it out of the resend
(an image the server refused can be taken out without typing the question again)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QWidget

from desktop_assistant.ui.chat.attachments_bar import chip_frame, drop_chips, elided, remove_button
from desktop_assistant.ui.tips import plain_tip


def part_name(part: dict[str, Any]) -> str:
    """How a stored image or file part is named to the person."""
    if part.get("type") == "image_url":
        return str(part.get("name") or "image")
    return str(part.get("file") or "file")


class EditAttachments(QWidget):
    """One row of small chips, hidden when the question edited has no attachments.

    Signals:
        removed(int): the person left out the attachment at this position of the list shown.
    """

    removed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("edit_attachments")
        self.setAccessibleName("Attachments of the message being edited")
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        self._layout.addStretch(1)
        self.chips: list[QFrame] = []
        self.hide()

    def set_parts(self, parts: list[dict[str, Any]]) -> None:
        """Show ``parts`` (the question's images and files still going with it)."""
        drop_chips(self._layout, list(self.chips))
        self.chips = []
        for i, part in enumerate(parts):
            chip = self._chip(i, part)
            self._layout.insertWidget(i, chip)
            self.chips.append(chip)
        self.setVisible(bool(parts))

    def _chip(self, index: int, part: dict[str, Any]) -> QFrame:
        image = part.get("type") == "image_url"
        name = part_name(part)
        chip = QFrame()
        chip_frame(chip, "file_chip")
        row = QHBoxLayout(chip)
        row.setContentsMargins(6, 2, 2, 2)
        label = QLabel()
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setText(elided(label, f"{'Image' if image else 'File'}: {name}", 200))  # (no emoji: fonts lack them)
        size = part.get("size")
        detail = part.get("image_url", {}).get("detail", "") if image else ""
        about = f" · {size[0]} x {size[1]}" if isinstance(size, list) and len(size) == 2 else ""
        label.setToolTip(plain_tip(f"{name}{about}{f' · detail {detail}' if detail else ''}"))
        row.addWidget(label)
        what = "image" if image else "file"
        remove = remove_button(name, f"Leave this {what} out when the question is sent again")
        remove.clicked.connect(lambda: self.removed.emit(index))
        row.addWidget(remove)
        return chip
