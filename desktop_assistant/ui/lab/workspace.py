"""The Lab workspace: prompt library, versions and diffs, the test set, and runs compared side by side.

Widgets emit intents; :class:`LabController` acts through the runner. File dialogs are opened with ``open()``
(never a nested event loop) and act on ``fileSelected``.
"""

from __future__ import annotations

from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QLabel, QTabWidget, QVBoxLayout, QWidget

from desktop_assistant.controllers.drafts import TextKeeper
from desktop_assistant.controllers.endpoint import EndpointController
from desktop_assistant.controllers.lab import LabController
from desktop_assistant.controllers.runner import OperationRunner
from desktop_assistant.core.lab_report import Cell, Run
from desktop_assistant.core.lab_testset import Imported, LabCase, tidy_set_name
from desktop_assistant.core.prompt_template import variables
from desktop_assistant.core.prompts import PromptVersion
from desktop_assistant.ui.lab.prompt_editor import PromptEditor
from desktop_assistant.ui.lab.run_panel import RunPanel
from desktop_assistant.ui.lab.testset_table import TestSetEditor
from desktop_assistant.ui.lab.versions_view import VersionsView

UNTITLED_SET = "Untitled set"
KEPT_FORM = "lab.form"
"""The name under which the prompt form's unsaved changes are kept between sessions (``TextKeeper``)."""
KEPT_TABLE = "lab.test_set"
"""... and the test table's."""
ESTIMATE_AFTER_MS = 300
"""The choice of versions, models or cases settled this long: what the run would cost is worked out again."""


