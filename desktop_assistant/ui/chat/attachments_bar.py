"""Thumbnails of the images waiting to be sent: each with its detail setting, token cost and a remove button."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPixmap, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_assistant.controllers.files import FileAttachment
from desktop_assistant.controllers.images import Attachment
from desktop_assistant.core.images import DETAILS
from desktop_assistant.ui.tips import plain_tip
from desktop_assistant.ui.viewports import own_viewport


def remove_button(name: str, tip: str) -> QToolButton:
    """The ✕ on a chip (its accessible name says which attachment it removes)."""
    button = QToolButton()
    button.setObjectName("remove_attachment_button")
    button.setText("✕")
    button.setAccessibleName(f"Remove {name}")
    button.setToolTip(tip)
    return button


def chip_frame(chip: QFrame, name: str) -> None:
    """Frame ``chip`` as a chip: a styled panel of its own size, never squeezed (a row of them scrolls)."""
    chip.setObjectName(name)
    chip.setFrameShape(QFrame.Shape.StyledPanel)
    chip.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)


def drop_chips(layout: QHBoxLayout, chips: list[QWidget]) -> None:
    """Take ``chips`` out of ``layout`` and delete them (the caller starts a new list)."""
    for chip in chips:
        layout.removeWidget(chip)
        chip.hide()
        chip.deleteLater()


def elided(label: QLabel, text: str, width: int) -> str:
    """``text`` shortened in the middle (keeping the extension) to fit ``width`` pixels of ``label``."""
    return label.fontMetrics().elidedText(text, Qt.TextElideMode.ElideMiddle, width)


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
        chip_frame(self, "attachment_chip")
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
        name = QLabel()
        name.setTextFormat(Qt.TextFormat.PlainText)
        name.setText(elided(name, attachment.name, 160))
        name.setToolTip(plain_tip(f"{attachment.name} · {attachment.width} x {attachment.height}"
                                  + (f" · {attachment.note}" if attachment.note else "")))
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
        chip_frame(self, "file_chip")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 4, 4)
        column = QVBoxLayout()
        column.setSpacing(2)
        name = QLabel()
        name.setTextFormat(Qt.TextFormat.PlainText)
        name.setText(elided(name, attachment.name, 220))
        kind = f"PDF, {attachment.pages} pages · " if attachment.kind == "pdf" else ""
        part = f"first {len(attachment.text):,} of " if attachment.cut else ""
        name.setToolTip(plain_tip(f"{attachment.name} · {kind}{part}{attachment.original_chars:,} characters"))
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


class AttachmentsBar(QScrollArea):
    """The row of chips above the composer (hidden when empty).

    One row that scrolls sideways when the chips do not fit: each chip keeps its natural size, and the bar's
    minimum width does not depend on how many chips there are (so attachments never widen the window).

    Signals:
        removeRequested(str), detailChosen(str, str), shortenRequested(str): forwarded from the chips.
    """

    removeRequested = Signal(str)
    detailChosen = Signal(str, str)
    shortenRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        viewport = own_viewport(self)  # Qt's own, handed over unwrapped, would make PySide type ~70 classes
        self.setObjectName("attachments_bar")
        self.setAccessibleName("Attachments")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setStyleSheet("QScrollArea#attachments_bar, QWidget#attachments_row { background: transparent; }")
        viewport.setAutoFillBackground(False)
        row = QWidget()
        row.setObjectName("attachments_row")
        self._layout = QHBoxLayout(row)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addStretch(1)
        self._row = row
        self.setWidget(row)  # QScrollArea filters row's events: a chip grew (a price, "Send part"): refit
        self.file_chips: list[FileChip] = []
        self.chips: list[AttachmentChip] = []
        self.hide()

    def minimumSizeHint(self) -> QSize:
        """No minimum width, whatever the number of chips (the row scrolls); one row high."""
        return QSize(0, self._row_height())

    def sizeHint(self) -> QSize:
        return QSize(self._row.sizeHint().width(), self._row_height())

    def ensure_visible(self, chip: QWidget) -> None:
        """Scroll so that the whole of ``chip`` is in view."""
        self.ensureWidgetVisible(chip, 0, 0)

    def _needs_scroll_bar(self) -> bool:
        return self._row.minimumSizeHint().width() > self.width()

    def _row_height(self) -> int:
        height = self._row.sizeHint().height() + 2 * self.frameWidth()
        if self._needs_scroll_bar():
            height += self.horizontalScrollBar().sizeHint().height()
        return height

    def _fit_height(self) -> None:
        """One row of chips, plus the scroll bar when they do not all fit."""
        height = self._row_height()
        if height != self.height() or self.minimumHeight() != height:
            self.setFixedHeight(height)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        handled = super().eventFilter(watched, event)
        # (QScrollArea filters its viewport's events from its constructor on, before ``_row`` exists)
        if event.type() == QEvent.Type.LayoutRequest and watched is getattr(self, "_row", None):
            self._fit_height()
        return handled

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_height()

    def wheelEvent(self, event: QWheelEvent) -> None:
        """An ordinary (vertical) wheel scrolls the row sideways."""
        delta = event.angleDelta()
        bar = self.horizontalScrollBar()
        if delta.x() == 0 and delta.y() != 0 and bar.maximum() > 0:
            bar.setValue(bar.value() - delta.y() * bar.singleStep() // 40)
            event.accept()
            return
        super().wheelEvent(event)

    def _changed(self) -> None:
        self.setVisible(bool(self.chips or self.file_chips))
        self._fit_height()

    def set_items(self, items: list[Attachment], thumbnails: dict[str, QImage]) -> None:
        """Show ``items``."""
        drop_chips(self._layout, list(self.chips))
        self.chips = []
        for i, attachment in enumerate(items):
            chip = AttachmentChip(attachment, thumbnails.get(attachment.sha256), self._row)
            chip.removeRequested.connect(self.removeRequested)
            chip.detailChosen.connect(self.detailChosen)
            self._layout.insertWidget(i, chip)
            self.chips.append(chip)
        self._changed()

    def set_files(self, files: list[FileAttachment]) -> None:
        """Show the text files waiting (after the images)."""
        drop_chips(self._layout, list(self.file_chips))
        self.file_chips = []
        for attachment in files:
            chip = FileChip(attachment, self._row)
            chip.removeRequested.connect(self.removeRequested)
            chip.shortenRequested.connect(self.shortenRequested)
            self._layout.insertWidget(self._layout.count() - 1, chip)
            self.file_chips.append(chip)
        self._changed()

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
