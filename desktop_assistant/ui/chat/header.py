"""The header: the conversation's title, the model picker and the conversation options."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QWidget,
)

from desktop_assistant.core.catalog import lookup
from desktop_assistant.ui import icons
from desktop_assistant.ui.tips import plain_tip

if TYPE_CHECKING:
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QPaintEvent


class ModelPicker(QComboBox):
    """The model combo box; says when its list is about to be looked at."""

    popupOpening = Signal()

    def showPopup(self) -> None:
        """Tell listeners (who may refresh the list), then open the list."""
        self.popupOpening.emit()
        super().showPopup()


class TitleEdit(QLineEdit):
    """The title field: while it is not being edited, a title too long for its width ends in "…" (a line
    edit would cut it mid-letter at its edge)."""

    def shown(self) -> str:
        """The text painted: the whole title while it is edited or when it fits, else cut with "…"."""
        text = self.text()
        if self.hasFocus() or not text:
            return text
        width = self._text_area().width()
        metrics = self.fontMetrics()
        return text if metrics.horizontalAdvance(text) <= width else metrics.elidedText(
            text, Qt.TextElideMode.ElideRight, width)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint as a line edit unless the title is shown cut short."""
        shown = self.shown()
        if shown == self.text():
            super().paintEvent(event)
            return
        from PySide6.QtGui import QPainter  # only a cut title needs it

        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(self._text_area(), int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), shown)
        painter.end()

    def _text_area(self) -> QRect:
        # the title has no frame, so the style's contents rectangle is the widget's; 2 and 1 are the inner
        # margins QLineEdit keeps around its text
        return self.contentsRect().marginsRemoved(self.textMargins()).adjusted(2, 1, -2, -1)


TITLE_ROOM = 200
"""Pixels the title keeps before the header turns compact (about 15 characters of it)."""


