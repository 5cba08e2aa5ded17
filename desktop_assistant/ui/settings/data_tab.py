"""The "Your data" tab: automatic backups, Back up now, Restore (with a preview), Export and Import (with a preview).

Buttons emit intents; :func:`connect_data_tab` routes them to the data controller and its results back here.
File dialogs are opened with ``open()`` (no nested event loop); the tab never blocks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_assistant.controllers.data import DataController
from desktop_assistant.core.models import Conversation
from desktop_assistant.core.settings import Settings

EXPORT_FORMATS = (("JSON (can be imported again)", "json", "json"), ("Markdown", "markdown", "md"),
                  ("Web page (HTML)", "html", "html"))
SCOPES = (("Everything", "all"), ("The open conversation", "current"), ("The conversations ticked below", "chosen"))


def _plain_label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


class DataTab(QWidget):
    """Backups, restore, export and import.

    Signals:
        backUpRequested(str): back up to this path.
        restorePreviewRequested(str): show what this backup holds.
        restoreConfirmed(str): replace the database with this backup.
        exportRequested(str, str, object): path, format (json/markdown/html), conversation ids or None for all.
        importPreviewRequested(str): count what this file would import.
        importConfirmed(str): import this file.
        cancelRequested(): stop the running operation.
    """

    backUpRequested = Signal(str)
    restorePreviewRequested = Signal(str)
    restoreConfirmed = Signal(str)
    exportRequested = Signal(str, str, object)
    importPreviewRequested = Signal(str)
    importConfirmed = Signal(str)
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("data_tab")
        self._current: int | None = None
        self._pending: tuple[str, str] | None = None  # ("restore" | "import", path) awaiting confirmation
        self.backup_folder: Path | None = None  # where Restore opens (see connect_data_tab)
        self.file_dialog: QFileDialog | None = None
        self._backed_up_to: Path | None = None  # the folder of the last Back up now
        layout = QVBoxLayout(self)

        backups = QGroupBox("Backups")
        form = QFormLayout(backups)
        self.keep = QSpinBox()
        self.keep.setObjectName("auto_backup_keep")
        self.keep.setRange(0, 365)
        self.keep.setAccessibleName("Automatic daily backups to keep (0 turns them off)")
        self.keep.setSpecialValueText("Off")
        form.addRow("Daily backups kept", self.keep)
        row = QHBoxLayout()
        self.back_up = self._button("Back up now…", "back_up_now", row)
        self.restore = self._button("Restore from backup…", "restore_backup", row)
        form.addRow(row)
        form.addRow(_plain_label("Backups hold your conversations and usage history, never your API key. The "
                                 "pictures sent in them stay in the data folder's images/ and are not in a "
                                 "backup: copy that folder too to keep them."))
        self.backups_where = _plain_label()
        self.backups_where.setObjectName("backups_where")
        self.backups_where.setProperty("muted", True)
        self.backups_where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.backups_where)
        layout.addWidget(backups)

        export = QGroupBox("Export and import")
        form = QFormLayout(export)
        self.format = QComboBox()
        self.format.setAccessibleName("Export format")
        for label, value, _ext in EXPORT_FORMATS:
            self.format.addItem(label, value)
        form.addRow("Format", self.format)
        self.scope = QComboBox()
        self.scope.setAccessibleName("What to export")
        for label, value in SCOPES:
            self.scope.addItem(label, value)
        self.scope.currentIndexChanged.connect(self._scope_changed)
        form.addRow("Export", self.scope)
        self.chosen = QListWidget()
        self.chosen.setObjectName("export_selection")
        self.chosen.setAccessibleName("Conversations to export")
        self.chosen.setVisible(False)
        form.addRow(self.chosen)
        row = QHBoxLayout()
        self.export = self._button("Export…", "export", row)
        self.import_ = self._button("Import…", "import", row)
        form.addRow(row)
        form.addRow(_plain_label("Import reads this app's JSON export, ChatGPT's data export (the zip or its "
                                 "conversations.json) and JSONL of OpenAI-format messages."))
        layout.addWidget(export)

        self.preview = _plain_label()
        self.preview.setObjectName("data_preview")
        layout.addWidget(self.preview)
        row = QHBoxLayout()
        self.confirm = self._button("Confirm", "data_confirm", row)
        self.discard = self._button("Never mind", "data_discard", row)
        layout.addLayout(row)
        self.progress = QProgressBar()
        self.progress.setObjectName("data_progress")
        self.progress.setAccessibleName("Progress")
        self.progress.setRange(0, 1000)
        row = QHBoxLayout()
        row.addWidget(self.progress, 1)
        self.cancel = self._button("Cancel", "data_cancel", row)
        layout.addLayout(row)
        self.status = _plain_label()
        self.status.setObjectName("data_status")
        layout.addWidget(self.status)
        layout.addStretch(1)

        self.back_up.clicked.connect(self._choose_backup_dest)
        self.restore.clicked.connect(self._choose_backup_source)
        self.export.clicked.connect(self._choose_export_dest)
        self.import_.clicked.connect(self._choose_import_source)
        self.confirm.clicked.connect(self._confirm)
        self.discard.clicked.connect(self._clear_preview)
        self.cancel.clicked.connect(self.cancelRequested.emit)
        self._clear_preview()
        self.set_busy(False)

    def _button(self, text: str, name: str, row: QHBoxLayout) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setAccessibleName(text.rstrip("…"))
        row.addWidget(button)
        return button

    # -- settings -------------------------------------------------------------------------------------------

    def load(self, settings: Settings) -> None:
        """Show the automatic-backup setting (what was said about an earlier backup or import is done with)."""
        self.keep.setValue(settings.auto_backup_keep)
        if self._pending is None and self.back_up.isEnabled():  # not while an operation runs
            self.status.clear()

    def values(self, base: Settings) -> Settings:
        """``base`` with the automatic-backup setting applied."""
        return base.copy(auto_backup_keep=self.keep.value())

    def set_conversations(self, conversations: list[Conversation], current: int | None) -> None:
        """The conversations that can be ticked for export, and the open one."""
        self._current = current
        self.chosen.clear()
        for c in conversations:
            item = QListWidgetItem(c.title or "Untitled")
            item.setData(Qt.ItemDataRole.UserRole, c.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.chosen.addItem(item)

    def selected_ids(self) -> list[int] | None:
        """The ids to export (None: everything)."""
        scope = self.scope.currentData()
        if scope == "current":
            return [self._current] if self._current is not None else []
        if scope == "chosen":
            return [int(self.chosen.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.chosen.count())
                    if self.chosen.item(i).checkState() == Qt.CheckState.Checked]
        return None

    def _scope_changed(self) -> None:
        self.chosen.setVisible(self.scope.currentData() == "chosen")

    # -- file dialogs (opened with open(), never a nested loop) -------------------------------------------

    def _ask_file(self, title: str, save: bool, name_filter: str, done: Callable[[str], None],
                  suggested: str = "", folder: Path | None = None) -> None:
        dialog = QFileDialog(self, title)
        # the backups for Restore (a hidden folder nobody would find), else the home folder: never the folder the
        # app happened to be started from
        start = folder if folder is not None and folder.is_dir() else Path.home()
        dialog.setDirectory(str(start))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave if save else QFileDialog.AcceptMode.AcceptOpen)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile if save else QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilter(name_filter)
        dialog.setViewMode(QFileDialog.ViewMode.Detail)  # dates and whole names: backups differ only by their time
        dialog.resize(max(dialog.width(), 760), max(dialog.height(), 460))
        if suggested:
            dialog.selectFile(suggested)
            dialog.setDefaultSuffix(Path(suggested).suffix.lstrip("."))
        dialog.fileSelected.connect(done)
        self.file_dialog = dialog
        dialog.open()

    def _choose_backup_dest(self) -> None:
        name = f"conversations-backup-{time.strftime('%Y%m%d')}.sqlite3"

        def chosen(path: str) -> None:
            self._backed_up_to = Path(path).parent  # where Restore looks first
            self.backUpRequested.emit(path)
        self._ask_file("Back up to", True, "Backups (*.sqlite3)", chosen, name)

    def _choose_backup_source(self) -> None:
        """Restore opens where the last backup made here went, else among the automatic backups; both are in the
        dialog's side bar."""
        places = [p for p in (self._backed_up_to, self.backup_folder, Path.home()) if p is not None and p.is_dir()]
        self._ask_file("Restore from backup", False, "Backups (*.sqlite3 *.db);;All files (*)",
                       self.restorePreviewRequested.emit, folder=places[0] if places else None)
        if self.file_dialog is not None:
            self.file_dialog.setSidebarUrls([QUrl.fromLocalFile(str(p)) for p in dict.fromkeys(places)])

    def _choose_export_dest(self) -> None:
        _label, fmt, ext = EXPORT_FORMATS[self.format.currentIndex()]
        ids = self.selected_ids()
        if ids == []:
            self.status.setText("Nothing is chosen to export.")
            return
        self._ask_file("Export to", True, f"{ext.upper()} (*.{ext})",
                       lambda path: self.exportRequested.emit(path, fmt, ids), f"conversations.{ext}")

    def _choose_import_source(self) -> None:
        self._ask_file("Import", False, "Exports (*.json *.jsonl *.zip);;All files (*)",
                       self.importPreviewRequested.emit)

    # -- results from the controller ------------------------------------------------------------------------

    def show_backup_preview(self, info: Any, loss: Any) -> None:
        """What a backup holds and what restoring it would take away, with Restore to confirm (never offered for
        a backup from a newer app)."""
        self.preview.setText(info.summary() if info.newer_than_app else
                             f"{info.summary()} {loss.sentence()} Your current conversations are kept as a backup "
                             "first, so nothing is deleted. What was spent since the backup still counts.")
        self._offer(None if info.newer_than_app else ("restore", str(info.path)), "Restore")

    def show_import_preview(self, report: Any) -> None:
        """What a file would import, with Import to confirm."""
        self.preview.setText(report.summary())
        self._offer(("import", str(report.path)) if report.conversations or report.updated else None, "Import")

    def _offer(self, pending: tuple[str, str] | None, label: str) -> None:
        self._pending = pending
        self.status.clear()  # "Reading the backup…" is over: the preview says what it holds
        self.preview.setVisible(True)
        self.confirm.setText(label)
        self.confirm.setAccessibleName(label)
        self.confirm.setVisible(pending is not None)
        self.discard.setVisible(True)

    def _clear_preview(self) -> None:
        self._pending = None
        self.preview.clear()
        self.preview.setVisible(False)
        self.confirm.setVisible(False)
        self.discard.setVisible(False)

    def _confirm(self) -> None:
        if self._pending is None:
            return
        kind, path = self._pending
        self._clear_preview()
        (self.restoreConfirmed if kind == "restore" else self.importConfirmed).emit(path)

    def show_progress(self, label: str, fraction: float) -> None:
        """How far the running operation is (a negative fraction: unknown)."""
        self.status.setText(f"{label}…")
        if fraction < 0:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(fraction * 1000))

    def show_status(self, text: str) -> None:
        """A sentence about what was done."""
        self.status.setText(text)

    def set_busy(self, busy: bool) -> None:
        """Disable the actions while an operation runs; show progress and Cancel."""
        for button in (self.back_up, self.restore, self.export, self.import_, self.confirm):
            button.setEnabled(not busy)
        self.progress.setVisible(busy)
        self.cancel.setVisible(busy)
        if not busy:
            self.progress.setRange(0, 1000)


def connect_data_tab(tab: DataTab, data: DataController) -> None:
    """Route the tab's intents to the controller and its results back to the tab."""
    tab.backup_folder = data.backup_folder
    tab.backups_where.setText(f"The daily backups are kept in {data.backup_folder} (Restore opens there).")
    tab.backUpRequested.connect(lambda path: data.back_up_now(Path(path)))
    tab.restorePreviewRequested.connect(lambda path: data.preview_backup(Path(path)))
    tab.restoreConfirmed.connect(lambda path: data.restore(Path(path)))
    tab.exportRequested.connect(lambda path, fmt, ids: data.export(Path(path), fmt, ids))
    tab.importPreviewRequested.connect(lambda path: data.preview_import(Path(path)))
    tab.importConfirmed.connect(lambda path: data.import_(Path(path)))
    tab.cancelRequested.connect(data.cancel)
    data.progress.connect(tab.show_progress)
    data.busyChanged.connect(tab.set_busy)
    data.backupPreview.connect(tab.show_backup_preview)
    data.importPreview.connect(tab.show_import_preview)
    data.finished.connect(tab.show_status)
