"""Thumbnails of the images waiting to be sent: each with its detail setting, token cost and a remove button."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QComboBox, QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from desktop_assistant.controllers.images import Attachment
from desktop_assistant.core.images import DETAILS


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
        remove = QToolButton()
        remove.setObjectName("remove_attachment_button")
        remove.setText("✕")
        remove.setAccessibleName(f"Remove {attachment.name}")
        remove.setToolTip("Remove this image")
        remove.clicked.connect(lambda: self.removeRequested.emit(attachment.sha256))
        layout.addWidget(remove, 0, Qt.AlignmentFlag.AlignTop)


class AttachmentsBar(QWidget):
    """The row of chips above the composer (hidden when empty).

    Signals:
        removeRequested(str), detailChosen(str, str): forwarded from the chips.
    """

    removeRequested = Signal(str)
    detailChosen = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("attachments_bar")
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
        self.setVisible(bool(items))

    def set_costs(self, texts: dict[str, str]) -> None:
        """Each image's token count and cost for the selected model, by hash."""
        for chip in self.chips:
            chip.cost.setText(texts.get(chip.attachment.sha256, ""))