class Header(QWidget):
    """Title (click to rename), model picker, options button.

    Signals:
        renameRequested(str): the title was edited.
        modelChosen(str): the person chose a model.
        modelsWanted(): the person opened the model list or typed in it (a moment to refresh it).
        optionsToggled(bool): show or hide the conversation options.
        settingsRequested(): open Settings.
    """

    renameRequested = Signal(str)
    modelChosen = Signal(str)
    modelsWanted = Signal()
    optionsToggled = Signal(bool)
    settingsRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 8, 12, 8)
        layout.setSpacing(8)
        self.title = TitleEdit()
        self.title.setObjectName("conversation_title")
        self.title.setAccessibleName("Conversation title")
        self.title.setFrame(False)
        self.title.setPlaceholderText("New chat")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.title.setFont(font)
        self.title.editingFinished.connect(self._on_title_edited)
        layout.addWidget(self.title, 1)
        label = QLabel("Model")
        label.setProperty("muted", True)
        self.model_picker = ModelPicker()
        self.model_picker.popupOpening.connect(self.modelsWanted)
        self.model_picker.setObjectName("model_picker")
        self.model_picker.setAccessibleName("Model")
        self.model_picker.setToolTip("The model for this conversation (type to filter)")
        self.model_picker.setEditable(True)
        self.model_picker.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.model_picker.setMinimumContentsLength(20)
        completer = QCompleter(self.model_picker.model(), self.model_picker)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.model_picker.setCompleter(completer)
        self.model_picker.activated.connect(self._on_model_activated)
        line = self.model_picker.lineEdit()
        assert line is not None
        line.editingFinished.connect(self._on_model_typed)
        line.textEdited.connect(self.modelsWanted)
        line.installEventFilter(self)
        label.setBuddy(self.model_picker)
        self.model_label = label
        layout.addWidget(label)
        layout.addWidget(self.model_picker)
        self.options_button = QToolButton()
        self.options_button.setObjectName("options_button")
        self.options_button.setText("Options")
        self.options_button.setCheckable(True)
        icons.set_icon(self.options_button, "options")
        self.options_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.options_button.setAccessibleName("Conversation options")
        self.options_button.setToolTip("System prompt, temperature and max output tokens")
        self.options_button.toggled.connect(self.optionsToggled)
        layout.addWidget(self.options_button)
        self.settings_button = QToolButton()
        self.settings_button.setObjectName("settings_button")
        self.settings_button.setText("Settings")
        self.settings_button.setAccessibleName("Settings")
        icons.set_icon(self.settings_button, "settings")
        self.settings_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.settings_button.setToolTip("API key, endpoint and defaults (Ctrl+,)")
        self.settings_button.clicked.connect(self.settingsRequested)
        layout.addWidget(self.settings_button)
        self._model = ""
        self._roomy_width: int | None = None  # the width everything needs with its words shown (then measured)
        self.compact = False

    def resizeEvent(self, event: QResizeEvent) -> None:
        """In a narrow window the buttons show their icons only and the model box its start, so that the title
        keeps room to be read (it was cut to its first letter)."""
        super().resizeEvent(event)
        self._fit_words(event.size().width())

    def changeEvent(self, event: QEvent) -> None:
        """A new font (the text size setting) or style changes what the words need: measured again."""
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._set_compact(False)
            self._roomy_width = None
            QTimer.singleShot(0, self, lambda: self._fit_words(self.width()))  # (not for a header since deleted)

    def _fit_words(self, width: int) -> None:
        if self._roomy_width is None and not self.compact:
            self._layout.invalidate()
            others = self._layout.sizeHint().width() - self.title.sizeHint().width()
            self._roomy_width = others + TITLE_ROOM
        self._set_compact(self._roomy_width is not None and width < self._roomy_width)

    def _set_compact(self, compact: bool) -> None:
        if compact == self.compact:
            return
        self.compact = compact
        self.model_label.setVisible(not compact)
        self.model_picker.setMinimumContentsLength(12 if compact else 20)
        style = Qt.ToolButtonStyle.ToolButtonIconOnly if compact else Qt.ToolButtonStyle.ToolButtonTextBesideIcon
        for button in (self.options_button, self.settings_button):
            button.setToolButtonStyle(style)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Esc in the model box puts back the model in use (what was typed is dropped, not chosen)."""
        line = self.model_picker.lineEdit()
        if (watched is line and line is not None and event.type() in (QEvent.Type.ShortcutOverride,
                                                                     QEvent.Type.KeyPress)
                and isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Escape
                and line.text() != self._model):
            if event.type() == QEvent.Type.KeyPress:
                self.set_model(self._model)
                line.selectAll()
            event.accept()  # here, not the window's Esc (which stops a reply)
            return True
        return super().eventFilter(watched, event)

    def set_title(self, title: str) -> None:
        """Show the conversation's title (from its start: a long one is cut at its end, not its beginning)."""
        self.title.setText(title)
        self.title.setCursorPosition(0)
        self.title.setToolTip(plain_tip(f"{title} (click to rename)") if title else "")

    def _on_title_edited(self) -> None:
        if self.title.isModified():
            self.title.setModified(False)
            self.renameRequested.emit(self.title.text())

    def set_models(self, models: list[str], current: str) -> None:
        """Offer ``models`` (vision-capable ones marked) with ``current`` selected; what the person is typing
        in the box meanwhile stays as typed."""
        line = self.model_picker.lineEdit()
        typing = line is not None and line.hasFocus() and line.text() != current
        typed, cursor = (line.text(), line.cursorPosition()) if line is not None else ("", 0)
        self.model_picker.blockSignals(True)
        self.model_picker.clear()
        for m in dict.fromkeys([*models, current]):
            if not m:
                continue
            self.model_picker.addItem(m, m)
            index = self.model_picker.count() - 1
            info = lookup(m)
            if info.vision:
                self.model_picker.setItemData(index, plain_tip(f"{m} · sees images"), Qt.ItemDataRole.ToolTipRole)
        self.model_picker.blockSignals(False)
        self.set_model(current)
        if typing and line is not None:
            line.setText(typed)
            line.setCursorPosition(cursor)
            completer = self.model_picker.completer()
            if completer is not None and typed:  # the suggestions shown were of the old list: filter the new one
                completer.setCompletionPrefix(typed)
                popup = completer.popup()
                if popup is not None and popup.isVisible():
                    completer.complete()

    def set_model(self, model: str) -> None:
        """Select ``model`` without emitting."""
        self._model = model
        self.model_picker.blockSignals(True)
        index = self.model_picker.findData(model)
        if index < 0:
            self.model_picker.addItem(model, model)
            index = self.model_picker.count() - 1
        self.model_picker.setCurrentIndex(index)
        line = self.model_picker.lineEdit()
        if line is not None and not line.hasFocus():
            line.setCursorPosition(0)  # a long name shows its start ("llama3.2:3b-instr"), not its end
        self.model_picker.setToolTip(plain_tip(f"{model} · the model for this conversation (type to filter)")
                                     if model else "The model for this conversation (type to filter)")
        self.model_picker.blockSignals(False)

    def _on_model_activated(self, index: int) -> None:
        self._choose(str(self.model_picker.itemData(index) or self.model_picker.itemText(index)))

    def _on_model_typed(self) -> None:
        self._choose(self.typed_model())

    def typed_model(self) -> str:
        """The model the text typed in the picker names: a model of the list written in another case, or the only
        one of the list that contains it ("acme" then Enter chooses "acme-chat-9000", as its list showed); else
        the text as typed (a model the endpoint does not list)."""
        typed = self.model_picker.currentText().strip()
        folded = typed.casefold()
        listed = [str(self.model_picker.itemData(i) or self.model_picker.itemText(i))
                  for i in range(self.model_picker.count())]
        if not typed or typed in listed:
            return typed
        exact = [m for m in listed if m.casefold() == folded]
        matches = exact or [m for m in listed if folded in m.casefold()]
        return matches[0] if len(matches) == 1 else typed

    def _choose(self, model: str) -> None:
        model = model.strip()
        if model and model != self._model:
            self._model = model
            self.modelChosen.emit(model)
