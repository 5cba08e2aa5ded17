"""The "Your data" tab and its controller: intents reach the controller, previews come back before anything is
replaced, progress and cancel work, and the automatic-backup setting is saved (real files, qasync loop)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QLabel

from desktop_assistant.controllers.data import DataController
from desktop_assistant.controllers.notices import NoticeBus
from desktop_assistant.controllers.runner import OperationRunner
from desktop_assistant.core.models import Role, text_part
from desktop_assistant.core.settings import Settings
from desktop_assistant.services.settings import SettingsStore
from desktop_assistant.services.store import Store
from desktop_assistant.ui.settings.data_tab import connect_data_tab
from desktop_assistant.ui.settings.settings_dialog import SettingsDialog
from tests.conftest import next_emission, until
from tests.fake_openai.fixture import fake_openai  # noqa: F401
from tests.fake_openai.server import FakeOpenAI
from tests.services.data_helpers import seed
from tests.ui.app_fixture import built_app, start


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[tuple[Store, DataController, SettingsDialog]]:
    store = Store(tmp_path / "data" / "conversations.sqlite3")
    store.open()
    notices = NoticeBus()
    runner = OperationRunner(notices)
    data = DataController(store, runner, notices, keep=lambda: 3)
    dialog = SettingsDialog()
    connect_data_tab(dialog.data, data)
    yield store, data, dialog
    await runner.shutdown()
    data.stop_automatic_backups()
    dialog.deleteLater()
    await store.close()


def _pick(dialog: QFileDialog | None, path: Path) -> None:
    assert dialog is not None and dialog.isVisible()  # opened with open(): no nested loop
    dialog.fileSelected.emit(str(path))
    dialog.close()


async def test_back_up_restore_with_preview(parts: tuple[Store, DataController, SettingsDialog],
                                            tmp_path: Path) -> None:
    store, data, dialog = parts
    tab = dialog.data
    await seed(store)
    tab.back_up.click()
    assert tab.file_dialog is not None and Path(tab.file_dialog.directory().path()) == Path.home()
    _pick(tab.file_dialog, tmp_path / "mine.sqlite3")
    (text,) = await next_emission(data.finished.connect)
    assert "Backed up" in text and (tmp_path / "mine.sqlite3").exists()
    await store.create_conversation("gpt-4o", title="later")
    lisbon = next(c for c in await store.list_conversations() if c.title == "Trip to Lisbon")
    await store.add_message(lisbon.id, None, Role.USER, [text_part("And for dessert?")])
    data.backup_folder.mkdir(parents=True, exist_ok=True)
    tab.restore.click()
    # Restore opens where the backup just made went; the automatic backups (a hidden folder nobody would find by
    # hand) are beside it in the dialog's side bar
    assert tab.file_dialog is not None and Path(tab.file_dialog.directory().path()) == tmp_path
    sidebar = [Path(url.toLocalFile()) for url in tab.file_dialog.sidebarUrls()]
    assert sidebar[:2] == [tmp_path, data.backup_folder]
    assert tab.file_dialog.viewMode() is QFileDialog.ViewMode.Detail  # dates and whole names to tell them apart
    assert str(data.backup_folder) in tab.backups_where.text()  # the tab says where the daily ones are
    _pick(tab.file_dialog, tmp_path / "mine.sqlite3")
    await until(lambda: tab.confirm.isVisibleTo(tab))
    assert "2 conversations, 6 messages" in tab.preview.text()
    # what the restore would take away is said before it is done: a conversation begun since, and a question asked
    # since in one the backup has
    assert ("Restoring takes away 1 conversation this backup does not have (“later”) and what was written since "
            "in 1 conversation (“Trip to Lisbon”).") in tab.preview.text()
    assert "Reading" not in tab.status.text()  # done reading: the preview says what it holds
    assert len(await store.list_conversations()) == 3  # the preview replaced nothing
    tab.confirm.click()
    await next_emission(data.restored.connect)
    assert len(await store.list_conversations()) == 2
    await until(lambda: "kept in" in tab.status.text())
    await until(lambda: tab.back_up.isEnabled())
    tab.load(Settings())  # Settings opened again later: what was said then is done with
    assert tab.status.text() == ""


async def test_export_and_import_with_preview(parts: tuple[Store, DataController, SettingsDialog],
                                              tmp_path: Path) -> None:
    store, data, dialog = parts
    tab = dialog.data
    await seed(store)
    tab.format.setCurrentIndex(0)
    tab.export.click()
    _pick(tab.file_dialog, tmp_path / "all.json")
    await next_emission(data.finished.connect)
    assert json.loads((tmp_path / "all.json").read_text(encoding="utf-8"))["version"] == 1
    tab.import_.click()
    _pick(tab.file_dialog, tmp_path / "all.json")
    await until(lambda: tab.preview.isVisibleTo(tab))
    assert "2 already here" in tab.preview.text() and not tab.confirm.isVisibleTo(tab)  # nothing new to import


async def test_export_a_selection(parts: tuple[Store, DataController, SettingsDialog], tmp_path: Path) -> None:
    store, data, dialog = parts
    tab = dialog.data
    ids = await seed(store)
    tab.set_conversations(await store.list_conversations(), current=ids[0])
    tab.scope.setCurrentIndex(2)
    assert tab.selected_ids() == []
    tab.chosen.item(0).setCheckState(tab.chosen.item(0).checkState().Checked)
    chosen = tab.selected_ids()
    assert chosen is not None and len(chosen) == 1
    tab.format.setCurrentIndex(1)
    tab.export.click()
    _pick(tab.file_dialog, tmp_path / "one.md")
    (text,) = await next_emission(data.finished.connect)
    assert "Exported 1 conversation to" in text
    tab.scope.setCurrentIndex(1)
    assert tab.selected_ids() == [ids[0]]


async def test_automatic_backup_runs_once_a_day(parts: tuple[Store, DataController, SettingsDialog]) -> None:
    store, data, _dialog = parts
    data.start_automatic_backups()
    await until(lambda: store.backups.exists() and len(list(store.backups.iterdir())) == 1)


def test_keep_setting_is_saved(tmp_path: Path, qtbot: object) -> None:
    dialog = SettingsDialog()
    dialog.load(Settings(auto_backup_keep=5), "none")
    assert dialog.data.keep.value() == 5
    dialog.data.keep.setValue(0)
    saved: list[Settings] = []
    dialog.saveRequested.connect(lambda s, _k: saved.append(s))
    dialog._save()
    assert saved and saved[0].auto_backup_keep == 0
    store = SettingsStore(tmp_path / "settings.json")
    store.save(saved[0])
    assert store.load().auto_backup_keep == 0
    (tmp_path / "settings.json").write_text('{"auto_backup_keep": 100000}', encoding="utf-8")
    assert store.load().auto_backup_keep == 365
    dialog.deleteLater()


def test_the_tab_says_pictures_are_not_in_a_backup(qtbot: object) -> None:
    """They stay in the data folder (a backup is the database): said where backups are made."""
    dialog = SettingsDialog()
    texts = [label.text() for label in dialog.data.findChildren(QLabel)]
    assert any("pictures sent in them stay in the data folder's images/" in t for t in texts)
    dialog.deleteLater()


async def test_an_import_that_adds_to_the_conversation_shown_shows_it(tmp_path: Path,
                                                                      fake_openai: FakeOpenAI) -> None:  # noqa: F811
    from tests.services.test_export_import import _write, chatgpt_conversation, continued

    first = chatgpt_conversation("Trip", 1_700_000_000.0)
    async with built_app(tmp_path / "home", fake_openai.base_url) as parts:
        await start(parts)
        parts.data.import_(_write(tmp_path / "v1.json", first))
        await until(lambda: bool(parts.window.sidebar.list.count()) and not parts.runner.operations)
        trip = (await parts.store.list_conversations())[0]
        await parts.chat.open_conversation(trip.id)
        assert parts.chat.path[-1].text == "New answer"
        parts.data.import_(_write(tmp_path / "v2.json", continued(first, ("And Porto?", "Take the train."))))
        await until(lambda: parts.chat.path[-1].text == "Take the train.")
        views = parts.window.transcript.views
        assert parts.chat.path[-1].id in views and "Take the train." in views[parts.chat.path[-1].id].text
