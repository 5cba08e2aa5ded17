"""Your data: back up, restore, export and import, with progress and cancel, through the operation runner.

One data operation runs at a time (runner key ``"data"``). Previews (what a backup or an import file holds)
are published before anything is replaced or written; the person confirms, then the work runs. Automatic
backups run once after start-up and then hourly checks make one a day while the app runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from desktop_assistant import __version__
from desktop_assistant.controllers.notices import NoticeBus
from desktop_assistant.controllers.runner import OperationRunner
from desktop_assistant.core.models import Conversation
from desktop_assistant.services.image_store import ImageStore
from desktop_assistant.services.store import Store
from desktop_assistant.services.store_backup import StoreBackups

if TYPE_CHECKING:  # export and import (and the markdown renderer they use) load on first use, not at start-up
    from desktop_assistant.services.data_io import ImportReport

KEY = "data"
HOUR_MS = 60 * 60 * 1000


class DataController(QObject):
    """Backups, restore, export and import.

    Signals:
        progress(str, float): what is running and how far (0..1; -1: unknown).
        busyChanged(bool): a data operation started or ended.
        backupPreview(object, object): a ``BackupInfo`` for a chosen backup, before restoring it, and the
            ``RestoreLoss`` restoring it would be.
        importPreview(object): an ``ImportReport`` (dry run) for a chosen file, before importing it.
        updated(list): the ids of conversations here an import added messages to (or renamed).
        finished(str): a sentence saying what was done (also posted as a notice).
        restored(): the database was replaced: reload conversations.
        imported(int): this many conversations were imported: reload the list.
    """

    progress = Signal(str, float)
    busyChanged = Signal(bool)
    backupPreview = Signal(object, object)
    importPreview = Signal(object)
    updated = Signal(list)
    finished = Signal(str)
    restored = Signal()
    imported = Signal(int)

    def __init__(self, store: Store, runner: OperationRunner, notices: NoticeBus,
                 keep: Callable[[], int] = lambda: 7, images: ImageStore | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.images = images
        self.backups = StoreBackups(store)
        self._runner = runner
        self._notices = notices
        self._keep = keep
        self._timer = QTimer(self)
        self._timer.setInterval(HOUR_MS)
        self._timer.timeout.connect(self._auto_tick)

    @property
    def busy(self) -> bool:
        """A data operation is running."""
        return self._runner.find(KEY) is not None

    def _start(self, name: str, coro: Coroutine[Any, Any, None]) -> bool:
        if self.busy or self._runner.closing:
            coro.close()
            self._notices.info("Another backup, export or import is still running; try again when it ends.")
            return False
        self._runner.start(name, self._wrap(name, coro), key=KEY)
        return True

    async def _wrap(self, name: str, coro: Coroutine[Any, Any, None]) -> None:
        self.busyChanged.emit(True)
        self.progress.emit(name, -1.0)
        try:
            await coro
        finally:
            self.busyChanged.emit(False)

    def _say(self, text: str) -> None:
        self.finished.emit(text)
        self._notices.info(text)

    def _reporter(self, label: str) -> Callable[[float], None]:
        return lambda fraction: self.progress.emit(label, fraction)

    async def conversations(self) -> list[Conversation]:
        """The conversations that can be chosen for export."""
        return await self.store.list_conversations()

    def cancel(self) -> bool:
        """Stop the running data operation (an import keeps what it has imported; an export writes nothing)."""
        return self._runner.cancel(KEY)

    # -- backups --------------------------------------------------------------------------------------------

    @property
    def backup_folder(self) -> Path:
        """Where the automatic backups are (where Restore looks first)."""
        return self.store.backups

    def start_automatic_backups(self) -> None:
        """Make the daily backup now if one is due, then check every hour."""
        self._timer.start()
        self._auto_tick()

    def stop_automatic_backups(self) -> None:
        """Stop the hourly check."""
        self._timer.stop()

    def _auto_tick(self) -> None:
        if self.busy or self._runner.closing or self.store.read_only:
            return
        self._runner.start("automatic backup", self.backups.auto_backup_if_due(self._keep()))

    def back_up_now(self, dest: Path) -> bool:
        """Copy the database to ``dest`` (a file the person chose)."""
        async def run() -> None:
            made = await self.backups.back_up_to(dest)
            self._say(f"Backed up your conversations to {made}.")
        return self._start("Backing up", run())

    def preview_backup(self, path: Path) -> bool:
        """Publish what the backup at ``path`` holds and what restoring it would take away (:attr:`backupPreview`);
        nothing is changed."""
        async def run() -> None:
            self.backupPreview.emit(*await self.backups.preview(path))
        return self._start("Reading the backup", run())

    def restore(self, path: Path) -> bool:
        """Replace the database with the backup at ``path`` (the current one is kept as a backup)."""
        async def run() -> None:
            result = await self.backups.restore(path)
            self.restored.emit()
            spent = (f" What was spent since the backup ({result.spending_kept} calls) still counts in Usage and "
                     "toward your limits." if result.spending_kept else "")
            self._say(f"Restored {result.restored.conversations} conversations from {path.name}. Your previous "
                      f"conversations were kept in {result.kept_current_at}.{spent}")
        return self._start("Restoring", run())

    # -- export and import ----------------------------------------------------------------------------------

    def export(self, dest: Path, fmt: str, conversation_ids: list[int] | None = None) -> bool:
        """Write the chosen conversations (None: all) to ``dest`` as json, markdown or html."""
        async def run() -> None:
            from desktop_assistant.services import data_io
            count = await data_io.export(self.store, dest, fmt, conversation_ids, app_version=__version__,
                                         progress=self._reporter("Exporting"), images=self.images)
            self._say(f"Exported {count} conversation{'s' if count != 1 else ''} to {dest}.")
        return self._start("Exporting", run())

    def preview_import(self, path: Path) -> bool:
        """Count what ``path`` would import (:attr:`importPreview`); nothing is written."""
        async def run() -> None:
            from desktop_assistant.services import data_io
            report = await data_io.import_file(self.store, path, dry_run=True, progress=self._reporter("Reading"))
            self.importPreview.emit(report)
        return self._start("Reading", run())

    def import_(self, path: Path) -> bool:
        """Import the conversations in ``path`` (duplicates skipped); a cancel keeps what was imported."""
        async def run() -> None:
            from desktop_assistant.services import data_io
            report = data_io.ImportReport(path, "")
            try:
                await data_io.import_file(self.store, path, progress=self._reporter("Importing"), report=report,
                                          images=self.images)
            except asyncio.CancelledError:
                self._after_import(report)
                raise
            self._after_import(report)
        return self._start("Importing", run())

    def _after_import(self, report: ImportReport) -> None:
        if report.conversations or report.updated:
            self.imported.emit(report.conversations + report.updated)
        if report.updated_ids:
            self.updated.emit(list(report.updated_ids))
        self._say(report.summary())
