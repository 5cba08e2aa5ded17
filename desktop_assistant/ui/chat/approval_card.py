"""The inline card above the composer that asks before a tool call runs (never a modal dialog).

It shows the tool, its server and the arguments as pretty JSON, all as plain text (the model wrote the
arguments; a server named the tool), with three answers: Allow once, Always allow this tool, Deny.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from desktop_assistant.controllers.tools import PendingApproval


class ApprovalCard(QFrame):
    """Asks about one call at a time; calls waiting behind it are counted.

    Signals:
        answered(str, str): the call id and ``once``, ``always`` or ``deny``.
    """

    answered = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tool_approval")
        self.setAccessibleName("Tool call waiting for approval")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(6)
        self.title = QLabel()
        self.title.setObjectName("tool_approval_title")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        layout.addWidget(self.title)
        self.arguments = QPlainTextEdit()
        self.arguments.setObjectName("tool_approval_arguments")
        self.arguments.setReadOnly(True)
        self.arguments.setAccessibleName("Arguments of the tool call")
        self.arguments.setMaximumHeight(160)
        layout.addWidget(self.arguments)
        row = QHBoxLayout()
        self.queue_label = QLabel()
        self.queue_label.setProperty("muted", True)
        row.addWidget(self.queue_label, 1)
        self.allow_button = self._button("Allow once", "allow_once_button", "once", row)
        self.always_button = self._button("Always allow this tool", "always_allow_button", "always", row)
        self.deny_button = self._button("Deny", "deny_button", "deny", row)
        layout.addLayout(row)
        self._queue: list[PendingApproval] = []
        self.hide()

    def _button(self, text: str, name: str, choice: str, row: QHBoxLayout) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setAccessibleName(text)
        button.clicked.connect(lambda: self._answer(choice))
        row.addWidget(button)
        return button

    @property
    def current(self) -> PendingApproval | None:
        """The call shown."""
        return self._queue[0] if self._queue else None

    def ask(self, pending: PendingApproval) -> None:
        """Queue ``pending``; it is shown when the calls before it are answered."""
        self._queue.append(pending)
        self._show_current()

    def close_request(self, call_id: str) -> None:
        """Forget ``call_id`` (answered, or the reply was stopped)."""
        self._queue = [p for p in self._queue if p.call_id != call_id]
        self._show_current()

    def _answer(self, choice: str) -> None:
        current = self.current
        if current is not None:
            self.close_request(current.call_id)
            self.answered.emit(current.call_id, choice)

    def _show_current(self) -> None:
        current = self.current
        self.setVisible(current is not None)
        if current is None:
            return
        self.title.setText(f"Run the tool “{current.tool}” of “{current.server_label}”?")
        self.arguments.setPlainText(current.arguments)
        waiting = len(self._queue) - 1 + current.later  # (the reply's later calls are asked one after another)
        self.queue_label.setText(f"{waiting} more waiting" if waiting else "")
        # no focus taken: an Enter meant for the composer must never approve a call
