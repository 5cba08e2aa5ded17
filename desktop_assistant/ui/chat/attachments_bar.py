"""Thumbnails of the images waiting to be sent: each with its detail setting, token cost and a remove button."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QComboBox, QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from desktop_assistant.controllers.files import FileAttachment
from desktop_assistant.controllers.images import Attachment
from desktop_assistant.core.images import DETAILS


def remove_button(name: str, tip: str) -> QToolButton:
    """The ✕ on a chip (its accessible name says which attachment it removes)."""
    button = QToolButton()
    button.setObjectName("remove_attachment_button")
    button.setText("✕")
    button.setAccessibleName(f"Remove {name}")
    button.setToolTip(tip)
    return button


class AttachmentChip(QFrame):
    """One image: thumbnail, name, detail, cost, remove.

    Signals:
        removeRequested(str): take this image (by hash) off the draft.
        detailChosen(str, str): hash and the detail chosen.
    """

    removeRequested = Signal(str)
    detailChosen = Signal(str, str)

    def __init__(self, attachment: Attachment, thumbnail: QImage | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.attachment = attachment
        self.setObjectName("attachment_chip")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        picture = QLabel()
        picture.setFixedSize(56, 56)
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        if thumbnail is not None and not thumbnail.isNull():
            picture.setPixmap(QPixmap.fromImage(thumbnail).scaled(
                56, 56, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        picture.setAccessibleName(f"Image {attachment.name}")
        layout.addWidget(picture)
        column = QVBoxLayout()
        column.setSpacing(2)
        name = QLabel(attachment.name)
        name.setTextFormat(Qt.TextFormat.PlainText)
        name.setMaximumWidth(160)
        name.setToolTip(f"{attachment.name} · {attachment.width} x {attachment.height}"
                        + (f" · {attachment.note}" if attachment.note else ""))
        column.addWidget(name)
        self.detail = QComboBox()
        self.detail.setObjectName("attachment_detail")
        self.detail.setAccessibleName("Image detail")
        self.detail.setToolTip("How closely the model looks: low is cheap, high sees small text")
        for d in DETAILS:
            self.detail.addItem(d, d)
        self.detail.setCurrentIndex(DETAILS.index(attachment.detail))
        self.detail.currentIndexChanged.connect(
            lambda _i: self.detailChosen.emit(attachment.sha256, self.detail.currentData()))
        column.addWidget(self.detail)
        self.cost = QLabel()
        self.cost.setObjectName("attachment_cost")
        self.cost.setProperty("muted", True)
        self.cost.setTextFormat(Qt.TextFormat.PlainText)
        column.addWidget(self.cost)
        layout.addLayout(column)
        remove = remove_button(attachment.name, "Remove this image")
        remove.clicked.connect(lambda: self.removeRequested.emit(attachment.sha256))
        layout.addWidget(remove, 0, Qt.AlignmentFlag.AlignTop)


class FileChip(QFrame):
    """One text file: name, size, cost, a "send part" button when it is large, remove.

    Signals:
        removeRequested(str): take this file (by key) off the draft.
        shortenRequested(str): send only the first part of it.
    """

    removeRequested = Signal(str)
    shortenRequested = Signal(str)

    def __init__(self, attachment: FileAttachment, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.attachment = attachment
        self.setObjectName("file_chip")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 4, 4)
        column = QVBoxLayout()
        column.setSpacing(2)
        name = QLabel(f"📎 {attachment.name}")
        name.setTextFormat(Qt.TextFormat.PlainText)
        name.setMaximumWidth(220)
        kind = f"PDF, {attachment.pages} pages · " if attachment.kind == "pdf" else ""
        part = f"first {len(attachment.text):,} of " if attachment.cut else ""
        name.setToolTip(f"{attachment.name} · {kind}{part}{attachment.original_chars:,} characters")
        column.addWidget(name)
        self.cost = QLabel()
        self.cost.setObjectName("file_cost")
        self.cost.setProperty("muted", True)
        self.cost.setTextFormat(Qt.TextFormat.PlainText)
        column.addWidget(self.cost)
        self.shorten = QToolButton()
        self.shorten.setObjectName("send_part_button")
        self.shorten.setText("Send part")
        self.shorten.setToolTip("Send only the first part of this file, so that it fits comfortably")
        self.shorten.clicked.connect(lambda: self.shortenRequested.emit(attachment.key))
        self.shorten.hide()
        column.addWidget(self.shorten)
        layout.addLayout(column)
        remove = remove_button(attachment.name, "Remove this file")
        remove.clicked.connect(lambda: self.removeRequested.emit(attachment.key))
        layout.addWidget(remove, 0, Qt.AlignmentFlag.AlignTop)


class AttachmentsBar(QWidget):
    """The row of chips above the composer (hidden when empty).

    Signals:
        removeRequested(str), detailChosen(str, str), shortenRequested(str): forwarded from the chips.
    """

    removeRequested = Signal(str)
    detailChosen = Signal(str, str)
    shortenRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("attachments_bar")
        self.file_chips: list[FileChip] = []
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addStretch(1)
        self.chips: list[AttachmentChip] = []
        self.hide()

    def set_items(self, items: list[Attachment], thumbnails: dict[str, QImage]) -> None:
        """Show ``items``."""
        for chip in self.chips:
            self._layout.removeWidget(chip)
            chip.deleteLater()
        self.chips = []
        for i, attachment in enumerate(items):
            chip = AttachmentChip(attachment, thumbnails.get(attachment.sha256), self)
            chip.removeRequested.connect(self.removeRequested)
            chip.detailChosen.connect(self.detailChosen)
            self._layout.insertWidget(i, chip)
            self.chips.append(chip)
        self.setVisible(bool(self.chips or self.file_chips))

    def set_files(self, files: list[FileAttachment]) -> None:
        """Show the text files waiting (after the images)."""
        for chip in self.file_chips:
            self._layout.removeWidget(chip)
            chip.deleteLater()
        self.file_chips = []
        for attachment in files:
            chip = FileChip(attachment, self)
            chip.removeRequested.connect(self.removeRequested)
            chip.shortenRequested.connect(self.shortenRequested)
            self._layout.insertWidget(self._layout.count() - 1, chip)
            self.file_chips.append(chip)
        self.setVisible(bool(self.chips or self.file_chips))

    def set_file_costs(self, texts: dict[str, tuple[str, bool]]) -> None:
        """Each file's tokens, cost and share of the context, by key; True offers "Send part"."""
        for chip in self.file_chips:
            text, large = texts.get(chip.attachment.key, ("", False))
            chip.cost.setText(text)
            chip.shorten.setVisible(large)

    def set_costs(self, texts: dict[str, str]) -> None:
        """Each image's token count and cost for the selected model, by hash."""
        for chip in self.chips:
            chip.cost.setText(texts.get(chip.attachment.sha256, ""))
