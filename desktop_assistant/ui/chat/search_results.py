"""Messages found by the sidebar's search: one row per hit (conversation, date, a passage with the matched
words in bold), and the line that offers search by meaning with what it costs.

Hit text is untrusted (model output): it is escaped before it becomes the row's rich text, and the match
markers are control characters, never markup.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QAbstractTextDocumentLayout, QColor, QPainter, QPalette, QTextDocument
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from desktop_assistant.ui import theme
from desktop_assistant.ui.item_paint import OwnTextDelegate

if TYPE_CHECKING:  # the search module is loaded with the first search, not for the first paint
    from desktop_assistant.core.search import SearchHit

HIT_ROLE = Qt.ItemDataRole.UserRole
SHOWN = 50
"""The most hits a search returns (the search controller's ``RESULTS``): this many means there were more."""
MAX_PASSAGE_LINES = 4


def hit_html(hit: SearchHit, today: dt.date) -> str:
    """The row's rich text: escaped title, date and passage, matched words in bold."""
    from desktop_assistant.core.search import snippet_spans

    plain, spans = snippet_spans(hit.snippet)
    pieces, at = [], 0
    for start, end in spans:
        pieces.append(html.escape(plain[at:start]))
        pieces.append(f"<b>{html.escape(plain[start:end])}</b>")
        at = end
    pieces.append(html.escape(plain[at:]))
    muted = theme.colors().muted
    who = "You" if hit.role == "user" else "Assistant"
    how = " · by meaning" if hit.by_meaning and not hit.by_keyword else ""
    title = html.escape(hit.title or "Untitled")
    return (f"<div><b>{title}</b></div>"
            f"<div style='color:{muted}'>{html.escape(_when(hit.created_at, today))} · {who}{how}</div>"
            f"<div>{''.join(pieces)}</div>")


def _when(timestamp: float, today: dt.date) -> str:
    day = dt.datetime.fromtimestamp(timestamp).date()
    if day == today:
        return "Today"
    if (today - day).days == 1:
        return "Yesterday"
    return day.strftime("%d %b %Y") if day.year != today.year else day.strftime("%d %b")


class HitDelegate(OwnTextDelegate):
    """Paints a hit's rich text (already escaped) inside the usual row background."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex,
              ) -> None:
        """The row's background and selection as usual, then its text, clipped to the row."""
        opt, text = self.draw_row_without_text(painter, option, index)
        document = self._document(text, opt.rect.width() - 12, opt.font)
        painter.save()
        painter.translate(opt.rect.left() + 6, opt.rect.top() + 4)
        clip = QRectF(0, 0, opt.rect.width() - 12, opt.rect.height() - 8)
        painter.setClipRect(clip)
        context = QAbstractTextDocumentLayout.PaintContext()
        context.palette.setColor(QPalette.ColorRole.Text, QColor(theme.colors().text))
        context.clip = clip
        document.documentLayout().draw(painter, context)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        """The row's text laid out at the list's width: title, date line and the passage (at most
        ``MAX_PASSAGE_LINES`` lines of it)."""
        view = self.parent()
        width = view.viewport().width() if isinstance(view, QListWidget) else option.rect.width()
        document = self._document(str(index.data(Qt.ItemDataRole.DisplayRole) or ""), width - 12, option.font)
        lines = option.fontMetrics.lineSpacing()
        height = min(int(document.size().height()), lines * (2 + MAX_PASSAGE_LINES))
        return QSize(width, height + 10)

    @staticmethod
    def _document(text: str, width: int, font: object) -> QTextDocument:
        document = QTextDocument()
        document.setDocumentMargin(0)
        document.setDefaultFont(font)  # type: ignore[arg-type]
        document.setHtml(text)
        document.setTextWidth(max(40, width))
        return document


class SearchResults(QWidget):
    """The hits of a search over all conversations, and the search-by-meaning line.

    Signals:
        hitChosen(int, int, list): open conversation, at message, and highlight these words.
        meaningRequested(): start indexing for search by meaning (its cost is on the line).
        meaningStopRequested(): stop indexing.
        meaningOffRequested(): turn search by meaning off.
    """

    hitChosen = Signal(int, int, list)
    meaningRequested = Signal()
    meaningStopRequested = Signal()
    meaningOffRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("search_results")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.summary = QLabel()
        self.summary.setObjectName("search_summary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.list = QListWidget()
        self.list.setObjectName("search_hits")
        self.list.setAccessibleName("Messages found")
        self.list.setItemDelegate(HitDelegate(self.list))
        self.list.setWordWrap(True)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)  # rows re-measured when the sidebar is resized
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.itemActivated.connect(self._choose)
        self.list.itemClicked.connect(self._choose)
        layout.addWidget(self.list, 1)
        meaning = QHBoxLayout()
        meaning.setSpacing(6)
        self.meaning_label = QLabel()
        self.meaning_label.setObjectName("meaning_status")
        self.meaning_label.setTextFormat(Qt.TextFormat.PlainText)
        self.meaning_label.setWordWrap(True)
        meaning.addWidget(self.meaning_label, 1)
        self.meaning_button = QPushButton()
        self.meaning_button.setObjectName("meaning_button")
        self.meaning_button.clicked.connect(self._on_meaning_button)
        self.meaning_button.hide()
        meaning.addWidget(self.meaning_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(meaning)
        self._meaning_action = ""
        self.query = ""
        self.hits: list[SearchHit] = []
        self._note = ""

    def show_hits(self, query: str, hits: list[SearchHit], note: str = "") -> None:
        """Show ``hits`` for ``query`` (a note, e.g. why search by meaning is not used, goes on top)."""
        from desktop_assistant.core.search import snippet_spans

        same_hits = hits == self.hits
        self.query, self.hits, self._note = query, hits, note
        row = self.list.currentRow()
        self.list.clear()
        today = dt.date.today()
        for hit in hits:
            item = QListWidgetItem(hit_html(hit, today))
            item.setData(HIT_ROLE, hit)
            plain, _spans = snippet_spans(hit.snippet)
            item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{hit.title}: {plain}")
            item.setToolTip("")
            self.list.addItem(item)
        count = (f"{len(hits)} message found" if len(hits) == 1 else
                 f"At least {len(hits)} messages found: the {len(hits)} that match best are shown (more words "
                 "narrow it down)." if len(hits) >= SHOWN else f"{len(hits)} messages found")
        summary = count if hits else "No messages match."
        self.summary.setText(f"{note}\n{summary}" if note else summary)
        if same_hits and 0 <= row < len(hits):
            self.list.setCurrentRow(row)

    def follow_scheme(self) -> None:
        """Show the hits in the colours of the scheme now in use (their dates are drawn muted)."""
        if self.hits:
            self.show_hits(self.query, self.hits, self._note)

    def show_meaning(self, enabled: bool, available: bool, running: bool, has_pending: bool, message: str) -> None:
        """The search-by-meaning line: its state in words and the one button that applies."""
        self.meaning_label.setText(message)
        if not available:
            action, text = "", ""
        elif running:
            action, text = "stop", "Stop"
        elif enabled:
            action, text = "off", "Turn off"
        elif has_pending:
            action, text = "on", "Turn on"
        else:
            action, text = "", ""
        self._meaning_action = action
        self.meaning_button.setText(text)
        self.meaning_button.setAccessibleName(f"{text} search by meaning" if text else "")
        self.meaning_button.setVisible(bool(action))

    def _on_meaning_button(self) -> None:
        {"on": self.meaningRequested, "stop": self.meaningStopRequested,
         "off": self.meaningOffRequested}[self._meaning_action].emit()

    def _choose(self, item: QListWidgetItem) -> None:
        from desktop_assistant.core.search import SearchHit, snippet_spans

        hit = item.data(HIT_ROLE)
        if isinstance(hit, SearchHit):
            plain, spans = snippet_spans(hit.snippet)
            self.hitChosen.emit(hit.conversation_id, hit.message_id, sorted({plain[a:b] for a, b in spans}))
