"""The sidebar: New chat, the search box, conversations grouped by their last activity, and messages found."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPersistentModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_assistant.core.models import Conversation
from desktop_assistant.core.pricing import format_usd
from desktop_assistant.ui import icons, theme
from desktop_assistant.ui.chat.search_results import SearchResults
from desktop_assistant.ui.item_paint import OwnTextDelegate
from desktop_assistant.ui.tips import plain_tip

WIDGET_MAX = 16_777_215  # Qt's QWIDGETSIZE_MAX: no maximum

ID_ROLE = Qt.ItemDataRole.UserRole
COST_ROLE = Qt.ItemDataRole.UserRole + 1
TITLE_ROLE = Qt.ItemDataRole.UserRole + 2  # the title as stored, for a rename left empty
SPENT_ROLE = Qt.ItemDataRole.UserRole + 3  # the cost, shown in COST_ROLE's place unless a reply is arriving there
REPLYING = "replying…"


class CostDelegate(OwnTextDelegate):
    """Draws a conversation's cost so far, muted, at the right of its row."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex,
              ) -> None:
        """The row's background and title as usual, its cost drawn at the right end; a group's name ("Today") in the
        muted colour (a row that cannot be chosen is drawn in the disabled one, too faint to read: 2.3:1)."""
        cost = str(index.data(COST_ROLE) or "")
        if not cost:
            if index.data(ID_ROLE) is None:
                option = QStyleOptionViewItem(option)
                option.palette.setColor(QPalette.ColorRole.Text, QColor(theme.colors().muted))
            super().paint(painter, option, index)
            return
        opt, title = self.draw_row_without_text(painter, option, index)
        metrics = opt.fontMetrics
        rect = opt.rect
        cost_width = metrics.horizontalAdvance(cost) + 8
        title_rect = rect.adjusted(8, 0, -(cost_width + 12), 0)
        painter.save()
        painter.setPen(QColor(theme.colors().text))  # the selection is a light tint (see theme), not the accent
        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(title_rect, align, metrics.elidedText(title, Qt.TextElideMode.ElideRight, title_rect.width()))
        painter.setPen(QColor(theme.colors().muted))
        painter.drawText(rect.adjusted(0, 0, -8, 0), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, cost)
        painter.restore()


def group_name(updated_at: float, today: dt.date) -> str:
    """Today / Yesterday / Previous 7 days / Previous 30 days, then the month ("October") in this year and the month
    and year before it ("December 2025"): months of history in one "Older" group could not be scanned."""
    day = dt.datetime.fromtimestamp(updated_at).date()
    delta = (today - day).days
    if delta <= 0:
        return "Today"
    if delta == 1:
        return "Yesterday"
    if delta < 8:
        return "Previous 7 days"
    if delta < 31:
        return "Previous 30 days"
    month = day.strftime("%B")
    return month if day.year == today.year else f"{month} {day.year}"


