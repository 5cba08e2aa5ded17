"""The main window: sidebar, header, transcript, composer; onboarding while no key is set.

Widgets only show state and emit intents; every intent goes to a controller through the operation runner.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTabBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_assistant import APP_NAME
from desktop_assistant.controllers.attachments import AttachmentsController
from desktop_assistant.controllers.endpoint import EndpointController
from desktop_assistant.controllers.notices import Level, Notice, NoticeBus
from desktop_assistant.core.branches import active_path, alternative_position
from desktop_assistant.core.errors import ErrorAction, ErrorKind, UserFacingError
from desktop_assistant.core.models import Conversation, Message, Role
from desktop_assistant.core.pricing import format_usd
from desktop_assistant.core.redact import redact
from desktop_assistant.core.settings import Settings
from desktop_assistant.ui import icons, theme
from desktop_assistant.ui.chat.composer import Composer
from desktop_assistant.ui.chat.header import Header
from desktop_assistant.ui.chat.message_view import MessageView, copy_to_clipboard
from desktop_assistant.ui.chat.mime import images_in
from desktop_assistant.ui.chat.sidebar import Sidebar
from desktop_assistant.ui.chat.tool_views import ToolViews
from desktop_assistant.ui.chat.transcript import Transcript
from desktop_assistant.ui.notice_banner import NoticeBanner
from desktop_assistant.ui.screens import fitted

if TYPE_CHECKING:  # controllers are bound after the first paint, extraction and the lab later, dialogs when opened
    import asyncio

    from PySide6.QtWidgets import QFileDialog

    from desktop_assistant.controllers.batches import BatchController
    from desktop_assistant.controllers.chat import ChatController
    from desktop_assistant.controllers.data import DataController
    from desktop_assistant.controllers.drafts import TextKeeper
    from desktop_assistant.controllers.estimates import DraftEstimate, EstimateController
    from desktop_assistant.controllers.extraction import ExtractionController
    from desktop_assistant.controllers.lab import LabController
    from desktop_assistant.controllers.lifecycle import Lifecycle
    from desktop_assistant.controllers.runner import OperationRunner
    from desktop_assistant.controllers.search import SearchController
    from desktop_assistant.controllers.usage import UsageController
    from desktop_assistant.core.usage import UsageReport
    from desktop_assistant.ui.chat.editing import Editing
    from desktop_assistant.ui.chat.find_bar import FindBar
    from desktop_assistant.ui.chat.image_viewer import ImageViewer
    from desktop_assistant.ui.chat.options_panel import ConversationOptions
    from desktop_assistant.ui.chat.search_wiring import SearchWiring
    from desktop_assistant.ui.extraction.workspace import ExtractWorkspace
    from desktop_assistant.ui.help_overlay import HelpOverlay
    from desktop_assistant.ui.lab.workspace import LabWorkspace
    from desktop_assistant.ui.settings.mcp_form import McpBackend
    from desktop_assistant.ui.settings.onboarding import Onboarding
    from desktop_assistant.ui.settings.settings_dialog import SettingsDialog
    from desktop_assistant.ui.usage.usage_panel import UsagePanel


STATUS_CHARS = 90
"""An information longer than this goes to the banner, which wraps it: the status bar cut it off at its width
(beside the month's spending and the endpoint)."""


def scrolling(workspace: QWidget) -> QScrollArea:
    """``workspace`` in a scroll area: a window smaller than it needs (snapped to half a small screen, or at 150 %
    on a small one) scrolls it, and the Chat tab is not held to its minimum size."""
    area = QScrollArea()
    area.setObjectName(f"{workspace.objectName()}_scroll")
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(workspace)
    return area


class MainWindow(QMainWindow):
    """The chat window."""

    def __init__(self, endpoint: EndpointController, attachments: AttachmentsController, notices: NoticeBus) -> None:
        """The widgets, showing the settings, the endpoint and ``notices``; :meth:`bind` connects the rest.

        The window can be shown (and painted) before :meth:`bind`: it then shows what it was given, and the
        controllers it acts through are built and bound right after the first paint.
        """
        super().__init__()
        self.attachments, self.endpoint = attachments, endpoint
        self.setWindowTitle(APP_NAME)
        self.setObjectName("main_window")
        self.resize(fitted(1180, 780, self.screen()))

        self.sidebar = Sidebar()
        right = QWidget()
        right.setObjectName("chat_area")
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.setSpacing(0)
        self.header = Header()
        right_layout.addWidget(self.header)
        self._right_layout = right_layout  # the options panel goes under the header when first needed
        self.banner = NoticeBanner()
        right_layout.addWidget(self.banner)
        self.stack = QStackedWidget()
        self.chat_page = chat_page = QWidget()
        chat_page.setObjectName("chat")
        page = QVBoxLayout(chat_page)
        page.setContentsMargins(0, 0, 0, 0)
        page.setSpacing(0)
        self.transcript = Transcript()
        self.transcript.image_loader = attachments.image_for_url
        self.transcript.hold_background(True)  # until bound: older messages are built after the first paint
        self.tool_views = ToolViews(self.transcript, self._server_label)
        self._chat_layout = page  # the find bar goes above the transcript when first needed
        page.addWidget(self.transcript, 1)
        self.composer = Composer()
        page.addWidget(self.composer)
        self.stack.addWidget(chat_page)
        right_layout.addWidget(self.stack, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("main_splitter")
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([260, 920])
        self.workspaces = QStackedWidget()
        self.workspaces.setObjectName("workspaces")
        self.workspaces.addWidget(self.splitter)
        opening = QLabel("Opening Extract…")  # attach_extraction puts the workspace here after the first paint
        opening.setObjectName("extract_placeholder")
        opening.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.extract_page: QWidget = opening
        self._extract: ExtractWorkspace | None = None
        self.workspaces.addWidget(self.extract_page)
        self.lab_page = QWidget()  # replaced by the Lab workspace the first time its tab is shown (start-up)
        self.lab_page.setObjectName("lab_placeholder")
        self._lab: LabController | None = None
        self._lab_texts: TextKeeper | None = None
        self._lab_workspace: LabWorkspace | None = None
        self._mcp_backend: McpBackend | None = None
        self.workspaces.addWidget(self.lab_page)
        self._usage_placeholder = QWidget()  # replaced by the Usage panel when it is first shown or asked for
        self.workspaces.addWidget(self._usage_placeholder)
        # panels nobody sees at first are made when first needed (see the properties below)
        self._options: ConversationOptions | None = None
        self._onboarding: Onboarding | None = None
        self._find_bar: FindBar | None = None
        self.search_wiring: SearchWiring | None = None
        self._usage_panel: UsagePanel | None = None
        self._report: UsageReport | None = None
        self._month: tuple[int, int | None] | None = None
        self._keyring_problem = ""
        self._keyring_said = ""  # the keyring problem the banner said
        self._models_of = ""  # the endpoint whose model list was last shown: a new one's list is checked
        self._shown_id: int | None = None  # the conversation shown (None: a new chat)
        self._stored_id: int | None = None  # the new chat stored last (it stays the chat shown)
        self._link_shown = ""  # the address of a link under the pointer, shown in the status bar
        self._deleted: list[int] = []  # the conversations the banner's Undo brings back
        self._bound = False
        self.workspace_tabs = QTabBar()
        self.workspace_tabs.setObjectName("workspace_tabs")
        self.workspace_tabs.setAccessibleName("Workspaces")
        self.workspace_tabs.setDrawBase(False)
        self.workspace_tabs.setExpanding(False)
        for name in ("Chat", "Extract", "Lab", "Usage"):
            self.workspace_tabs.addTab(name)
        self.workspace_tabs.currentChanged.connect(self.show_workspace)
        central = QWidget()
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(0, 0, 0, 0)
        central_layout.setSpacing(0)
        central_layout.addWidget(self.workspace_tabs)
        central_layout.addWidget(self.workspaces, 1)
        self.setCentralWidget(central)
        self.month_label = QLabel()
        self.month_label.setObjectName("month_spend")
        self.month_label.setTextFormat(Qt.TextFormat.PlainText)
        self.statusBar().addPermanentWidget(self.month_label)
        self._export_dialog: QFileDialog | None = None
        self.image_viewer: ImageViewer | None = None
        self.endpoint_label = QLabel()
        self.endpoint_label.setObjectName("endpoint_status")
        self.endpoint_label.setTextFormat(Qt.TextFormat.PlainText)
        self.statusBar().addPermanentWidget(self.endpoint_label)
        self.help_button = QToolButton()
        self.help_button.setObjectName("help_button")
        self.help_button.setText("?")
        self.help_button.setAccessibleName("Keyboard shortcuts and about")
        self.help_button.setToolTip("Keyboard shortcuts, and about this app (F1)")
        self.help_button.clicked.connect(self.show_help)
        self.statusBar().addPermanentWidget(self.help_button)
        self.settings_dialog: SettingsDialog | None = None
        self.help_overlay: HelpOverlay | None = None
        self._close_started = False
        self._shutdown_task: asyncio.Task[None] | None = None
        self.editing: Editing | None = None  # made in bind()
        self.escape_first: list[Callable[[], bool]] = []  # Esc goes to these first; True: taken

        self.sidebar.set_presets(sorted(endpoint.settings.presets))
        notices.subscribe(self._on_notice)
        self._restore_geometry(endpoint.settings)
        if endpoint.settings.text_zoom != 100:
            self._apply_zoom(endpoint.settings.text_zoom)
        self._on_settings(endpoint.settings)
        self.composer.edit.setFocus()

    def bind(self, chat: ChatController, estimates: EstimateController, usage: UsageController,
             data: DataController, runner: OperationRunner, lifecycle: Lifecycle) -> None:
        """Connect the widgets to the controllers (once); message views already shown get their actions too."""
        self.chat, self.estimates, self.usage, self.data = chat, estimates, usage, data
        self.runner, self.lifecycle = runner, lifecycle
        self._bound = True
        from desktop_assistant.ui.chat.editing import Editing

        self.editing = Editing(self.composer, chat, estimates, self._run, lambda: self.transcript.views,
                               self._offer_left_edit, lambda view: self.transcript.ensureWidgetVisible(view, 0, 16))
        self.sidebar.priced = lambda model: usage.prices.price_for(model) is not None
        self._connect_widgets()
        self._connect_controllers()
        if self._options is not None:
            self._connect_options(self._options)
        if self._onboarding is not None:
            self._connect_onboarding(self._onboarding)
        if self._usage_panel is not None:
            self._connect_usage_panel(self._usage_panel)
        for view in list(self.transcript.views.values()):
            self._connect_message(view)
        self.transcript.hold_background(False)
        from desktop_assistant.ui.chat.attach_wiring import AttachWiring

        self.attach_wiring = AttachWiring(self, self.composer, self.attachments, self._run)
        self.attachments.changed.connect(lambda _items: self.estimates.draft_changed(self.composer.text))
        self.attachments.filesChanged.connect(lambda _files: self.estimates.draft_changed(self.composer.text))
        data.restored.connect(lambda: self._run("reload after restore", self._reload_after_data()))
        data.imported.connect(lambda _n: self._run("reload after import", self.chat.refresh_conversations()))
        data.updated.connect(self._on_updated_by_import)
        self.setAcceptDrops(True)
        self._shortcuts()

    def show_stored(self, conversation: Conversation | None, messages: list[Message], models: list[str],
                    conversations: list[Conversation], kept: dict[int, tuple[bytes, str]] | None = None,
                    draft: str = "") -> None:
        """Show what was read from the store before the controllers exist (the chat controller, once bound,
        shows the same through its signals). ``kept``: replies' HTML rendered for an earlier start, by message
        id, with its key (core/first_screen.py); ``draft``: what was being written when the app last closed."""
        settings = self.endpoint.settings
        self.transcript.kept = dict(kept or {})
        self.sidebar.set_conversations(conversations)
        self.header.set_models(models, settings.default_model)
        self._show_conversation(conversation, conversation.model if conversation else settings.default_model)
        path = active_path(messages, conversation.current_leaf_id) if conversation else []
        self._show_path(path, lambda message: alternative_position(messages, message))
        if draft:
            self.composer.set_text(draft)

    def _server_label(self, server_id: str) -> str:
        from desktop_assistant.core.mcp_config import servers_from_json

        servers = servers_from_json(self.endpoint.settings.mcp_servers)[0]
        return next((c.label for c in servers if c.id == server_id), server_id)

    # -- wiring ----------------------------------------------------------------------------------------------

    def attach_search(self, search: SearchController) -> None:
        """Search every conversation from the sidebar's search box."""
        from desktop_assistant.ui.chat.search_wiring import SearchWiring

        self.search_wiring = SearchWiring(self.sidebar, self.transcript, search, self.chat, self._run)

    def attach_extraction(self, extraction: ExtractionController, batches: BatchController) -> ExtractWorkspace:
        """The Extract workspace, in place of its placeholder (its modules are not needed for the first paint)."""
        from desktop_assistant.ui.extraction.workspace import ExtractWorkspace

        page = ExtractWorkspace(extraction, batches, self.endpoint, self.runner)
        extraction.exported.connect(lambda path: self.statusBar().showMessage(f"Results exported to {path}", 8000))
        index = self.workspaces.indexOf(self.extract_page)
        showing = self.workspaces.currentIndex() == index
        self.workspaces.removeWidget(self.extract_page)
        self.extract_page.deleteLater()
        self.extract_page, self._extract = scrolling(page), page
        self.workspaces.insertWidget(index, self.extract_page)
        if showing:
            self.workspaces.setCurrentIndex(index)
        return page

    @property
    def extract_workspace(self) -> ExtractWorkspace | None:
        """The Extract workspace, once built after the first paint."""
        return self._extract

    def attach_tools(self, backend: McpBackend) -> None:
        """What the Settings tab for MCP servers lists tools and stores secrets through."""
        self._mcp_backend = backend
        if self.settings_dialog is not None:
            self.settings_dialog.mcp.backend = backend

    def attach_lab(self, lab: LabController, texts: TextKeeper | None = None) -> None:
        """The prompt lab behind the Lab tab (its workspace is built when the tab is first shown); ``texts``
        keeps its prompt form's unsaved changes between sessions."""
        self._lab, self._lab_texts = lab, texts
        if self.workspaces.currentWidget() is self.lab_page:  # its tab was opened before the lab was ready
            self._build_lab()

    def _build_lab(self) -> None:
        from desktop_assistant.ui.lab.workspace import LabWorkspace  # not needed for the first paint

        if self._lab is None or self.lab_page.objectName() != "lab_placeholder":
            return
        page = LabWorkspace(self._lab, self.endpoint, self.runner)
        page.chatRequested.connect(lambda: self.show_workspace(0))
        if self._lab_texts is not None:
            self._run("lab form", page.keep_with(self._lab_texts))
        index = self.workspaces.indexOf(self.lab_page)
        showing = self.workspaces.currentIndex() == index
        self.workspaces.removeWidget(self.lab_page)
        self.lab_page.deleteLater()
        self.lab_page, self._lab_workspace = scrolling(page), page
        self.workspaces.insertWidget(index, self.lab_page)
        if showing:  # (built when the lab came, its tab already open: it stays the one shown)
            self.workspaces.setCurrentIndex(index)
        self._run("lab", self._lab.load())

    def _run(self, name: str, coro: Coroutine[Any, Any, Any]) -> None:
        self.runner.start_unless_closing(name, coro)  # an intent that reaches the window while it closes: nothing

    def _connect_widgets(self) -> None:
        c = self.chat
        self.sidebar.newRequested.connect(self.new_chat)
        self.sidebar.presetChosen.connect(self.new_chat)
        self.sidebar.openRequested.connect(lambda cid: self._run("open", c.open_conversation(cid)))
        self.sidebar.jumped.connect(self.composer.edit.setFocus)
        self.sidebar.renameRequested.connect(lambda cid, t: self._run("rename", c.rename(cid, t)))
        self.sidebar.deleteRequested.connect(lambda cid: self._run("delete", c.delete(cid)))
        self.sidebar.exportRequested.connect(self._export_conversation)
        self.header.renameRequested.connect(self._rename_current)
        self.header.modelChosen.connect(self._on_model_chosen)
        self.header.modelsWanted.connect(self._connect_endpoint)
        self.header.optionsToggled.connect(self._on_options_button)
        self.header.settingsRequested.connect(self.open_settings)
        self.composer.sendRequested.connect(self._on_send)
        self.composer.stopRequested.connect(c.stop)
        self.composer.draftChanged.connect(self._on_draft)
        self.composer.editLastRequested.connect(self._edit.start_on_last)
        self.transcript.viewCreated.connect(self._connect_message)
        self.banner.actionRequested.connect(self._on_action)

    def _connect_controllers(self) -> None:
        c = self.chat
        c.conversationsChanged.connect(self.sidebar.set_conversations)
        c.conversationStored.connect(lambda conversation: setattr(self, "_stored_id", conversation.id))
        c.conversationOpened.connect(self._on_conversation_opened)
        c.transcriptChanged.connect(self._on_transcript)
        c.messageChanged.connect(self._on_message_changed)
        c.replyProgress.connect(self.transcript.set_streaming_text)
        c.thinking.connect(self.composer.set_thinking)
        c.presetsChanged.connect(self.sidebar.set_presets)
        c.streamingChanged.connect(self._on_streaming)
        c.sendAccepted.connect(self._on_send_accepted)
        c.sendRefused.connect(self._on_send_refused)
        c.historyCut.connect(self.transcript.set_history_cut)
        c.deletedUndoable.connect(self._on_deleted)
        self.endpoint.settingsChanged.connect(self._on_settings)
        self._models_of = self.endpoint.settings.endpoint
        self.endpoint.modelsChanged.connect(self._on_models)
        self.endpoint.keyStateChanged.connect(lambda _s: self._update_page())
        self.endpoint.keyringProblem.connect(self._on_keyring_problem)
        self.estimates.estimated.connect(self._on_estimate)
        self.usage.reportReady.connect(self._on_report)
        self.usage.monthChanged.connect(self._on_month)
        self.usage.exported.connect(lambda path: self.statusBar().showMessage(f"Usage exported to {path}", 8000))

    # -- panels made when first needed ----------------------------------------------------------------------

    @property
    def options(self) -> ConversationOptions:
        """The conversation options panel under the header (hidden until the header's options button)."""
        if self._options is None:
            from desktop_assistant.ui.chat.options_panel import ConversationOptions

            self._options = ConversationOptions()
            self._options.hide()
            self._right_layout.insertWidget(self._right_layout.indexOf(self.header) + 1, self._options)
            if self._bound:
                self._connect_options(self._options)
        return self._options

    @property
    def onboarding(self) -> Onboarding:
        """The first-run page that asks for the endpoint and key (shown while no key is set)."""
        if self._onboarding is None:
            from desktop_assistant.ui.settings.onboarding import Onboarding

            self._onboarding = Onboarding()
            self.stack.addWidget(self._onboarding)
            self._onboarding.load(self.endpoint.settings, self.endpoint.key_source.value, self._keyring_problem)
            if self._keyring_problem:
                self._onboarding.show_problem(self._keyring_problem)
            if self._bound:
                self._connect_onboarding(self._onboarding)
        return self._onboarding

    @property
    def find_bar(self) -> FindBar:
        """The bar that finds text in the conversation (Ctrl+F)."""
        if self._find_bar is None:
            from desktop_assistant.ui.chat.find_bar import FindBar

            self._find_bar = FindBar(self.transcript)
            self._find_bar.closedFromKeyboard.connect(self.composer.edit.setFocus)
            self._chat_layout.insertWidget(0, self._find_bar)
        return self._find_bar

    @property
    def usage_panel(self) -> UsagePanel:
        """The Usage workspace, showing the latest report and the monthly limit."""
        return self._make_usage_panel()

    def _make_usage_panel(self) -> UsagePanel:
        from desktop_assistant.ui.usage.usage_panel import UsagePanel

        if self._usage_panel is None:
            panel = self._usage_panel = UsagePanel()
            index = self.workspaces.indexOf(self._usage_placeholder)
            showing = self.workspaces.currentIndex() == index
            self.workspaces.removeWidget(self._usage_placeholder)
            self._usage_placeholder.deleteLater()
            self.workspaces.insertWidget(index, panel)
            if showing:
                self.workspaces.setCurrentIndex(index)
            if self._report is not None:
                panel.show_report(self._report)
            if self._month is not None:
                panel.show_limit(*self._month, self.usage.limits.daily_micros)
            if self._bound:
                self._connect_usage_panel(panel)
        return self._usage_panel

    def _connect_options(self, panel: ConversationOptions) -> None:
        panel.presetSaved.connect(self.chat.save_preset)
        panel.defaultPromptChosen.connect(self._set_default_prompt)
        panel.applied.connect(self.chat.set_options)
        panel.applied.connect(lambda *_options: self.estimates.draft_changed(self.composer.text))  # system prompt

    def _connect_onboarding(self, panel: Onboarding) -> None:
        from desktop_assistant.ui.settings.endpoint_form import connect_form

        panel.saveRequested.connect(self._save_settings)
        connect_form(panel.form, self.endpoint, self.runner.start)

    def _connect_usage_panel(self, panel: UsagePanel) -> None:
        panel.refreshRequested.connect(lambda: self._run("usage", self.usage.refresh()))
        panel.exportRequested.connect(self._choose_export_file)
        panel.periodChosen.connect(self._on_usage_period)

    def _on_report(self, report: UsageReport) -> None:
        self._report = report
        if self._usage_panel is not None:
            self._usage_panel.show_report(report)

    def _connect_message(self, view: MessageView) -> None:
        c = self.chat
        view.copyRequested.connect(self._copy)
        view.imageRequested.connect(self._show_image)
        view.linkHovered.connect(self._show_link_target)
        view.linkNotOpened.connect(self._on_link_not_opened)
        # of this reply: Retry is offered on an earlier failed one too (a new branch starts there)
        view.regenerateRequested.connect(lambda: self._ask_again(view.message, c.regenerate(view.message.id)))
        view.retryRequested.connect(lambda: self._ask_again(view.message, c.retry(view.message.id)))
        view.continueRequested.connect(lambda: self._run("continue", c.continue_reply()))
        view.settingsRequested.connect(lambda: self.open_settings("connection"))  # a reply's error: key, address
        view.chooseModelRequested.connect(lambda: self._on_action(ErrorAction.CHOOSE_MODEL))
        view.branchRequested.connect(lambda mid, step: self._run("branch", c.switch_branch(mid, step)))
        if view.message.role is Role.USER:
            view.editRequested.connect(self._edit.start)
        elif view.message.parent_id is not None:
            view.editQuestionRequested.connect(lambda: self._edit.start(view.message.parent_id or 0))
        view.set_branch(*c.alternatives(view.message))

    def _shortcuts(self) -> None:
        from PySide6.QtGui import QKeySequence, QShortcut  # bound after the first paint

        bindings: list[tuple[str | QKeySequence.StandardKey, Callable[[], object]]] = [
            ("Ctrl+N", self.new_chat),
            ("Esc", self._escape),
            ("Ctrl+L", self.focus_composer),
            ("Ctrl+B", lambda: self.sidebar.setVisible(not self.sidebar.isVisible())),
            ("Ctrl+,", self.open_settings),
            ("Ctrl+K", self.focus_search),
            ("Ctrl+1", lambda: self.workspace_tabs.setCurrentIndex(0)),
            ("Ctrl+2", lambda: self.workspace_tabs.setCurrentIndex(1)),
            ("Ctrl+3", lambda: self.workspace_tabs.setCurrentIndex(2)),
            ("Ctrl+4", lambda: self.workspace_tabs.setCurrentIndex(3)),
            ("Ctrl+F", self.find_in_conversation),
            ("Ctrl+S", self._save_shown),
            ("Ctrl+Q", self.close),  # as the window's close button: what is kept at close is kept
            ("Ctrl++", lambda: self.zoom(10)),
            ("Ctrl+=", lambda: self.zoom(10)),
            ("Ctrl+-", lambda: self.zoom(-10)),
            ("Ctrl+0", lambda: self.zoom(0)),
            ("F1", self.show_help),
            ("Ctrl+/", self.show_help),
        ]
        for key, slot in bindings:
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)

    # -- intents ---------------------------------------------------------------------------------------------

    def _ask_again(self, reply: Message, asking: Coroutine[Any, Any, Any]) -> None:
        """Regenerate or Retry a reply; for an earlier one, say where the messages after it went."""
        ids = [m.id for m in self.chat.path]
        later = len(ids) - ids.index(reply.id) - 1 if reply.id in ids and not self.chat.streaming else 0
        self._run("ask again", asking)
        if later:
            self.banner.show_notice(Notice(Level.INFO, f"The new reply is another version of this one: the {later} "
                                           f"message{'s' if later != 1 else ''} that followed stay with the earlier "
                                           "version. ‹ › beside the reply switches between them."))

    def _save_shown(self) -> None:
        """Ctrl+S: Extract saves its schema, the Lab the page shown; conversations need no saving."""
        page = self.workspaces.currentWidget()
        if page is self.extract_page and self._extract is not None:
            self._extract.save_shown()
        elif page is self.lab_page and self._lab_workspace is not None:
            self._lab_workspace.save_shown()
        else:
            self.statusBar().showMessage("Conversations and what you type are saved as you go.", 4000)

    def new_chat(self, preset: str | None = None) -> None:
        """Start a new conversation (from a preset if named), shown, with the composer focused."""
        self._to_chat()
        self.chat.new_conversation(preset or None)
        self.composer.edit.setFocus()

    def focus_composer(self) -> None:
        """Ctrl+L: the composer, in view (from another workspace too: typing never goes to a hidden box)."""
        self._to_chat()
        self.composer.edit.setFocus()

    def focus_search(self) -> None:
        """Ctrl+K: the conversation search, in view (the sidebar shown if it was hidden)."""
        self._to_chat()
        self.sidebar.show()
        self.sidebar.filter.setFocus()
        self.sidebar.filter.selectAll()

    def find_in_conversation(self) -> None:
        """Ctrl+F: the find bar over the conversation shown (brought into view)."""
        self._to_chat()
        self.find_bar.open_bar(self.chat.path)

    def _to_chat(self) -> None:
        if self.workspaces.currentIndex() != 0:
            self.show_workspace(0)

    def _set_default_prompt(self, text: str) -> None:
        self.chat.set_default_system_prompt(text)
        self.statusBar().showMessage("New chats will start with this system prompt.", 4000)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept images dropped anywhere on the window."""
        if not images_in(event.mimeData()).empty:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """Attach dropped images to the draft."""
        found = images_in(event.mimeData())
        if not found.empty:
            event.acceptProposedAction()
            self.attach_wiring.attach(found)

    def zoom(self, step: int) -> None:
        """Make the conversation's text larger (+), smaller (-) or normal (0); remembered."""
        percent = 100 if step == 0 else max(50, min(300, self.endpoint.settings.text_zoom + step))
        self.endpoint.update_settings(text_zoom=percent)
        self._apply_zoom(percent)

    def _apply_zoom(self, percent: int) -> None:
        font = QApplication.font()
        font.setPointSizeF(font.pointSizeF() * percent / 100)
        self.transcript.setFont(font)
        self.composer.edit.setFont(font)
        self.statusBar().showMessage(f"Text size {percent} %", 2000)

    def follow_scheme(self) -> None:
        """Show everything in the light or dark scheme now in use (the system's changed, or the person chose
        another in Settings): palette and style sheet, every icon, and the replies shown, rendered again."""
        app = QApplication.instance()
        if isinstance(app, QApplication):
            theme.apply(app)
            for window in app.topLevelWidgets():
                icons.retint(window)
        for view in self.transcript.views.values():
            view.follow_scheme()
        if self.search_wiring is not None:
            self.search_wiring.follow_scheme()
        if self._find_bar is not None:
            self._find_bar.follow_scheme()
        if self._extract is not None:
            self._extract.follow_scheme()
        self.sidebar.results.follow_scheme()

    def bring_to_front(self) -> None:
        """Show the window in front (another start of the app asked for it)."""
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    def show_workspace(self, index: int) -> None:
        """Switch between Chat (0), Extract (1), Lab (2) and Usage (3); each keeps its state."""
        if self.workspaces.widget(index) is self.lab_page:
            self._build_lab()
        if self.workspaces.widget(index) is self._usage_placeholder:
            self._make_usage_panel()
        self.workspaces.setCurrentIndex(index)
        if self.workspace_tabs.currentIndex() != index:
            self.workspace_tabs.setCurrentIndex(index)
        if self._usage_panel is not None and self.workspaces.widget(index) is self._usage_panel:
            self._run("usage", self.usage.refresh())

    def _on_usage_period(self, period: str) -> None:
        self.usage.breakdown_period = period
        self._run("usage", self.usage.refresh())

    def _choose_export_file(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        dialog = QFileDialog(self, "Export usage as CSV", str(Path.home() / "desktop-assistant-usage.csv"),
                             "CSV files (*.csv)")
        dialog.setObjectName("export_dialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("csv")
        dialog.fileSelected.connect(lambda path: self._run("export", self.usage.export_csv(path)))
        self._export_dialog = dialog
        dialog.open()

    def _export_conversation(self, conversation_id: int, title: str) -> None:
        """Save one conversation as Markdown, a web page or JSON (that can be imported again)."""
        from PySide6.QtWidgets import QFileDialog

        name = "".join(ch if ch.isalnum() or ch in " -_" else "_" for ch in title).strip()[:60] or "conversation"
        formats = {"Markdown (*.md)": ("markdown", "md"), "Web page (*.html)": ("html", "html"),
                   "JSON, can be imported again (*.json)": ("json", "json")}
        dialog = QFileDialog(self, f"Export “{title}”", str(Path.home() / f"{name}.md"), ";;".join(formats))
        dialog.setObjectName("conversation_export_dialog")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("md")
        dialog.filterSelected.connect(lambda chosen: dialog.setDefaultSuffix(formats[chosen][1]))

        def chosen(path: str) -> None:
            by_suffix = {ext: fmt for fmt, ext in formats.values()}
            fmt = by_suffix.get(Path(path).suffix.lower().lstrip("."), formats[dialog.selectedNameFilter()][0])
            self.data.export(Path(path), fmt, [conversation_id])
        dialog.fileSelected.connect(chosen)
        self._export_dialog = dialog
        dialog.open()

    def _on_month(self, spent: int, limit: int | None, today: int = 0, daily: int | None = None) -> None:
        text = f"this month {format_usd(spent)}" + (f" of {format_usd(limit)}" if limit is not None else "")
        if daily is not None:  # the limit that may be nearer
            text += f" · today {format_usd(today)} of {format_usd(daily)}"
        self.month_label.setText(text)
        self._month = (spent, limit)
        if self._usage_panel is not None:
            self._usage_panel.show_limit(spent, limit, self.usage.limits.daily_micros)

    def show_help(self) -> None:
        """Show the keyboard shortcuts."""
        if self.help_overlay is None:
            from desktop_assistant.ui.help_overlay import HelpOverlay

            self.help_overlay = HelpOverlay(self)
        self.help_overlay.show()
        self.help_overlay.raise_()

    def open_settings(self, page: str = "") -> None:
        """Show Settings (non-modal), at ``page`` when an error's next step is there ("connection", "spending"),
        else at the tab shown last."""
        if self.settings_dialog is None:
            from desktop_assistant.ui.settings.data_tab import connect_data_tab
            from desktop_assistant.ui.settings.endpoint_form import connect_form
            from desktop_assistant.ui.settings.settings_dialog import SettingsDialog

            source = f"Built-in prices: {self.usage.prices.source}, checked {self.usage.prices.checked}."
            self.settings_dialog = SettingsDialog(source, self)
            self.settings_dialog.saveRequested.connect(self._save_settings)
            connect_form(self.settings_dialog.form, self.endpoint, self.runner.start)
            connect_data_tab(self.settings_dialog.data, self.data)
            self.settings_dialog.mcp.backend = self._mcp_backend
        self.settings_dialog.load(self.endpoint.settings, self.endpoint.key_source.value, self._keyring_problem)
        dialog = self.settings_dialog

        async def list_conversations() -> None:
            current = self.chat.conversation.id if self.chat.conversation else None
            dialog.data.set_conversations(await self.data.conversations(), current)
        self._run("list conversations for export", list_conversations())
        self.settings_dialog.show()
        self.settings_dialog.raise_()
        self.settings_dialog.activateWindow()
        self.settings_dialog.show_page(page)

    def _on_updated_by_import(self, ids: list[int]) -> None:
        """An import added to the conversation shown: show it as it is now (not while a reply arrives in it)."""
        shown = self.chat.conversation
        if shown is not None and shown.id in ids and not self.chat.streaming_here:
            self._run("show the imported messages", self.chat.open_conversation(shown.id))

    async def _reload_after_data(self) -> None:
        await self.chat.refresh_conversations()
        conversations = await self.data.conversations()
        if conversations:
            await self.chat.open_conversation(conversations[0].id)
        else:
            self.chat.new_conversation()

    def _save_settings(self, settings: Settings, key: str | None) -> None:
        if theme.set_appearance(settings.appearance):
            self.follow_scheme()

        from_environment = self.endpoint.key_source.value == "environment"

        async def save() -> None:
            await self.endpoint.save(settings, key)
            await self.usage.refresh()  # the status line and Usage show the limits just saved
            if key and from_environment and self.endpoint.key_source.value == "environment":
                typed = ("is held for this session only (no system keyring was found), so it is not used"
                         if self._keyring_problem else
                         "was saved in your keyring, and is used when the app starts without that variable")
                self.banner.show_notice(Notice(Level.INFO, "The OPENAI_API_KEY environment variable is set, so its "
                                               f"key is the one used; the key you typed {typed}."))
            self._update_page()
            await self.endpoint.refresh_models()
        self._run("save settings", save())

    def _rename_current(self, title: str) -> None:
        if self.chat.conversation is not None:
            self._run("rename", self.chat.rename(self.chat.conversation.id, title))

    def _on_model_chosen(self, model: str) -> None:
        self._forget_refusal()  # a refusal for the model before
        self._run("model", self.chat.set_model(model))
        self.estimates.draft_changed(self.composer.text)
        if self._options is not None:
            self._options.set_model(model.strip())

    def _on_options_button(self, show: bool) -> None:
        """Options opened or closed by its button: the panel, focused at its first field when it opens (Tab reached
        it only after Send)."""
        self._toggle_options(show)
        if show:
            self.options.system_prompt.setFocus()

    def _toggle_options(self, show: bool) -> None:
        if show:
            self._load_options()
        self.options.setVisible(show)

    def _load_options(self) -> None:
        """Show the options of the conversation shown (a new chat's: its preset's or the defaults)."""
        o = self.chat.options()
        self.options.load(o.system_prompt, o.temperature, o.max_output_tokens)
        self.options.set_model(self.chat.model)

    @property
    def _edit(self) -> Editing:
        assert self.editing is not None, "bound"
        return self.editing

    def draft_to_keep(self) -> str:
        """What the person is writing: the box's text, or while an earlier message is edited, the draft that
        waits meanwhile."""
        return self.editing.draft_to_keep() if self.editing is not None else self.composer.text

    def _escape(self) -> None:
        """Esc: what :attr:`escape_first` takes (a recording thrown away), else close the options panel being worked
        in, else cancel editing an earlier message, else stop the reply streaming."""
        if any(take() for take in self.escape_first):
            return
        focused = QApplication.focusWidget()
        if self._options is not None and self._options.isVisible() and focused is not None \
                and self._options.isAncestorOf(focused):
            self.header.options_button.setChecked(False)  # what was changed is applied already
            self.header.options_button.setFocus()
        elif self._edit.active:
            edit = self._edit.cancel()
            if edit is not None:
                message_id, words = edit
                self.banner.show_undo("Edit cancelled: the question is unchanged.",
                                      lambda: self._edit.resume(message_id, words))
        elif self.chat.streaming_here:  # not a reply arriving unseen in another conversation
            self.chat.stop()

    def _on_draft(self, text: str) -> None:
        self.estimates.draft_changed(text)
        if text:
            self._connect_endpoint()

    def _connect_endpoint(self) -> None:
        """The person is about to need the endpoint (writing, or looking at the models): get it ready."""
        if self.endpoint.wants_connection():
            self.runner.start("connect", self.endpoint.prepare_connection(), key="connect")

    def _on_send(self, text: str) -> None:
        if self._edit.active:
            self._edit.resend(text)
        else:
            self.banner.hide()  # an old notice is done with; warnings about this request come next
            self._run("send", self.chat.send(text))

    def _show_image(self, url: str) -> None:
        """An image of the conversation, large, in a window of its own."""
        from desktop_assistant.ui.chat.image_viewer import ImageViewer

        image = self.attachments.full_image(url)
        if image is None:
            self.statusBar().showMessage("That image is no longer stored.", 4000)
            return
        self.image_viewer = ImageViewer(image, f"Image · {image.width()} × {image.height()}", self)
        self.image_viewer.show()

    def _copy(self, text: str) -> None:
        copy_to_clipboard(text)
        self.statusBar().showMessage("Copied", 2000)

    def _show_link_target(self, address: str) -> None:
        """The status bar shows where the link under the pointer leads while it is there, as browsers do."""
        if address:
            self._link_shown = address
            self.statusBar().showMessage(address)
        elif self._link_shown and self.statusBar().currentMessage() == self._link_shown:
            self.statusBar().clearMessage()  # (not a message that replaced it meanwhile)
            self._link_shown = ""

    def _on_link_not_opened(self, address: str) -> None:
        copy_to_clipboard(address)
        opener = "a mail program" if address.lower().startswith("mailto:") else "a browser"
        self.banner.show_notice(Notice(Level.WARNING, f"Could not open {opener} for {address}: the address was "
                                       "copied to the clipboard."))

    def _on_action(self, action: ErrorAction) -> None:
        if action is ErrorAction.OPEN_SETTINGS:  # (from the banner: its notice says what it is about)
            self.open_settings("spending" if self.banner.kind is ErrorKind.SPENDING_LIMIT else "connection")
        elif action is ErrorAction.CHOOSE_MODEL:
            self.header.model_picker.setFocus()
            self.header.model_picker.showPopup()
        elif action is ErrorAction.SWITCH_TO_VISION:
            last = self.estimates.last
            text_tokens = last.prompt_tokens - sum(tokens for tokens, _cost in last.images.values()) if last else 0
            model = self.chat.vision_choice(max(text_tokens, 0))
            self._on_model_chosen(model)
            self.header.set_model(model)
        elif action in (ErrorAction.RETRY, ErrorAction.TRIM_AND_RETRY):
            self._run("retry", self.chat.retry())

    # -- showing state ---------------------------------------------------------------------------------------

    def _on_settings(self, settings: Settings) -> None:
        self._forget_refusal()  # why the last send was refused may no longer hold (a limit raised, a key set)
        if self._onboarding is not None:
            self._onboarding.load(settings, self.endpoint.key_source.value, self._keyring_problem)
        self._update_page()

    def _on_models(self, models: list[str]) -> None:
        """The endpoint's models: the picker offers them; after a switch of server, a conversation on a model the
        new one does not offer is told so before its next request fails ("model not found")."""
        model, endpoint = self.chat.model, self.endpoint.settings.endpoint
        self.header.set_models(models, model)
        if endpoint != self._models_of:
            self._models_of = endpoint
            if model and model not in models:
                self.banner.show_notice(Notice(
                    Level.WARNING, f"{self._endpoint_shown()} does not offer {model}, the model of this "
                    "conversation: choose one it offers.", ErrorAction.CHOOSE_MODEL))

    def _update_page(self) -> None:
        onboarding = self.endpoint.needs_onboarding
        self.stack.setCurrentWidget(self.onboarding if onboarding else self.chat_page)
        self.header.model_picker.setEnabled(not onboarding)
        key = self.endpoint.key_source.value
        suffix = {"keyring": " · key in keyring", "environment": " · key from environment",
                  "session": " · key for this session only"}.get(key, "")
        self.endpoint_label.setText(self._endpoint_shown() + suffix)

    def _endpoint_shown(self) -> str:
        """The endpoint as the status line names it: "OpenAI", or its URL with any password masked."""
        endpoint = self.endpoint.settings.endpoint
        return "OpenAI" if "api.openai.com" in endpoint else redact(endpoint)

    def _on_keyring_problem(self, text: str) -> None:
        self._keyring_problem = text
        if self._onboarding is not None:
            self._onboarding.show_problem(text)
            self._onboarding.form.set_key_hint(self.endpoint.key_source.value, text)
        if text == self._keyring_said:
            return  # said once is enough (it was said again at every save of Settings)
        # a banner (the status bar cut it off at its width), unless the welcome page says it already, or there is
        # no key to keep (a local server that needs none: Settings still says it, where a key would be typed)
        ep = self.endpoint
        if ep.key_source.value != "environment" and not ep.needs_onboarding and (ep.has_key or not ep.keyless):
            self._keyring_said = text
            self.banner.show_notice(Notice(Level.WARNING, text, ErrorAction.OPEN_SETTINGS
                                           if not self.endpoint.has_key else ErrorAction.NONE))

    def _forget_refusal(self, banner: bool = True) -> None:
        """Clear the reason a send was refused (unless the box shows the editing hint), and with ``banner`` a spending
        refusal or warning in the banner: it was about a request of another conversation, model or limit."""
        if self.editing is None or not self.editing.active:
            self.composer.show_refusal("")
        if banner and self.banner.kind is ErrorKind.SPENDING_LIMIT:
            self.banner.hide()

    def _on_conversation_opened(self, conversation: Conversation | None) -> None:
        # an edit in progress is left by the draft keeper, which keeps it with the conversation's draft
        shown = conversation.id if conversation is not None else None
        # another chat than the one shown (not the same one renamed, or a new chat stored by its first message)
        other = shown != self._shown_id and not (self._shown_id is None and shown == self._stored_id)
        self._shown_id = shown
        self._forget_refusal(banner=other)
        path = self.chat.path
        if other and path and path[-1].role is Role.USER and not self.chat.streaming_here:
            # the app closed (or crashed) between storing the question and the reply's first words
            self.banner.show_notice(Notice(Level.INFO, "Your last question has no reply: the app closed before it "
                                           "arrived. Retry asks it again.", ErrorAction.RETRY))
        self._show_conversation(conversation, self.chat.model)
        self.composer.set_streaming(self.chat.streaming_here)
        if self._options is not None and self._options.isVisible():
            self._toggle_options(True)
        self.estimates.draft_changed(self.composer.text)

    def _show_conversation(self, conversation: Conversation | None, model: str) -> None:
        self.header.set_title(conversation.title if conversation else "")
        self.header.set_model(model)
        self.sidebar.set_current(conversation.id if conversation else None)
        self.transcript.set_history_cut(0)

    def _offer_left_edit(self, words: str) -> None:
        """An edit left unsent when its question went out of view (another branch shown) or cannot come back: its
        words are one click from the clipboard."""
        if words:
            self.banner.show_offer("Your edit of an earlier question was not sent (the question is unchanged).",
                                   "Copy the edit", lambda: self._copy(words))

    def _on_transcript(self, path: list[Message]) -> None:
        self._offer_left_edit(self._edit.leave_if_gone())
        self._show_path(path, self.chat.alternatives)
        self.estimates.draft_changed(self.composer.text)

    def _show_path(self, path: list[Message], alternatives: Callable[[Message], tuple[int, int]]) -> None:
        self.transcript.set_messages(path)
        for view in self.transcript.views.values():
            view.set_branch(*alternatives(view.message))

    def _on_message_changed(self, message: Message) -> None:
        self.transcript.update_message(message)
        self.estimates.draft_changed(self.composer.text)

    def _on_streaming(self, streaming: bool) -> None:
        self.composer.set_streaming(self.chat.streaming_here)  # Stop only where the reply is arriving
        self.sidebar.set_replying(self.chat.streaming_in)
        if not streaming and self.composer.refusal.text().startswith("A reply is still arriving"):
            self.composer.show_refusal("")  # it has arrived (or was stopped): sending is possible again

    def _on_send_accepted(self) -> None:
        self.composer.clear()

    def _on_send_refused(self, error: UserFacingError) -> None:
        if error.kind is ErrorKind.SPENDING_LIMIT:  # the numbers and Open settings in the banner, which wraps them
            self.composer.show_refusal("Not sent: your spending limit holds it back (see above). Your draft is kept.")
            self.banner.show_notice(Notice(Level.WARNING, error.message, error.action, error.kind))
            return
        self.composer.show_refusal(error.message)
        if error.action is ErrorAction.SWITCH_TO_VISION:
            self.banner.show_notice(Notice(Level.WARNING, error.message, error.action, error.kind))
        if error.action is ErrorAction.OPEN_SETTINGS and self.endpoint.needs_onboarding:
            self._update_page()

    def _on_deleted(self, conversation_id: int, title: str) -> None:
        """Offer Undo for the conversations deleted while the offer shows (the second delete's offer replaced the
        first's, and the first conversation was purged at the next start)."""
        if not self.banner.offers(self._undo_deletes):
            self._deleted = []
        self._deleted.append(conversation_id)
        others = len(self._deleted) - 1
        more = f" and {others} other conversation{'s' if others != 1 else ''}" if others else ""
        self.banner.show_undo(f"Deleted “{title}”{more}.", self._undo_deletes)

    def _undo_deletes(self) -> None:
        deleted, self._deleted = self._deleted, []

        async def undo() -> None:
            for conversation_id in deleted:  # (the one that was shown when deleted is shown again)
                await self.chat.undo_delete(conversation_id)
        self._run("undo", undo())

    def _on_estimate(self, estimate: DraftEstimate) -> None:
        from desktop_assistant.ui.status_line import estimate_texts, image_cost_texts

        text, cost, fraction = estimate_texts(estimate)
        self.composer.token_count.setText(text)
        self.composer.cost_label.setText(cost)
        self.composer.context_gauge.setValue(int(fraction * 1000))
        self.composer.attachments.set_costs(image_cost_texts(estimate))
        self.attach_wiring.show_file_costs(estimate)

    def _on_notice(self, notice: Notice) -> None:
        if notice.action in (ErrorAction.RETRY, ErrorAction.TRIM_AND_RETRY) and not self._about_this_chat(notice):
            # the banner's Retry asks the chat again: for another feature's failure (indexing for search, a backup)
            # it regenerated the last reply, a request nobody asked for
            notice = dataclasses.replace(notice, action=ErrorAction.NONE)
        if notice.level is Level.INFO and len(notice.text) <= STATUS_CHARS:
            self.statusBar().showMessage(notice.text, 8000)
        else:
            self.banner.show_notice(notice)

    def _about_this_chat(self, notice: Notice) -> bool:
        """Whether ``notice`` is about a reply of the conversation shown (its Retry is the chat's)."""
        shown = self.chat.conversation.id if self.chat.conversation is not None else None
        return shown is not None and notice.context.get("conversation_id") == shown

    # -- window state ----------------------------------------------------------------------------------------

    def _restore_geometry(self, settings: Settings) -> None:
        if settings.window_geometry:
            self.restoreGeometry(QByteArray.fromHex(settings.window_geometry.encode()))
        if settings.splitter_state:
            self.splitter.restoreState(QByteArray.fromHex(settings.splitter_state.encode()))

    def resizeEvent(self, event: Any) -> None:
        """Let the composer grow up to a third of the window."""
        super().resizeEvent(event)
        self.composer.set_max_height(self.height() // 3)

    def closeEvent(self, event: QCloseEvent) -> None:
        """First close: save state, stop and await pending work, flush the store; then really close."""
        if not self._bound:  # asked while the first paint is under way: once the controllers are bound
            event.ignore()
            QTimer.singleShot(0, self.close)
            return
        if self.lifecycle.done:
            event.accept()
            return
        event.ignore()
        if self._close_started:
            return
        self._close_started = True
        self.endpoint.update_settings(window_geometry=bytes(self.saveGeometry().toHex().data()).decode(),
                                      splitter_state=bytes(self.splitter.saveState().toHex().data()).decode())
        self.lifecycle.closed.connect(self.close)
        import asyncio  # loaded with the event loop, after the first paint

        # not through the runner: its shutdown cancels every operation it runs
        self._shutdown_task = asyncio.get_event_loop().create_task(self.lifecycle.shutdown())
