"""Settings, non-modal: the endpoint form with Save and Cancel."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_assistant.core.settings import Settings
from desktop_assistant.ui.screens import fitted
from desktop_assistant.ui.settings.data_tab import DataTab
from desktop_assistant.ui.settings.endpoint_form import EndpointForm
from desktop_assistant.ui.settings.mcp_form import McpForm
from desktop_assistant.ui.settings.search_form import SearchForm
from desktop_assistant.ui.settings.spending_form import SpendingForm
from desktop_assistant.ui.settings.voice_form import VoiceForm

APPEARANCE_LABELS = {"system": "As the system", "light": "Light", "dark": "Dark"}


class PageTabs(QTabWidget):
    """Tabs whose pages scroll when the dialog is shorter than they are (a small screen, large fonts): the dialog
    never needs more height than the screen has. ``widget``, ``currentWidget`` and ``setCurrentWidget`` speak of
    the pages, not of the scroll areas around them."""

    def add_page(self, page: QWidget, label: str) -> None:
        """Add ``page`` in a scroll area of its own."""
        area = QScrollArea()
        area.setObjectName("settings_page")
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setWidget(page)
        self.addTab(area, label)

    def widget(self, index: int) -> QWidget | None:
        area = super().widget(index)
        return area.widget() if isinstance(area, QScrollArea) else area

    def currentWidget(self) -> QWidget:
        page = self.widget(self.currentIndex())
        assert page is not None  # (the dialog always has its pages)
        return page

    def setCurrentWidget(self, page: QWidget) -> None:
        index = next((i for i in range(self.count()) if self.widget(i) is page), -1)
        if index >= 0:
            self.setCurrentIndex(index)


class SettingsDialog(QDialog):
    """Edits settings without blocking the window (opened with ``show()``).

    Signals:
        saveRequested(object, object): the new ``Settings`` and the key typed (None: keep the stored one).
    """

    saveRequested = Signal(object, object)

    def __init__(self, pricing_source: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settings_dialog")
        self.setWindowTitle("Settings")
        self.setModal(False)
        self.resize(680, 560)  # (made to fit the screen when shown)
        layout = QVBoxLayout(self)
        self.intro = QLabel()
        self.intro.setObjectName("settings_intro")
        self.intro.setWordWrap(True)
        self.intro.setProperty("muted", True)
        layout.addWidget(self.intro)
        self.tabs = PageTabs()
        self.tabs.setObjectName("settings_tabs")
        connection = QWidget()
        connection_layout = QVBoxLayout(connection)
        self.form = EndpointForm(connection)
        connection_layout.addWidget(self.form)
        connection_layout.addStretch(1)
        self.tabs.add_page(connection, "Connection")
        self.spending = SpendingForm(pricing_source, self)
        self.tabs.add_page(self.spending, "Spending and prices")
        self.data = DataTab(self)
        self.tabs.add_page(self.data, "Your data")
        self.voice = VoiceForm(self)
        self.tabs.add_page(self.voice, "Voice")
        self.search = SearchForm(self)
        self.tabs.add_page(self.search, "Search")
        self.mcp = McpForm(self)
        self.tabs.add_page(self.mcp, "Tools (MCP)")
        layout.addWidget(self.tabs, 1)
        bottom = QHBoxLayout()
        appearance_label = QLabel("Appearance")
        bottom.addWidget(appearance_label)
        self.appearance = QComboBox()
        self.appearance.setObjectName("appearance")
        self.appearance.setAccessibleName("Appearance")
        self.appearance.setToolTip("Light or dark: as the system is set, or always one of them")
        for value, label in APPEARANCE_LABELS.items():
            self.appearance.addItem(label, value)
        appearance_label.setBuddy(self.appearance)
        bottom.addWidget(self.appearance)
        bottom.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.setObjectName("settings_buttons")
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        bottom.addWidget(buttons)
        layout.addLayout(bottom)
        self._base = Settings()

    def showEvent(self, event: QShowEvent) -> None:
        """Never taller or wider than the screen's free area (the pages scroll instead)."""
        super().showEvent(event)
        size = fitted(self.width(), self.height(), self.screen())
        if size != self.size():
            self.resize(size)

    def show_page(self, page: str = "") -> None:
        """Show the tab an error's next step is on: "connection" (with the key field in focus) or "spending";
        else the tab shown last. The cursor goes to the page's first field (never to Cancel, where a space typed
        would close the dialog)."""
        pages = {"connection": self.tabs.widget(0), "spending": self.spending}
        widget = pages.get(page)
        if widget is not None:
            self.tabs.setCurrentWidget(widget)
        if page == "connection":
            self.form.api_key.setFocus()
            return
        first = self._first_field(self.tabs.currentWidget())
        if first is not None:
            first.setFocus()

    @staticmethod
    def _first_field(page: QWidget) -> QWidget | None:
        """The first widget of ``page`` the Tab key would stop at."""
        widget = page.nextInFocusChain()
        while widget is not None and widget is not page:
            if (page.isAncestorOf(widget) and widget.isVisibleTo(page) and widget.isEnabled()
                    and widget.focusPolicy().value & Qt.FocusPolicy.TabFocus.value):
                return widget
            widget = widget.nextInFocusChain()
        return None

    def load(self, settings: Settings, key_source: str, keyring_problem: str = "") -> None:
        """Show ``settings`` (``keyring_problem``: why no system keyring can keep a key, if so)."""
        self._base = settings
        where = ("No system keyring was found, so a key typed here (and a tool server's secret values) is kept for "
                 "this session only (never in a file): paste it again at the next start, set OPENAI_API_KEY, or "
                 "install a keyring such as GNOME Keyring or KWallet to keep it." if keyring_problem else
                 "Your API key is stored in your system keyring (never in a file).")
        self.intro.setText(f"{where} A key is kept for its base URL, so it is only ever sent to the server it was "
                           "typed for.")
        self.form.load(settings, key_source, keyring_problem)
        self.form.test_result.clear()
        self.spending.load(settings)
        self.data.load(settings)
        self.voice.load(settings)
        self.search.load(settings)
        self.mcp.load(settings, keyring_problem)
        self.appearance.setCurrentIndex(max(0, self.appearance.findData(settings.appearance)))

    def _save(self) -> None:
        problem = self.form.save_problem("Test connection did not work with this address and key. Correct them, or "
                                         "click Save again to save them anyway.")
        if problem:
            self.tabs.setCurrentIndex(0)
            self.form.say_problem(problem)
            return
        settings, key = self.form.values(self._base)
        with_spending = self.spending.values(settings)
        if with_spending is None:
            self.tabs.setCurrentWidget(self.spending)
            return
        with_tools = self.mcp.values(with_spending)
        if with_tools is None:
            self.tabs.setCurrentWidget(self.mcp)
            return
        chosen = self.search.values(self.voice.values(self.data.values(with_tools)))
        self.saveRequested.emit(chosen.copy(appearance=str(self.appearance.currentData())), key)
        self.accept()