class Sidebar(QWidget):
    """Lists conversations and emits what the person chose.

    Signals:
        newRequested(): start a new chat.
        presetChosen(str): start a new chat from this preset.
        openRequested(int): show this conversation.
        jumped(): a conversation was opened from the search box with Enter (the person goes on to write).
        renameRequested(int, str): rename a conversation.
        deleteRequested(int): delete a conversation (undoable).
        searchChanged(str): the search text changed (titles are filtered here; messages are searched elsewhere).
    """

    newRequested = Signal()
    presetChosen = Signal(str)
    openRequested = Signal(int)
    renameRequested = Signal(int, str)
    deleteRequested = Signal(int)
    exportRequested = Signal(int, str)
    searchChanged = Signal(str)
    jumped = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.setMinimumWidth(180)
        self.priced: Callable[[str], bool] = lambda model: True  # whether a model has a price (the window knows)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(8)
        self.new_button = QPushButton("New chat")
        icons.set_icon(self.new_button, "plus", "text")
        self.new_button.setObjectName("new_chat_button")
        self.new_button.setAccessibleName("New chat")
        self.new_button.setToolTip("New chat (Ctrl+N)")
        self.new_button.clicked.connect(self.newRequested)
        new_row = QHBoxLayout()
        new_row.setSpacing(4)
        new_row.addWidget(self.new_button, 1)
        self.presets_button = QToolButton()
        self.presets_button.setObjectName("presets_button")
        self.presets_button.setText("▾")
        self.presets_button.setAccessibleName("New chat from a preset")
        self.presets_button.setToolTip("New chat from a preset")
        self.presets_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.presets_menu = QMenu(self.presets_button)
        self.presets_button.setMenu(self.presets_menu)
        new_row.addWidget(self.presets_button)
        layout.addLayout(new_row)
        self.set_presets([])
        self.filter = QLineEdit()
        self.filter.setObjectName("conversation_filter")
        self.filter.setPlaceholderText("Search (Ctrl+K)")
        self.filter.setAccessibleName("Search conversations")
        self.filter.setToolTip("Finds conversation titles and the words of every message")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        self.filter.textChanged.connect(self.searchChanged)
        self.filter.installEventFilter(self)
        layout.addWidget(self.filter)
        self.list = QListWidget()
        self.list.setObjectName("conversation_list")
        self.list.setAccessibleName("Conversations")
        self.list.setItemDelegate(CostDelegate(self.list))
        # long titles are elided to the width (a horizontal scroll bar would only hide the last row)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        self.list.itemActivated.connect(self._on_activated)
        self.list.itemClicked.connect(self._on_activated)
        self.list.itemChanged.connect(self._on_item_changed)
        self.list.installEventFilter(self)
        layout.addWidget(self.list, 1)
        self.results = SearchResults()
        self.results.hide()
        layout.addWidget(self.results, 2)
        self._current: int | None = None
        self._replying: int | None = None  # the conversation a reply is arriving in
        self._filling = False

    def set_presets(self, names: list[str]) -> None:
        """Offer these presets for a new chat (saved from the conversation options)."""
        self.presets_menu.clear()
        for name in names:
            action = self.presets_menu.addAction(name)
            action.triggered.connect(lambda _c=False, n=name: self.presetChosen.emit(n))
        if not names:
            hint = self.presets_menu.addAction("No presets yet: save one from a chat's Options")
            hint.setEnabled(False)

    def set_conversations(self, conversations: list[Conversation]) -> None:
        """Show ``conversations`` (newest activity first), grouped by day."""
        self._filling = True
        self.list.clear()
        today = dt.date.today()
        last_group = None
        for c in conversations:
            group = group_name(c.updated_at, today)
            if group != last_group:
                header = QListWidgetItem(group)
                header.setFlags(Qt.ItemFlag.NoItemFlags)
                font = header.font()
                font.setBold(True)
                header.setFont(font)
                self.list.addItem(header)
                last_group = group
            item = QListWidgetItem(c.title or "Untitled")
            item.setData(ID_ROLE, c.id)
            item.setData(TITLE_ROLE, c.title or "Untitled")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            cost = format_usd(c.cost_micros) if c.cost_micros else ""
            item.setData(COST_ROLE, REPLYING if c.id == self._replying else cost)
            item.setData(SPENT_ROLE, cost)
            spent = cost or ("no cost yet" if self.priced(c.model) else "cost not counted: no price for this model")
            item.setToolTip(plain_tip(f"{c.model} · {spent}"))
            self.list.addItem(item)
            if c.id == self._current:
                item.setSelected(True)
                self.list.setCurrentItem(item)
        self._filling = False
        self._apply_filter(self.filter.text())

    def set_replying(self, conversation_id: int | None) -> None:
        """Mark the conversation a reply is arriving in (where its cost is shown), so that it can be found from
        another one; None: no reply is arriving."""
        self._replying = conversation_id
        self._filling = True  # (not an edit of a title)
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(ID_ROLE) is not None:
                item.setData(COST_ROLE, REPLYING if item.data(ID_ROLE) == conversation_id else item.data(SPENT_ROLE))
        self._filling = False

    def set_current(self, conversation_id: int | None) -> None:
        """Highlight the conversation shown."""
        self._current = conversation_id
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(ID_ROLE) == conversation_id and conversation_id is not None:
                self.list.setCurrentItem(item)
                return
        self.list.clearSelection()

    def first_match(self) -> int | None:
        """The conversation listed first among those the search shows (None: no title matches)."""
        for i in range(self.list.count()):
            item = self.list.item(i)
            if not item.isHidden() and item.data(ID_ROLE) is not None:
                return int(item.data(ID_ROLE))
        return None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Esc in the search box clears it; Enter opens the first conversation whose title matches; Down moves
        into the messages found; Delete in the list deletes the conversation selected (the banner offers Undo)."""
        if (watched is self.filter and event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent)
                and event.key() == Qt.Key.Key_Escape and self.filter.text()):
            event.accept()  # Esc clears the search here rather than stopping a reply (the window's shortcut)
            return True
        if watched is self.filter and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.key() == Qt.Key.Key_Escape and self.filter.text():
                self.filter.clear()
                return True
            if event.key() == Qt.Key.Key_Down and self.results.isVisible() and self.results.list.count():
                self.results.list.setFocus()
                self.results.list.setCurrentRow(0)
                return True
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.filter.text().strip():
                first = self.first_match()
                if first is not None:  # Ctrl+K, a few letters, Enter: the conversation whose title matches first
                    self.openRequested.emit(first)
                    self.jumped.emit()
                return True
        elif (event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) and watched is self.list
                and event.key() == Qt.Key.Key_Delete and self.list.state() != QListWidget.State.EditingState):
            chosen = [i for i in self.list.selectedItems() if not i.isHidden() and i.data(ID_ROLE) is not None]
            if len(chosen) == 1:  # only the row the person sees selected
                self.deleteRequested.emit(int(chosen[0].data(ID_ROLE)))
                return True
        return super().eventFilter(watched, event)

    def _apply_filter(self, text: str) -> None:
        needle = text.strip()
        if not needle:  # every title (at start too: the first paint needs no search module)
            for i in range(self.list.count()):
                self.list.item(i).setHidden(False)
            self.list.setVisible(True)
            self.list.setMaximumHeight(WIDGET_MAX)
            return
        from desktop_assistant.core.search import title_matches

        shown = 0
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setHidden(item.data(ID_ROLE) is None or not title_matches(item.text(), needle))
            shown += not item.isHidden()
        self.list.setVisible(shown > 0)  # no title matches: the messages found get the room
        # the titles found take only their rows: the messages found follow right below them
        rows = sum(self.list.sizeHintForRow(i) for i in range(self.list.count()) if not self.list.item(i).isHidden())
        self.list.setMaximumHeight(rows + 2 * self.list.frameWidth() + 4)

    def _on_activated(self, item: QListWidgetItem) -> None:
        cid = item.data(ID_ROLE)
        if cid is not None and cid != self._current:
            self.openRequested.emit(int(cid))

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        cid = item.data(ID_ROLE)
        if self._filling or cid is None:
            return
        if not item.text().strip():  # a title cannot be empty: the row shows the one it has again
            self._filling = True
            item.setText(str(item.data(TITLE_ROLE) or "Untitled"))
            self._filling = False
            return
        self.renameRequested.emit(int(cid), item.text())

    def _menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None or item.data(ID_ROLE) is None:
            return
        cid = int(item.data(ID_ROLE))
        menu = QMenu(self)
        menu.addAction("Rename", lambda: self.list.editItem(item))
        menu.addAction("Export…", lambda: self.exportRequested.emit(cid, str(item.data(TITLE_ROLE) or item.text())))
        menu.addAction("Delete", lambda: self.deleteRequested.emit(cid))
        # the right press selected the row: the conversation shown stays the one marked
        menu.aboutToHide.connect(lambda: self.set_current(self._current))
        menu.popup(self.list.viewport().mapToGlobal(pos))
