"""One message in the transcript: who, the safely rendered text, a quiet footer and hover actions."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QMimeData, QSize, QSizeF, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QImage, QMouseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_assistant.controllers.images import ATTACHMENT_SCHEME
from desktop_assistant.core.first_screen import display_part, render_key
from desktop_assistant.core.models import Message, Role, Status, typed_text
from desktop_assistant.core.render_code import document_css
from desktop_assistant.core.render_text import strip_break_hints
from desktop_assistant.ui import icons, theme
from desktop_assistant.ui.chat.footer import footer_text
from desktop_assistant.ui.tips import plain_tip
from desktop_assistant.ui.viewports import own_viewport

if TYPE_CHECKING:  # the renderer (markdown-it) loads after the first paint when the replies shown were kept
    from desktop_assistant.ui.chat.stream_document import BackgroundRender, StreamingDocument

SAFE_SCHEMES = {"http", "https", "mailto"}
HIGHLIGHT_DELAY_MS = 150
"""Code whose lexer was not loaded yet is highlighted this long after the view was built (after the paint)."""

FOLD_AFTER_LINES = 24
FOLD_AFTER_CHARS = 3_000
"""A question longer than this (a log or a document pasted in) shows its start, with Show all."""
FOLDED_LINES = 12
FOLDED_CHARS = 1_200


def fold_text(text: str) -> tuple[str, int]:
    """The start of a long question and how many of its lines are left out (0: it is shown whole)."""
    lines = text.split("\n")
    if len(lines) <= FOLD_AFTER_LINES and len(text) <= FOLD_AFTER_CHARS:
        return text, 0
    shown = "\n".join(lines[:FOLDED_LINES])[:FOLDED_CHARS]
    return shown.rstrip() + " …", max(1, len(lines) - shown.count("\n") - 1)


class SafeBrowser(QTextBrowser):
    """A QTextBrowser that loads nothing: no remote, file or data resource is ever fetched."""

    linkClicked = Signal(QUrl)
    imageClicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._viewport = own_viewport(self)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setReadOnly(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self._viewport.setAutoFillBackground(False)
        # a selector, so that the context menu (a child) keeps its own background instead of a transparent,
        # black one
        self.setStyleSheet("QTextBrowser { background: transparent; }")
        document = self.document()
        document.setUndoRedoEnabled(False)  # read-only: an undo stack would only keep every streamed frame
        document.setDocumentMargin(2)
        self.follow_scheme()
        document.documentLayout().documentSizeChanged.connect(self._on_size_changed)
        self.anchorClicked.connect(self.linkClicked)
        self.requested: list[str] = []
        self.image_loader: Callable[[str], QImage | None] | None = None

    def follow_scheme(self) -> None:
        """Style the HTML set from now on for the scheme in use (what is shown must be set again)."""
        self.document().setDefaultStyleSheet(document_css(theme.is_dark()))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """A click on one of the app's stored images (not a drag to select) asks to show it large."""
        super().mouseReleaseEvent(event)
        if event.button() is Qt.MouseButton.LeftButton and not self.textCursor().hasSelection():
            name = self.document().documentLayout().imageAt(event.position())
            if name.startswith(ATTACHMENT_SCHEME):
                self.imageClicked.emit(name)

    def loadResource(self, kind: int, url: QUrl | str) -> object:
        """Only the app's own stored images (``attachment:`` URLs) load; anything else is refused."""
        text = url.toString() if isinstance(url, QUrl) else url
        self.requested.append(text)
        if text.startswith(ATTACHMENT_SCHEME) and self.image_loader is not None:
            return self.image_loader(text)
        return None

    def createMimeDataFromSelection(self) -> QMimeData:
        """Copy the selection without the renderer's invisible line-break hints."""
        data = QMimeData()
        data.setText(strip_break_hints(self.textCursor().selection().toPlainText()))
        return data

    def _on_size_changed(self, size: QSizeF) -> None:
        self._set_height(int(size.height()) + 4)

    def _fit_height(self) -> None:
        self._set_height(int(self.document().size().height()) + 4)

    def _set_height(self, height: int) -> None:
        if height != self.height():
            self.setFixedHeight(height)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Re-wrap the text when the width changed (only then: a new text width lays the whole document out
        again, and fitting the height resizes this widget on every streamed frame), and fit the height.
        """
        super().resizeEvent(event)
        if event.oldSize().width() == event.size().width():
            return
        width = self._viewport.width()
        if self.document().textWidth() != width:
            self.document().setTextWidth(width)
        self._fit_height()

    def sizeHint(self) -> QSize:
        """As tall as the text."""
        return QSize(super().sizeHint().width(), int(self.document().size().height()) + 4)


class MessageView(QFrame):
    """Shows one message.

    Signals:
        copyRequested(str): text to put on the clipboard.
        editRequested(int): edit this question and resend.
        regenerateRequested(): ask again for this reply.
        continueRequested(): ask for the rest of a truncated reply.
        retryRequested(): try a failed reply again.
        settingsRequested(): the error's next step is in Settings.
        chooseModelRequested(): the model is not available; pick another.
        editQuestionRequested(): a reply's error is mended by editing the question it answers.
        branchRequested(int, int): show the previous (-1) or next (+1) alternative of message id.
        readAloudRequested(str): speak this reply's text.
        imageRequested(str): show this stored image large (its ``attachment:`` URL).
        linkHovered(str): the address of the link under the pointer ("" when it leaves the link).
        linkNotOpened(str): opening this clicked link's address failed (no browser or mail program).
    """

    copyRequested = Signal(str)
    editRequested = Signal(int)
    regenerateRequested = Signal()
    continueRequested = Signal()
    retryRequested = Signal()
    settingsRequested = Signal()
    chooseModelRequested = Signal()
    editQuestionRequested = Signal()  # a reply's error: edit the question it answers
    branchRequested = Signal(int, int)
    readAloudRequested = Signal(str)
    imageRequested = Signal(str)
    linkHovered = Signal(str)
    linkNotOpened = Signal(str)

    def __init__(self, message: Message, parent: QWidget | None = None,
                 image_loader: Callable[[str], QImage | None] | None = None,
                 kept: tuple[bytes, str] | None = None) -> None:
        """``kept``: this reply's HTML as rendered for an earlier start, with its key (core/first_screen.py); shown
        at once if it was rendered from the same text for the same theme, then checked after the paint."""
        super().__init__(parent)
        self.message = message
        self._kept = kept
        self._is_user = message.role is Role.USER
        self.setObjectName("message_user" if self._is_user else "message_assistant")
        self.setAccessibleName("Your message" if self._is_user else "Assistant reply")
        self._stream: StreamingDocument | None = None
        self._latest = True
        self._finishing: StreamingDocument | None = None
        self._text = ""
        self._shown: tuple[str, bool] | None = None  # (text, dark) the document shows, when final
        self._highlighting: BackgroundRender | None = None  # code highlighted on the render worker

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 10, 16, 10)
        layout.setSpacing(4)
        who = QLabel("You" if self._is_user else "Assistant")
        who.setTextFormat(Qt.TextFormat.PlainText)
        font = who.font()
        font.setBold(True)
        who.setFont(font)
        layout.addWidget(who)

        self.body = SafeBrowser(self)
        self.body.image_loader = image_loader
        self.body.setObjectName("message_body")
        self.body.setAccessibleName("Message text")
        self.body.linkClicked.connect(self._on_link)
        self.body.highlighted.connect(self._on_hover)
        self.body.imageClicked.connect(self.imageRequested)
        layout.addWidget(self.body)

        self.long_note = QLabel()
        self.long_note.setObjectName("long_message_note")
        self.long_note.setProperty("muted", True)
        self.long_note.setWordWrap(True)
        self.long_note.hide()
        layout.addWidget(self.long_note)
        self.error_label = QLabel()
        self.error_label.setObjectName("message_error")
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        layout.addWidget(self.error_label)

        row = QHBoxLayout()
        row.setSpacing(4)
        self.footer = QLabel()
        self.footer.setObjectName("message_footer")
        self.footer.setTextFormat(Qt.TextFormat.PlainText)
        row.addWidget(self.footer)
        self._folded = True  # a long question shows its start until Show all
        self.fold_button = QToolButton(self)
        self.fold_button.setObjectName("fold_button")
        self.fold_button.setAutoRaise(True)
        self.fold_button.clicked.connect(self._toggle_fold)
        self.fold_button.hide()
        row.addWidget(self.fold_button)
        row.addStretch(1)
        self.action_bar = QWidget()
        actions = QHBoxLayout(self.action_bar)
        actions.setContentsMargins(0, 0, 0, 0)
        actions.setSpacing(2)
        self.prev_button = self._tool("‹", "Previous version", lambda: self.branchRequested.emit(message.id, -1))
        self.branch_label = QLabel()
        self.branch_label.setObjectName("branch_label")
        self.next_button = self._tool("›", "Next version", lambda: self.branchRequested.emit(message.id, 1))
        for w in (self.prev_button, self.branch_label, self.next_button):
            actions.addWidget(w)
        self.copy_button = self._tool("Copy", "Copy this message", lambda: self.copyRequested.emit(self._text),
                                      "copy")
        actions.addWidget(self.copy_button)
        if self._is_user:
            self.edit_button = self._tool("Edit", "Edit and resend", lambda: self.editRequested.emit(message.id),
                                          "edit")
            actions.addWidget(self.edit_button)
        else:
            self.regenerate_button = self._tool("Regenerate", "Ask for this reply again",
                                                self.regenerateRequested.emit, "regenerate")
            actions.addWidget(self.regenerate_button)
            self.read_aloud_button = self._tool("Read aloud", "Read aloud",
                                                lambda: self.readAloudRequested.emit(self._text), "speaker")
            actions.addWidget(self.read_aloud_button)
        row.addWidget(self.action_bar)
        layout.addLayout(row)

        self.action_button = QPushButton()
        self.action_button.setObjectName("message_action")
        self.action_button.hide()
        self.action_button.clicked.connect(self._on_action)
        self._action = ""
        layout.addWidget(self.action_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.update_message(message)
        self.set_branch(1, 1)

    def follow_scheme(self) -> None:
        """Show the message in the scheme in use: rendered again, its icons redrawn. A reply still streaming
        keeps its scheme until it ends, and is then rendered whole in the new one (:meth:`update_message`)."""
        self.body.follow_scheme()
        icons.retint(self)
        if self._stream is None:
            full = self._text
            self._set_final_text(self._shown_part(full))
            self._text = full

    def _tool(self, text: str, tip: str, slot: object, icon_name: str | None = None) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        if icon_name:
            icons.set_icon(button, icon_name)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        button.setToolTip(tip)
        button.setAccessibleName(tip)
        button.setObjectName(tip.lower().replace(" ", "_") + "_button")
        button.clicked.connect(slot)
        return button

    # -- content ---------------------------------------------------------------------------------------------

    def update_message(self, message: Message) -> None:
        """Show ``message`` in full (final text, status, footer, error and its action)."""
        self.message = message
        stream, self._stream = self._stream, None
        full = message.text
        text = self._shown_part(full)
        if stream is not None and message.status is Status.STREAMING and stream.can_finish(text):
            self._stream = stream  # still streaming: keep feeding the same document
            if text != self._text:
                self.set_streaming_text(text)
        elif stream is not None and stream.dark == theme.is_dark() and stream.can_finish(text) \
                and stream.finish(text):
            # the reply ended: kept what was streamed, rendering only the unfinished blocks final
            self._text = text
            self._finishing = stream if stream.busy else None  # alive until its last render is applied
            self._shown = (text, stream.dark)
        else:
            self._set_final_text(text)
        self._text = full  # Copy copies the whole message, also the part too long to show
        refusal = next((p.get("refusal") for p in message.parts if p.get("type") == "refusal"), None)
        error = message.error or (f"The model declined: {refusal}" if refusal else None)
        self.error_label.setText(error or "")
        self.error_label.setVisible(bool(error))
        # a reply with nothing to read (failed, or stopped before any text) shows no empty line above the rest
        self.body.setVisible(self._is_user or bool(full.strip()) or message.status is Status.STREAMING
                             or self._stream is not None)
        self.footer.setText(footer_text(message))
        self._set_action(message)
        streaming = message.status is Status.STREAMING
        self.action_bar.setEnabled(not streaming)
        if not self._is_user:  # a reply that only calls tools has nothing to read aloud or copy
            self.read_aloud_button.setVisible(bool(full.strip()) or streaming)
            self.copy_button.setVisible(bool(full.strip()) or streaming)

    def _set_final_text(self, text: str) -> None:
        self._text = text
        dark = theme.is_dark()
        if self._shown == (text, dark):  # the document shows (or a worker is finishing) exactly this
            return
        if self._finishing is not None:  # something else replaces it: the worker's result must not land
            self._finishing.abandon()
            self._finishing = None
        self._shown = (text, dark)
        if self._is_user:
            parts = self.message.parts
            images = [p for p in parts if p.get("type") == "image_url"]
            files = [p for p in parts if p.get("file")]
            if images or files:
                self.body.setHtml(user_html(typed_text(parts), images, files))
            else:
                shown, hidden = fold_text(text) if self._folded else (text, 0)
                self.fold_button.setVisible(bool(hidden) or not self._folded)
                self.fold_button.setText(f"Show all ({hidden:,} more lines)" if hidden else "Show less")
                self.body.setPlainText(shown)
            return
        kept, self._kept = self._kept, None
        if kept is not None and kept[0] == render_key(text, dark):
            self.body.setHtml(kept[1])  # the renderer loads after the paint, and checks this HTML then
            QTimer.singleShot(HIGHLIGHT_DELAY_MS, self, lambda: self._render_later(unless=kept[1]))
            return
        from desktop_assistant.core.render import render_markdown_without_loading

        html, complete = render_markdown_without_loading(text, dark=dark)
        self.body.setHtml(html)
        if not complete:  # a language's lexer is not loaded yet: highlight from the event loop, after painting
            QTimer.singleShot(HIGHLIGHT_DELAY_MS, self, self._render_later)

    def _render_later(self, unless: str | None = None) -> None:
        """Render the text shown again, whole, on the render worker (the lexers load there: the window keeps
        breathing meanwhile), and show the result unless it is ``unless``, the HTML already shown."""
        if self._stream is not None or self._shown is None:
            return
        text, dark = self._shown
        if text == self._text:
            from desktop_assistant.ui.chat.stream_document import BackgroundRender

            self._highlighting = BackgroundRender(
                text, dark, lambda html: self._apply_highlight(text, dark, html, unless), self)

    def _apply_highlight(self, text: str, dark: bool, html: str, unless: str | None = None) -> None:
        self._highlighting = None
        if self._stream is None and self._shown == (text, dark) and text == self._text and html != unless:
            self.body.setHtml(html)

    def set_streaming_text(self, text: str) -> None:
        """Show the reply so far: finished blocks are rendered once, only the open tail is replaced."""
        if text and self.body.isHidden():
            self.body.show()
        shown = self._shown_part(text)
        grew = shown != self._text[: len(shown)] or len(shown) > len(self._text) or self._stream is None
        self._text = text
        self._shown = None
        if self._stream is None:
            if self._finishing is not None:
                self._finishing.abandon()
                self._finishing = None
            from desktop_assistant.ui.chat.stream_document import StreamingDocument

            self._stream = StreamingDocument(self.body.document(), dark=theme.is_dark(), threaded=True)
            self.action_bar.setEnabled(False)
        if grew:
            self._stream.feed(shown)

    @property
    def text(self) -> str:
        """The message's whole text as written (markdown), what Copy copies and Read aloud reads."""
        return self._text

    @property
    def rendering(self) -> bool:
        """Rendering on the worker is not done yet: a streamed frame, or the end of a long reply."""
        return any(d is not None and d.busy for d in (self._stream, self._finishing))

    @property
    def folded(self) -> bool:
        """A long question shows its start only (Show all shows the rest)."""
        return self._folded and not self.fold_button.isHidden()

    def unfold(self) -> None:
        """Show all of a folded question (a search or Find looks for words in it)."""
        if self.folded:
            self._toggle_fold()

    def _toggle_fold(self) -> None:
        full = self._text
        self._folded = not self._folded
        self._shown = None
        self._set_final_text(self._shown_part(full))
        self._text = full

    def _shown_part(self, text: str) -> str:
        """What of ``text`` is shown: all of it, or its start when it is too long to lay out quickly."""
        shown = display_part(text)
        cut = len(text) - len(shown)
        self.long_note.setVisible(cut > 0)
        if cut:
            self.long_note.setText(f"This message is {len(text):,} characters long; the first {len(shown):,} are "
                                   "shown. Copy copies all of it.")
        return shown

    def set_branch(self, position: int, count: int) -> None:
        """Show "position/count" arrows when the message has alternatives."""
        show = count > 1
        for w in (self.prev_button, self.branch_label, self.next_button):
            w.setVisible(show)
        self.branch_label.setText(f"{position}/{count}")
        self.prev_button.setEnabled(position > 1)
        self.next_button.setEnabled(position < count)

    def set_latest_reply(self, latest: bool) -> None:
        """Every reply offers Regenerate (an earlier one's makes a new version there, as Edit does for a question);
        only the last one offers Continue when it was cut off."""
        if not self._is_user:
            self.regenerate_button.setToolTip("Ask for this reply again" if latest else
                                              "Ask for this reply again: the new version starts here, and the "
                                              "messages after this one stay with this version")
            if latest != self._latest:
                self._latest = latest
                self._set_action(self.message)

    def _set_action(self, message: Message) -> None:
        action, label = "", ""
        if message.status is Status.TRUNCATED:
            if self._latest:  # an earlier one has answers after it
                action, label = "continue", "Continue"
        elif message.status in (Status.ERROR, Status.INTERRUPTED) or message.error_action:
            if message.error_action == "open_settings":
                action, label = "open_settings", "Open settings"
            elif message.error_action == "choose_model":
                action, label = "choose_model", "Choose another model"
            elif message.error_action == "edit_question":
                action, label = "edit_question", "Edit the question"
            elif message.error_action == "trim_and_retry":
                action, label = "retry", "Leave out older messages and retry"
            elif message.error_action in ("retry", None):
                action, label = "retry", "Retry"
        self._action = action
        self.action_button.setText(label)
        self.action_button.setAccessibleName(label)
        self.action_button.setVisible(bool(action))

    def _on_action(self) -> None:
        {"continue": self.continueRequested, "retry": self.retryRequested, "open_settings": self.settingsRequested,
         "choose_model": self.chooseModelRequested, "edit_question": self.editQuestionRequested}[self._action].emit()

    def _on_link(self, url: QUrl) -> None:
        from desktop_assistant.core.render import code_blocks, math_sources

        if url.scheme() == "copy-code":
            blocks = code_blocks(self._text)
            index = int(url.path() or url.toString().split(":", 1)[-1] or 0)
            if 0 <= index < len(blocks):
                self.copyRequested.emit(blocks[index])
        elif url.scheme() == "copy-math":
            sources = math_sources(self._text)
            index = int(url.path() or 0)
            if 0 <= index < len(sources):
                self.copyRequested.emit(sources[index])
        elif url.scheme() in SAFE_SCHEMES and not QDesktopServices.openUrl(url):
            self.linkNotOpened.emit(url.toString())

    def _on_hover(self, url: QUrl) -> None:
        """Show where the link under the pointer leads (its text may say anything), as browsers do."""
        address = url.toString() if url.scheme() in SAFE_SCHEMES else ""
        self.body.setToolTip(plain_tip(address))  # an address is untrusted text: never read as markup
        self.linkHovered.emit(address)


THUMB_SIDE = 320


def user_html(text: str, images: list[dict[str, Any]], files: list[dict[str, Any]] | None = None) -> str:
    """A question with images or files: its text escaped, each file by name, each image at thumbnail size."""
    body = html.escape(text).replace("\n", "<br>")
    for part in files or []:
        chars = len(str(part.get("text", "")))
        name = html.escape(str(part.get("file")))
        body += f'<br><span style="color:#5c6370;">File: {name} ({chars:,} characters)</span>'
    pictures = []
    for part in images:
        url = str(part.get("image_url", {}).get("url", ""))
        size = part.get("size") or [THUMB_SIDE, THUMB_SIDE]
        width, height = int(size[0]), int(size[1])
        scale = min(1.0, THUMB_SIDE / max(width, height, 1))
        pictures.append(f'<img src="{html.escape(url, quote=True)}" width="{round(width * scale)}" '
                        f'height="{round(height * scale)}">')
    return f"<p>{body}</p><p>{'&nbsp;'.join(pictures)}</p>"


def copy_to_clipboard(text: str) -> None:
    """Put ``text`` on the system clipboard."""
    QGuiApplication.clipboard().setText(text)
