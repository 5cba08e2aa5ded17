"""The composer: a growing text box, Send / Stop, and one quiet line of tokens and cost."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QLocale, QMimeData, QPoint, QSize, Qt, Signal
from PySide6.QtGui import QContextMenuEvent, QKeyEvent, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_assistant.ui import icons
from desktop_assistant.ui.chat.attachments_bar import AttachmentsBar
from desktop_assistant.ui.chat.edit_attachments import EditAttachments
from desktop_assistant.ui.chat.mime import images_in

if TYPE_CHECKING:  # spell checking is turned on at the person's first input
    from desktop_assistant.core.spelling import SpellDictionary
    from desktop_assistant.ui.chat.spelling import SpellingHighlighter


class ComposerEdit(QPlainTextEdit):
    """Enter sends, Shift+Enter starts a new line, Up in an empty box edits the last question; images pasted or
    dropped here are attached instead of inserted. With :meth:`enable_spelling`, misspelled words are underlined
    and the context menu offers corrections.

    Signals:
        submitted(): Enter was pressed.
        editLastRequested(): Up was pressed in an empty box.
        imagesGiven(object): a ``Dropped`` with the images of a paste or drop.
    """

    submitted = Signal()
    editLastRequested = Signal()
    imagesGiven = Signal(object)

    spelling: SpellingHighlighter | None = None
    words_file: Path | None = None

    def enable_spelling(self, words_file: Path | None, dictionary: SpellDictionary | str | None = None) -> str | None:
        """Underline misspelled words, in the system's language when a dictionary for it ships, else English.

        ``words_file`` keeps the words added with "Add to dictionary" (one per line; None: not kept).
        ``dictionary`` may be loaded beforehand off the UI thread (:func:`~desktop_assistant.core.spelling.
        load_dictionary`, ~0.2 s); without it, it is loaded here. Returns None, or a sentence saying why spell
        checking is off (no dictionary could be loaded), in which case the box is left as it was.
        """
        if self.spelling is not None:
            return None
        from desktop_assistant.core.spelling import load_dictionary
        from desktop_assistant.ui.chat.spelling import SpellingHighlighter, read_words

        if dictionary is None:
            dictionary = load_dictionary(QLocale.system().name(), read_words(words_file))
        elif not isinstance(dictionary, str):
            for word in read_words(words_file):
                dictionary.add(word)
        if isinstance(dictionary, str):
            return dictionary
        self.words_file = words_file
        self.spelling = SpellingHighlighter(self.document(), dictionary, lambda: self.textCursor().position(), self)
        self.cursorPositionChanged.connect(self._cursor_moved)
        self.setToolTip(f"Spell checking in {dictionary.language.name}: right-click an underlined word for "
                        "suggestions")
        return None

    def context_menu(self, pos: QPoint) -> QMenu:
        """The usual edit menu, with spelling suggestions on top when ``pos`` is on a misspelled word."""
        menu = self.createStandardContextMenu(pos)
        menu.setParent(self, menu.windowFlags())
        menu.aboutToHide.connect(menu.deleteLater)  # actions run before the deferred delete
        if self.spelling is not None:
            cursor = self.cursorForPosition(pos)
            block = cursor.block()
            found = self.spelling.misspelled_at(block, cursor.positionInBlock())
            if found is not None:
                from desktop_assistant.ui.chat.spelling import add_suggestions

                start, end, word = found
                base = block.position()
                add_suggestions(menu, self.spelling, word, lambda s: self._replace(base + start, base + end, s),
                                self.add_to_dictionary)
        return menu

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        """Show :meth:`context_menu` without blocking (``popup``: no nested event loop under qasync)."""
        self.context_menu(event.pos()).popup(event.globalPos())
        event.accept()

    def add_to_dictionary(self, word: str) -> None:
        """Accept ``word`` from now on and keep it in the words file."""
        if self.spelling is None:
            return
        self.spelling.accept_word(word)
        if self.words_file is not None:
            from desktop_assistant.ui.chat.spelling import append_word

            try:
                append_word(self.words_file, word)
            except OSError as exc:
                self.setToolTip(f"“{word}” is accepted for now but could not be saved: {exc}")

    def _cursor_moved(self) -> None:
        if self.spelling is not None:
            self.spelling.cursor_moved(self.textCursor().position())

    def _replace(self, start: int, end: int, text: str) -> None:
        cursor = QTextCursor(self.document())
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(text)  # one undo step

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        """Images are welcome too."""
        return not images_in(source).empty or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        """Attach images; insert text as usual."""
        found = images_in(source)
        if found.empty:
            super().insertFromMimeData(source)
        else:
            self.imagesGiven.emit(found)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Handle Enter and Up; everything else as usual."""
        key, mods = event.key(), event.modifiers()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not mods & Qt.KeyboardModifier.ShiftModifier:
            self.submitted.emit()
            return
        if key == Qt.Key.Key_Up and not self.toPlainText():
            self.editLastRequested.emit()
            return
        super().keyPressEvent(event)