class LabWorkspace(QWidget):
    """The four pages of the lab, wired to the controller.

    Signals:
        chatRequested(): a version was handed to a new chat (the window shows Chat).
    """

    chatRequested = Signal()

    def __init__(self, lab: LabController, endpoint: EndpointController, runner: OperationRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lab")
        self.setAccessibleName("Lab")
        self.lab, self.endpoint, self.runner = lab, endpoint, runner
        self.prompt_name = ""
        self.versions: list[PromptVersion] = []
        self.message = QLabel()
        self.message.setObjectName("lab_notice")
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        # a line kept for messages, so that the pages do not jump down when one comes (clicks landed elsewhere)
        self.message.setMinimumHeight(self.message.fontMetrics().lineSpacing())
        self.editor = PromptEditor()
        self.versions_view = VersionsView()
        self.test_set = TestSetEditor()
        self.run_panel = RunPanel()
        self.pages = QTabWidget()
        self.pages.setObjectName("lab_pages")
        for page, title in ((self.editor, "Prompt"), (self.versions_view, "Versions"), (self.test_set, "Test set"),
                            (self.run_panel, "Run")):
            self.pages.addTab(page, title)
        self.pages.currentChanged.connect(lambda _index: self._say(""))  # a message is about the page it came on
        # the most a run would cost, worked out when the choice changes, before Run is clicked
        self._estimate = QTimer(self)
        self._estimate.setSingleShot(True)
        self._estimate.setInterval(ESTIMATE_AFTER_MS)
        self._estimate.timeout.connect(self._estimate_now)
        self.pages.currentChanged.connect(lambda _index: self._estimate_soon())
        self.pages.currentChanged.connect(lambda _index: self._note_unsaved())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.message)
        layout.addWidget(self.pages, 1)
        self._dialog: QFileDialog | None = None
        self._confirmed: tuple[str, str, Any] | None = None  # what a first click (Run, Save set, Use…) warned of
        self.editor.set_models(endpoint.models, endpoint.settings.default_model)
        self.run_panel.set_models(endpoint.models, [endpoint.settings.default_model])
        self._connect_widgets()
        self._connect_controller()
        self._say("")

    def _run(self, name: str, coro: Coroutine[Any, Any, Any]) -> None:
        self.runner.start_unless_closing(name, coro)  # an intent that reaches the window while it closes: nothing

    def _connect_widgets(self) -> None:
        ed, vv, ts, rp, lab = self.editor, self.versions_view, self.test_set, self.run_panel, self.lab
        ed.promptChosen.connect(self._choose_prompt)
        ed.saveRequested.connect(self._save)
        ed.useInChat.connect(self._use_in_chat)
        ed.useInExtraction.connect(self._use_in_extraction)
        vv.restoreRequested.connect(lambda name, n: self._run("restore version", lab.restore(name, n)))
        vv.openRequested.connect(self._edit_version)
        ts.openRequested.connect(self._open_set)
        ts.saveRequested.connect(self._save_set)
        ts.importRequested.connect(self._choose_import)
        rp.runRequested.connect(self._start_run)
        rp.choiceChanged.connect(self._estimate_soon)
        ts.table.itemChanged.connect(lambda _item: self._estimate_soon())
        rp.batchRequested.connect(lambda numbers, models: self._start_run(numbers, models, batch=True))
        rp.cancelRequested.connect(lab.cancel)
        rp.retryRequested.connect(lab.start_retry)
        rp.exportRequested.connect(self._choose_export)
        rp.openRunRequested.connect(lambda run_id: self._run("open run", lab.open_run(run_id)))
        rp.compareRequested.connect(lambda run_id: self._run("compare runs", lab.compare_with(run_id)))
        self.endpoint.modelsChanged.connect(self._models)

    def _connect_controller(self) -> None:
        lab, rp = self.lab, self.run_panel
        lab.promptsChanged.connect(self._prompts)
        lab.versionsChanged.connect(self._versions)
        lab.setsChanged.connect(self.test_set.set_names)
        lab.setLoaded.connect(self.test_set.offer)
        lab.imported.connect(self._imported)
        lab.runReset.connect(self._run_reset)
        lab.cellChanged.connect(self._cell)
        lab.progress.connect(rp.set_progress)
        lab.runningChanged.connect(rp.set_running)
        lab.quoted.connect(rp.quote.setText)
        lab.refused.connect(self._say)
        lab.runsChanged.connect(lambda runs: rp.set_runs(runs, lab.run_id))
        lab.compared.connect(lambda sentences: rp.regressions.setText("\n".join(sentences)))
        lab.exported.connect(lambda path: self._say(f"Saved {path}."))
        lab.usedElsewhere.connect(self._say)
        lab.againQuoted.connect(rp.set_again_quote)
        lab.cellsQueued.connect(rp.grid_model.set_queued)
        lab.cellStarted.connect(rp.grid_model.set_started)
        lab.ranAgain.connect(self._say)
        lab.batches.statusChanged.connect(self._batch_status)

    # -- prompts --------------------------------------------------------------------------------------------

    def _models(self, models: list[str]) -> None:
        self.editor.set_models(models)
        self.run_panel.set_models(models)

    def _prompts(self, latest: list[PromptVersion]) -> None:
        """List the prompts; at first the one saved last is opened, so Run has versions to offer."""
        if not self.prompt_name and latest:  # the prompt of unsaved changes kept from the last session, if any
            names = [v.name for v in latest]
            form = self.editor.version().name
            self.prompt_name = form if form in names else max(latest, key=lambda v: v.created_at).name
            self._run("prompt versions", self.lab.show_versions(self.prompt_name))
        self.editor.set_prompts(latest, self.prompt_name)

    def _choose_prompt(self, name: str) -> None:
        self.prompt_name = name
        self._run("prompt versions", self.lab.show_versions(name))

    def _versions(self, name: str, versions: list[PromptVersion]) -> None:
        self.prompt_name, self.versions = name, list(versions)
        self.versions_view.set_versions(name, versions)
        self.run_panel.set_versions(versions)
        if versions:
            self.editor.offer(versions[-1])  # waits while the form has other changes not saved
            self.run_panel.set_models(self.endpoint.models, [versions[-1].model])
            self.test_set.offer_variables(variables(versions[-1].user_template))
        self._note_unsaved()

    def _note_unsaved(self) -> None:
        """On the Run page: whether the Prompt page holds changes that a run would leave out."""
        self.run_panel.note_unsaved(self.editor.version().name if self.editor.unsaved() else None)

    def _save(self, version: PromptVersion) -> None:
        self.prompt_name = version.name
        self._say("")
        self._run("save prompt version", self.lab.save_version(version))

    def _edit_version(self, version: PromptVersion) -> None:
        self.editor.offer(version, f"edit {version.label}")
        self.pages.setCurrentWidget(self.editor)

    def _use_in_chat(self, version: PromptVersion) -> None:
        async def use() -> None:
            await self.lab.use_in_chat(version)
            self.chatRequested.emit()
        self._run("use prompt in chat", use())

    def _use_in_extraction(self, version: PromptVersion) -> None:
        """Hand the system prompt to Extract; instructions of its own there are replaced only on a second click."""
        before, after = self.lab.extraction_instructions, version.system_prompt
        if before.strip() and before != after and self._confirmed != ("extraction", before, after):
            self._confirmed = ("extraction", before, after)
            start = " ".join(before.split())
            start = start if len(start) <= 60 else start[:59] + "…"
            self._say(f"Extract has instructions of its own (“{start}”). Click Use as extraction instructions "
                      "again to replace them; Ctrl+Z in Extract's instructions box would bring them back.")
            return
        self._confirmed = None
        self.lab.use_in_extraction(version)

    # -- test set -------------------------------------------------------------------------------------------

    def _set_name(self) -> str:
        return self.test_set.set_name.currentText().strip() or UNTITLED_SET

    def _open_set(self, name: str) -> None:
        if not name:
            return
        if self.test_set.unsaved():  # the set's earlier runs are listed only once it is open
            self.test_set.wait(f"open “{name}”", lambda: self._run("open test set", self.lab.open_set(name)))
            return
        self._run("open test set", self.lab.open_set(name))

    def _replaces_another(self, action: str) -> bool:
        """Whether saving the table under the name typed would replace a saved set other than the one it shows
        (or that one, changed, for a run): the first click says so and a second click goes on."""
        ts = self.test_set
        name = tidy_set_name(self._set_name())
        saved = [ts.set_name.itemText(i) for i in range(ts.set_name.count())]
        replaces = name in saved and (name != ts.saved_name or (action == "run" and ts.unsaved()))
        if not replaces or self._confirmed == (action, name, ts.grid()):
            self._confirmed = None
            return False
        self._confirmed = (action, name, ts.grid())
        if action == "run":
            self._say(f"A run saves the table as the test set “{name}”, replacing the cases saved under that name. "
                      "Click again to go on, or give the set a new name on the Test set page to keep both.")
        else:
            self._say(f"A test set named “{name}” is saved already. Save set again to replace it with this table, "
                      "or choose another name.")
        return True

    def _save_set(self, _name: str = "") -> None:
        if self._replaces_another("save"):
            return
        cases, problems = self.test_set.cases()
        self.test_set.show_problems(problems)
        self._run("save test set", self._keep_set(cases, problems))

    async def _keep_set(self, cases: list[LabCase], problems: list[str]) -> list[LabCase]:
        """Save the table as the set named; with problems the table stays as typed (only its keys are set), so
        that what could not be read is there to correct."""
        name = self._set_name()
        keyed = await self.lab.save_set(name, cases, show=not problems)
        if problems:
            self.test_set.set_keys(keyed, tidy_set_name(name))
        if keyed and all(c.key for c in keyed):
            if not problems:
                self._say(f"Saved test set “{name}”.")
                return keyed
            self._say(f"Saved test set “{name}”, except what could not be read: see the list below the table.")
            if self.test_set.unsaved():  # what is typed is kept to correct, and is not what the set holds
                self.test_set.unsaved_note.say(
                    "The table is not all saved: what the list below it points out was left out of the set. "
                    "Correct it and Save set again.", discard=False)
        return keyed

    def _choose_import(self) -> None:
        self._open_dialog("Import test cases", "", "Test sets (*.csv *.jsonl *.ndjson *.txt);;All files (*)",
                          lambda path: self._run("import test cases", self.lab.import_file(path)), save=False)

    def _imported(self, result: Imported) -> None:
        self.test_set.add_cases(result.cases)
        n = len(result.cases)
        lines = [f"Imported {n} {'case' if n == 1 else 'cases'}."] + [str(p) for p in result.problems]
        self.test_set.show_problems(lines)

    # -- runs -----------------------------------------------------------------------------------------------

    def _start_run(self, numbers: list[int], models: list[str], *, batch: bool = False) -> None:
        self._estimate.stop()
        self.runner.cancel("lab-estimate")  # the run's own figures follow
        if self.runner.find("lab-run") is not None or self.runner.find("lab-batch-submit") is not None:
            return  # one run at a time (the button is disabled once the run has started)
        if self.editor.unsaved() and self.editor.shown.name == self.prompt_name:
            self._say(f"The Prompt page has changes to “{self.prompt_name}” not saved as a version. Save as new "
                      "version first (a run uses saved versions only, so that it says which one it used).")
            return
        if not self.versions:
            self._say("Write a prompt on the Prompt page and save it (or choose one there): its versions are listed "
                      "here to run.")
            return
        versions = [v for v in self.versions if v.version in numbers]
        cases, problems = self.test_set.cases()
        if cases and self._replaces_another("run"):
            return
        self.test_set.show_problems(problems)
        self._say("")

        async def run() -> None:
            keyed = await self._keep_set(cases, problems) if cases else cases
            if batch:
                await self.lab.batches.submit(self._set_name(), keyed, versions, models)
            else:
                await self.lab.run_set(self._set_name(), keyed, versions, models)
        self.pages.setCurrentWidget(self.run_panel)
        self.runner.start("lab batch" if batch else "lab run", run(), key="lab-batch-submit" if batch else "lab-run")

    def _estimate_soon(self) -> None:
        if self.pages.currentWidget() is self.run_panel:
            self._estimate.start()

    def _estimate_now(self) -> None:
        self.runner.cancel("lab-estimate")  # only the newest choice's figure is shown
        if self.lab.sending:
            return  # the run's own figures are shown
        numbers = self.run_panel.chosen_versions()
        versions = [v for v in self.versions if v.version in numbers]
        cases, _problems = self.test_set.cases()
        self.runner.start_unless_closing("lab estimate", self.lab.estimate(cases, versions,
                                                                           self.run_panel.chosen_models()),
                                         key="lab-estimate")

    def _batch_status(self, batch_id: str, status: str) -> None:
        self._show_batch_wait()
        if status == "completed":
            self._say(f"Batch {batch_id} completed; its cells are in the grid.")
        else:
            self._say(f"Batch {batch_id}: {status.replace('_', ' ')}. The grid fills when it completes (within "
                      "24 hours); you can close the app meanwhile.")

    def _run_reset(self, run: Run | None) -> None:
        self.run_panel.set_run(run)
        self._show_batch_wait()

    def _show_batch_wait(self) -> None:
        """Whether the run shown waits for its batch (its cells say so; running them again is not offered)."""
        run_id = self.lab.run_id

        async def ask() -> None:
            waiting = run_id is not None and await self.lab.waits_for_batch(run_id)
            if self.lab.run_id == run_id:
                self.run_panel.set_in_batch(waiting)

        self._run("lab batch wait", ask())

    def _cell(self, cell: Cell) -> None:
        if self.lab.run is not None:
            self.run_panel.update_cell(self.lab.run, cell)

    def _choose_export(self, kind: str) -> None:
        self._open_dialog("Export run", f"lab-run.{kind}", "CSV files (*.csv)" if kind == "csv"
                          else "JSON lines (*.jsonl)", lambda path: self._run("export run", self.lab.export(path)),
                          save=True)

    def _open_dialog(self, title: str, name: str, filters: str, act: Any, *, save: bool) -> None:
        dialog = QFileDialog(self, title, str(Path.home() / name), filters)  # not the folder the app started in
        dialog.setObjectName("lab_file_dialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave if save else QFileDialog.AcceptMode.AcceptOpen)
        if not save:
            dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(act)
        self._dialog = dialog
        dialog.open()

    def save_shown(self) -> None:
        """Ctrl+S: save what the page shown edits (the prompt as a new version, or the test set)."""
        page = self.pages.currentWidget()
        if page is self.editor:
            self.editor.save_button.click()
        elif page is self.test_set:
            self.test_set.save_button.click()
        else:
            self._say("Ctrl+S saves the Prompt page (as a new version) or the Test set page.")

    async def keep_with(self, texts: TextKeeper) -> None:
        """Put back the prompt form's and the test table's unsaved changes kept by the last session, and keep them
        from now on."""
        kept = await texts.kept()
        if (form := kept.get(KEPT_FORM, "")) and not self.editor.unsaved():
            self.editor.restore_form(form)
        if (table := kept.get(KEPT_TABLE, "")) and not self.test_set.unsaved():
            self.test_set.restore_table(table)
        self.editor.formChanged.connect(texts.follow(KEPT_FORM, self.editor.unsaved_json))
        self.test_set.tableChanged.connect(texts.follow(KEPT_TABLE, self.test_set.unsaved_json))

    def _say(self, text: str) -> None:
        self.message.setText(text)
