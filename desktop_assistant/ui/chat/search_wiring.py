"""The glue between the sidebar's search box, its results and :class:`SearchController`.

Typing filters titles at once (the sidebar does that) and searches messages after a short pause. Choosing a
hit opens its conversation at the message, with the matched words highlighted.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QTextEdit

from desktop_assistant.controllers.chat import ChatController
from desktop_assistant.controllers.search import MeaningState, SearchController
from desktop_assistant.ui.chat.find_bar import match_format
from desktop_assistant.ui.chat.message_view import MessageView
from desktop_assistant.ui.chat.sidebar import Sidebar
from desktop_assistant.ui.chat.transcript import Transcript

SEARCH_PAUSE_MS = 250
TOP_UP_PAUSE_MS = 5_000  # new messages are embedded a little after a reply, a few at a time
MIN_CHARS = 2

Runner = Callable[[str, Coroutine[Any, Any, Any]], None]


def mark_words(view: MessageView, words: list[str]) -> list[QTextEdit.ExtraSelection]:
    """Highlight every occurrence of ``words`` in a message; returns the highlights."""
    mark = match_format()
    document = view.body.document()
    selections: list[QTextEdit.ExtraSelection] = []
    for word in words:
        cursor = document.find(word)
        while not cursor.isNull():
            selection = QTextEdit.ExtraSelection()
            selection.cursor = QTextCursor(cursor)
            selection.format = mark
            selections.append(selection)
            cursor = document.find(word, cursor)
    view.body.setExtraSelections(selections)
    return selections


def reveal(transcript: Transcript, message_id: int, words: list[str]) -> bool:
    """Scroll ``transcript`` to a message and highlight ``words`` in it; False if it is not on the branch."""
    view = transcript.ensure_view(message_id)
    if view is None:
        return False
    view.unfold()  # the words may be in the part of a long question not shown
    selections = mark_words(view, words)
    first = min((view.body.cursorRect(s.cursor).top() for s in selections), default=0)
    transcript.scroll_to(view, first)
    return True


class SearchWiring(QObject):
    """Connects the search box and results to the search and chat controllers."""

    def __init__(self, sidebar: Sidebar, transcript: Transcript, search: SearchController, chat: ChatController,
                 run: Runner) -> None:
        super().__init__(sidebar)
        self._sidebar, self._transcript, self._search, self._chat, self._run = sidebar, transcript, search, chat, run
        self._results = sidebar.results
        self._counted = False
        self._revealed: tuple[int, list[str]] | None = None  # the message opened from a hit, and its words
        self._pause = QTimer(self)
        self._pause.setSingleShot(True)
        self._pause.setInterval(SEARCH_PAUSE_MS)
        self._pause.timeout.connect(self._search_now)
        self._top_up = QTimer(self)
        self._top_up.setSingleShot(True)
        self._top_up.setInterval(TOP_UP_PAUSE_MS)
        self._top_up.timeout.connect(search.top_up)
        sidebar.searchChanged.connect(self._on_text)
        self._results.hitChosen.connect(self._open)
        self._results.meaningRequested.connect(search.start_index)
        self._results.meaningStopRequested.connect(search.stop_index)
        self._results.meaningOffRequested.connect(search.turn_off)
        search.resultsReady.connect(self._on_results)
        search.meaningChanged.connect(self._on_meaning)
        chat.streamingChanged.connect(lambda streaming: None if streaming else self._top_up.start())
        chat.conversationOpened.connect(self._forget_revealed)
        chat.conversationsChanged.connect(self._on_conversations)
        self._ids: set[int] | None = None  # the conversations there are, to search again when one comes or goes
        self._on_meaning(search.state)

    @property
    def text(self) -> str:
        """What is in the search box."""
        return self._sidebar.filter.text()

    def _on_text(self, text: str) -> None:
        active = len(text.strip()) >= MIN_CHARS
        self._results.setVisible(active)
        if not active:
            self._pause.stop()
            self._search.release()
            return
        if not self._counted:  # what indexing would cost is counted once, when search is first used
            self._counted = True
            self._run("count messages for search", self._search.refresh_state())
        self._pause.start()

    def _search_now(self) -> None:
        if len(self.text.strip()) >= MIN_CHARS:
            self._search.search(self.text)

    def _on_results(self, query: str, hits: list[Any], note: str) -> None:
        if query == self.text:  # an answer to an older query is dropped
            self._results.show_hits(query, hits, note)

    def _on_meaning(self, state: MeaningState) -> None:
        pending = state.plan is not None and not state.plan.empty
        self._results.show_meaning(state.enabled, state.available, state.running, pending, state.message)

    def _open(self, conversation_id: int, message_id: int, words: list[str]) -> None:
        async def go() -> None:
            if await self._chat.show_message(conversation_id, message_id) and reveal(self._transcript, message_id,
                                                                                      words):
                self._revealed = (message_id, words)
        self._run("open a found message", go())

    def _on_conversations(self, conversations: list[Any]) -> None:
        """A conversation deleted or brought back (Undo, a backup restored): the messages found change too."""
        ids = {c.id for c in conversations}
        if self._ids is not None and ids != self._ids and len(self.text.strip()) >= MIN_CHARS:
            self._pause.start()
        self._ids = ids

    def _forget_revealed(self, _conversation: object) -> None:
        self._revealed = None

    def follow_scheme(self) -> None:
        """Highlight the words of the message opened from a hit again (it was rendered again for the scheme)."""
        if self._revealed is not None and (view := self._transcript.views.get(self._revealed[0])) is not None:
            mark_words(view, self._revealed[1])