class FiguresLabel(QLabel):
    """A line of figures that wraps onto a second line in a narrow window instead of being cut (a cut
    "/ 400,000" read as "/ 400", a request over its limit), and keeps to one line while there is room."""

    def __init__(self, text: str = "") -> None:
        super().__init__(text)
        self.setWordWrap(True)

    def sizeHint(self) -> QSize:
        """The width of the text on one line (a wrapping label would ask for less and wrap where it need not)."""
        hint = super().sizeHint()
        margins = self.contentsMargins()
        one_line = self.fontMetrics().horizontalAdvance(self.text()) + margins.left() + margins.right() + 2
        return QSize(max(hint.width(), one_line), hint.height())


class Composer(QWidget):
    """Where the person writes.

    Signals:
        sendRequested(str): send this text.
        stopRequested(): stop the streaming reply.
        draftChanged(str): the draft changed (for the live token count).
        editLastRequested(): edit the last question.
    """

    sendRequested = Signal(str)
    stopRequested = Signal()
    draftChanged = Signal(str)
    editLastRequested = Signal()
    imagesGiven = Signal(object)
    attachRequested = Signal()
    captureRequested = Signal()
    voiceRequested = Signal()  # the microphone button: start or stop recording

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 8, 16, 12)
        layout.setSpacing(6)
        self.attachments = AttachmentsBar()
        layout.addWidget(self.attachments)
        self.edit_attachments = EditAttachments()  # an earlier question's, while it is edited
        layout.addWidget(self.edit_attachments)
        self.edit_hint = QLabel()  # while an earlier question is edited: what Resend and Esc do (stays while typing)
        self.edit_hint.setObjectName("edit_hint")
        self.edit_hint.setProperty("muted", True)
        self.edit_hint.setTextFormat(Qt.TextFormat.PlainText)
        self.edit_hint.setWordWrap(True)
        self.edit_hint.hide()
        layout.addWidget(self.edit_hint)
        row = QHBoxLayout()
        row.setSpacing(8)
        self.edit = ComposerEdit()
        self.edit.setObjectName("composer")
        self.edit.setAccessibleName("Message")
        self.edit.setPlaceholderText("Ask anything…")
        self.edit.setTabChangesFocus(True)
        self.edit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.edit.submitted.connect(self._submit)
        self.edit.editLastRequested.connect(self.editLastRequested)
        self.edit.textChanged.connect(self._on_text_changed)
        self.edit.imagesGiven.connect(self.imagesGiven)
        self.attach_button = self._tool("attach_button", "Attach images or files (or drop or paste them)", "plus",
                                        self.attachRequested)
        self.capture_button = self._tool("capture_button", "Capture a screen region", "capture",
                                         self.captureRequested)
        row.addWidget(self.attach_button, 0, Qt.AlignmentFlag.AlignBottom)
        row.addWidget(self.capture_button, 0, Qt.AlignmentFlag.AlignBottom)
        self.mic_button = self._tool("mic_button", "Speak your message (or drop an audio file, or choose one with +)",
                                     "mic", self.voiceRequested)
        self.level_meter = QProgressBar()  # the microphone's level while recording
        self.level_meter.setObjectName("level_meter")
        self.level_meter.setAccessibleName("Microphone level")
        self.level_meter.setTextVisible(False)
        self.level_meter.setRange(0, 100)
        self.level_meter.setFixedWidth(60)
        self.level_meter.hide()
        row.addWidget(self.mic_button, 0, Qt.AlignmentFlag.AlignBottom)
        row.addWidget(self.level_meter, 0, Qt.AlignmentFlag.AlignVCenter)
        row.addWidget(self.edit, 1)
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("send_button")
        self.send_button.setAccessibleName("Send")
        self.send_button.setToolTip("Send (Enter)")
        icons.set_icon(self.send_button, "send", "#ffffff")
        self.send_button.clicked.connect(self._submit)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stop_button")
        self.stop_button.setAccessibleName("Stop")
        self.stop_button.setToolTip("Stop the reply (Esc)")
        icons.set_icon(self.stop_button, "stop", "text")
        self.stop_button.clicked.connect(self.stopRequested)
        self.stop_button.clicked.connect(lambda: self.edit.setFocus())  # the next words go in the box, not nowhere
        self.stop_button.hide()
        self.thinking = QLabel()
        self.thinking.setObjectName("thinking_label")
        self.thinking.setProperty("muted", True)
        self.thinking.setTextFormat(Qt.TextFormat.PlainText)
        self.thinking.hide()
        row.addWidget(self.thinking, 0, Qt.AlignmentFlag.AlignBottom)
        row.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignBottom)
        row.addWidget(self.stop_button, 0, Qt.AlignmentFlag.AlignBottom)
        layout.addLayout(row)

        status = QHBoxLayout()
        status.setSpacing(8)
        self.token_count = FiguresLabel("counting tokens…")
        self.token_count.setObjectName("token_count")
        self.token_count.setProperty("muted", True)
        self.token_count.setTextFormat(Qt.TextFormat.PlainText)
        self.token_count.setAccessibleDescription("Tokens of the draft and of the next request")
        status.addWidget(self.token_count)
        self.context_gauge = QProgressBar()
        self.context_gauge.setObjectName("context_gauge")
        self.context_gauge.setAccessibleName("Context window used by the next request")
        self.context_gauge.setTextVisible(False)
        self.context_gauge.setFixedWidth(120)
        self.context_gauge.setRange(0, 1000)
        status.addWidget(self.context_gauge, 0, Qt.AlignmentFlag.AlignVCenter)
        self.cost_label = FiguresLabel()
        self.cost_label.setObjectName("cost_label")
        self.cost_label.setProperty("muted", True)
        self.cost_label.setTextFormat(Qt.TextFormat.PlainText)
        self.cost_label.setAccessibleDescription("Estimated cost of the next request")
        status.addWidget(self.cost_label)
        status.addStretch(1)
        layout.addLayout(status)
        self.refusal = QLabel()
        self.refusal.setObjectName("send_refusal")
        self.refusal.setTextFormat(Qt.TextFormat.PlainText)
        self.refusal.setWordWrap(True)
        self.refusal.hide()
        layout.addWidget(self.refusal)
        self._max_height = 240
        self._fit()
        # the lines wrap again when the box gets its width (a draft restored at start) or changes it, and what
        # then overflows moves the scroll range: fit again
        self.edit.verticalScrollBar().rangeChanged.connect(lambda _low, _high: self._fit())

    def _tool(self, name: str, tip: str, icon_name: str, signal: object) -> QToolButton:
        button = QToolButton()
        button.setObjectName(name)
        button.setAccessibleName(tip)
        button.setToolTip(tip)
        icons.set_icon(button, icon_name)
        button.clicked.connect(signal)
        return button

    @property
    def text(self) -> str:
        """The draft."""
        return self.edit.toPlainText()

    def enable_spelling(self, words_file: Path | None, dictionary: SpellDictionary | str | None = None) -> str | None:
        """Underline misspelled words in the draft; see :meth:`ComposerEdit.enable_spelling`. Returns None, or
        a sentence saying why spell checking is off."""
        return self.edit.enable_spelling(words_file, dictionary)

    def set_text(self, text: str) -> None:
        """Replace the draft (cursor at the end)."""
        self.edit.setPlainText(text)
        self.edit.moveCursor(self.edit.textCursor().MoveOperation.End)

    def append_text(self, text: str) -> None:
        """Add ``text`` at the end of the draft, after a space, as one step the person can undo; the cursor goes
        to its end."""
        cursor = self.edit.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        draft = self.text
        trailing = len(draft) - len(draft.rstrip())
        cursor.beginEditBlock()
        if trailing:  # "draft  \n" + text: the space left at the end goes, one space joins them
            cursor.movePosition(cursor.MoveOperation.Left, cursor.MoveMode.KeepAnchor, trailing)
        cursor.insertText(f" {text}" if draft.strip() else text)
        cursor.endEditBlock()
        self.edit.setTextCursor(cursor)

    def clear(self) -> None:
        """Empty the draft (after it was accepted)."""
        self.edit.clear()

    def set_streaming(self, streaming: bool) -> None:
        """Send turns into Stop while a reply streams."""
        self.send_button.setVisible(not streaming)
        self.stop_button.setVisible(streaming)

    def set_thinking(self, seconds: int) -> None:
        """Show how long the model has been working before its first word (-1 hides it)."""
        self.thinking.setVisible(seconds >= 0)
        self.thinking.setText(f"Thinking… {seconds} s" if seconds > 0 else "Thinking…")

    def show_activity(self, text: str) -> None:
        """Say what is under way instead of the model (a tool running); "" hides it."""
        self.thinking.setVisible(bool(text))
        self.thinking.setText(text)

    def set_max_height(self, height: int) -> None:
        """The box grows up to ``height`` pixels (a third of the window)."""
        self._max_height = max(60, height)
        self._fit()

    def show_edit_hint(self, text: str) -> None:
        """Say, for as long as an earlier question is edited, what Resend and Esc do ("" when the edit ends)."""
        self.edit_hint.setText(text)
        self.edit_hint.setVisible(bool(text))

    def show_refusal(self, text: str) -> None:
        """Say why the draft was not sent (it stays in the box)."""
        self.refusal.setText(text)
        self.refusal.setVisible(bool(text))

    def _submit(self) -> None:
        if self.text.strip() or self.attachments.chips or self.attachments.file_chips:
            self.sendRequested.emit(self.text)

    def _on_text_changed(self) -> None:
        self._fit()
        self.refusal.hide()
        self.draftChanged.emit(self.text)

    def _fit(self) -> None:
        doc = self.edit.document()
        line = self.edit.fontMetrics().lineSpacing()
        chrome = int(2 * doc.documentMargin()) + 2 * self.edit.frameWidth() + 20  # margins, frame, padding
        lines = max(1, int(doc.size().height()))  # a plain-text document's height counts lines
        wanted = lines * line + chrome
        self.edit.setFixedHeight(max(line + chrome, min(wanted, self._max_height)))
        self.edit.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded if wanted > self._max_height
                                             else Qt.ScrollBarPolicy.ScrollBarAlwaysOff)


