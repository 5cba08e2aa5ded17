"""The "Tools (MCP)" tab of Settings: tool servers (add, edit, remove, list their tools) and the tools always allowed.

Secret values (environment variables or headers marked secret) never go into the settings file: they are handed
to the keyring when Settings is saved (through the form's ``backend``), and the file keeps only their names.
Everything a server reports (tool names, descriptions, schemas) is shown as plain text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_assistant.core.mcp_config import (
    McpServerConfig,
    ToolApproval,
    approvals_from_json,
    approvals_to_json,
    make_server_id,
    revoke,
    secret_account,
    servers_from_json,
    servers_to_json,
    validate_server,
)
from desktop_assistant.core.settings import Settings
from desktop_assistant.ui import theme
from desktop_assistant.ui.settings.secret_mask import SecretMask


class McpBackend(Protocol):
    """What the tab needs from the running app (set by the chat window's tool wiring)."""

    def describe_tools(self, config: McpServerConfig, secrets: dict[str, str], done: Callable[[str], None]) -> None:
        """Start ``config``'s server (with ``secrets`` typed but not saved yet), list its tools and call ``done``
        with a plain-text description."""

    def store_secrets(self, secrets: dict[str, str]) -> None:
        """Keep each secret under its keyring account."""


def _pairs(text: str, separator: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        if separator in line:
            key, value = line.split(separator, 1)
            if key.strip():
                out[key.strip()] = value.strip()
    return out


def _lines(values: dict[str, str], separator: str) -> str:
    return "\n".join(f"{k}{separator}{v}" for k, v in values.items())


class McpForm(QWidget):
    """Edits the MCP servers and the "always allow" list; :meth:`values` returns None while a server is invalid."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mcp_form")
        self.backend: McpBackend | None = None  # lists tools and stores secrets (set by the window)
        self._servers: list[McpServerConfig] = []
        self._approvals: list[ToolApproval] = []
        self._secrets: dict[str, str] = {}
        self._current = -1
        outer = QVBoxLayout(self)
        intro = QLabel("Tools let the model act beyond the chat: read files, search a website, query a database. "
                       "They come from Model Context Protocol (MCP) servers: add one with Add, by the command that "
                       "starts it or its address. A conversation uses them once you turn them on in its Options, "
                       "and every call is shown to you before it runs.")
        intro.setObjectName("mcp_intro")
        intro.setWordWrap(True)
        intro.setProperty("muted", True)
        outer.addWidget(intro)
        top = QHBoxLayout()
        left = QVBoxLayout()
        self.list = QListWidget()
        self.list.setObjectName("mcp_servers")
        self.list.setAccessibleName("Tool servers")
        self.list.currentRowChanged.connect(self._select)
        left.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add")
        self.add_button.setObjectName("mcp_add_button")
        self.add_button.clicked.connect(self._add)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setObjectName("mcp_remove_button")
        self.remove_button.clicked.connect(self._remove)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        left.addLayout(buttons)
        top.addLayout(left, 1)
        self.editor = QWidget()
        form = QFormLayout(self.editor)
        self.name = QLineEdit()
        self.transport = QComboBox()
        self.transport.addItem("Command (stdio)", "stdio")
        self.transport.addItem("URL (streamable HTTP)", "http")
        self.transport.currentIndexChanged.connect(self._show_transport)
        self.enabled = QCheckBox("On")
        self.command = QLineEdit()
        self.args = QPlainTextEdit()
        self.args.setPlaceholderText("One argument per line")
        self.env = QPlainTextEdit()
        self.env.setPlaceholderText("NAME=value, one per line (kept in the settings file)")
        self.secret_env = QPlainTextEdit()
        self.secret_env.setPlaceholderText("NAME=value, one per line (values go to the keyring)")
        self.cwd = QLineEdit()
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://…/mcp")
        self.headers = QPlainTextEdit()
        self.headers.setPlaceholderText("Name: value, one per line (kept in the settings file)")
        self.secret_headers = QPlainTextEdit()
        self.secret_headers.setPlaceholderText("Name: value, one per line (values go to the keyring)")
        for widget, name in ((self.name, "mcp_name"), (self.command, "mcp_command"), (self.args, "mcp_args"),
                             (self.env, "mcp_env"), (self.secret_env, "mcp_secret_env"), (self.cwd, "mcp_cwd"),
                             (self.url, "mcp_url"), (self.headers, "mcp_headers"),
                             (self.secret_headers, "mcp_secret_headers"), (self.transport, "mcp_transport"),
                             (self.enabled, "mcp_enabled")):
            widget.setObjectName(name)
            if isinstance(widget, QPlainTextEdit):
                widget.setMaximumHeight(60)
        self._rows: dict[str, list[QWidget]] = {"stdio": [], "http": []}
        form.addRow("Name", self.name)
        form.addRow("Reached by", self.transport)
        form.addRow("", self.enabled)
        for label, widget, kind in (("Command", self.command, "stdio"), ("Arguments", self.args, "stdio"),
                                    ("Environment", self.env, "stdio"), ("Secret environment", self.secret_env,
                                                                         "stdio"),
                                    ("Working folder", self.cwd, "stdio"), ("URL", self.url, "http"),
                                    ("Headers", self.headers, "http"), ("Secret headers", self.secret_headers,
                                                                        "http")):
            caption = QLabel(label)
            form.addRow(caption, widget)
            self._rows[kind] += [caption, widget]
        bar = QColor(theme.colors().muted)
        self._masks = [SecretMask(self.secret_env.document(), "=", bar),
                       SecretMask(self.secret_headers.document(), ":", bar)]
        self.show_secrets = QCheckBox("Show the secret values")
        self.show_secrets.setObjectName("mcp_show_secrets")
        self.show_secrets.setToolTip("Secret values are drawn as bars while you type them (for a shared screen)")
        self.show_secrets.toggled.connect(self._show_secret_values)
        form.addRow("", self.show_secrets)
        self.problems = QLabel()
        self.problems.setObjectName("mcp_problems")
        self.problems.setTextFormat(Qt.TextFormat.PlainText)
        self.problems.setWordWrap(True)
        form.addRow(self.problems)
        self.show_tools_button = QPushButton("Show its tools")
        self.show_tools_button.setObjectName("mcp_show_tools_button")
        self.show_tools_button.clicked.connect(self._show_tools)
        form.addRow(self.show_tools_button)
        self.tools_text = QPlainTextEdit()
        self.tools_text.setObjectName("mcp_tools")
        self.tools_text.setReadOnly(True)
        self.tools_text.setAccessibleName("The server's tools")
        self.tools_text.setMaximumHeight(120)
        form.addRow(self.tools_text)
        top.addWidget(self.editor, 2)
        outer.addLayout(top, 1)
        outer.addWidget(QLabel("Tools you chose to always allow (they run without asking):"))
        allowed = QHBoxLayout()
        self.allowed = QListWidget()
        self.allowed.setObjectName("mcp_always_allowed")
        self.allowed.setAccessibleName("Tools always allowed")
        self.allowed.setMaximumHeight(90)
        allowed.addWidget(self.allowed, 1)
        self.revoke_button = QPushButton("Revoke")
        self.revoke_button.setObjectName("mcp_revoke_button")
        self.revoke_button.clicked.connect(self._revoke)
        allowed.addWidget(self.revoke_button, 0, Qt.AlignmentFlag.AlignTop)
        outer.addLayout(allowed)
        limits = QHBoxLayout()
        self.call_timeout = QSpinBox()
        self.call_timeout.setObjectName("mcp_call_timeout")
        self.call_timeout.setAccessibleName("Stop a tool call after this many seconds")
        self.call_timeout.setRange(5, 3600)
        self.call_timeout.setSuffix(" s")
        self.call_timeout.setToolTip("A tool call running longer is stopped, and the model is told so")
        self.step_limit = QSpinBox()
        self.step_limit.setObjectName("mcp_step_limit")
        self.step_limit.setAccessibleName("Requests one question may make while the model calls tools")
        self.step_limit.setRange(1, 50)
        self.step_limit.setToolTip("Each step is a paid request: past this many, the model is stopped there (the "
                                   "tool results are kept; send a message to let it go on)")
        limits.addWidget(QLabel("Stop a tool call after"))
        limits.addWidget(self.call_timeout)
        limits.addSpacing(16)
        limits.addWidget(QLabel("Requests per question while tools are used, at most"))
        limits.addWidget(self.step_limit)
        limits.addStretch(1)
        outer.addLayout(limits)

    # -- settings in and out ---------------------------------------------------------------------------------

    def load(self, settings: Settings, keyring_problem: str = "") -> None:
        """Show ``settings``' servers and always-allowed tools (``keyring_problem``: no system keyring keeps
        secrets, so the secret values typed here last until the app closes)."""
        where = ("kept for this session only: no system keyring" if keyring_problem else "values go to the keyring")
        self.secret_env.setPlaceholderText(f"NAME=value, one per line ({where})")
        self.secret_headers.setPlaceholderText(f"Name: value, one per line ({where})")
        self._servers = servers_from_json(settings.mcp_servers)[0]
        self._approvals = approvals_from_json(settings.mcp_always_allow)
        self._secrets = {}
        self._current = -1
        self._fill_list(0 if self._servers else -1)
        self._fill_allowed()
        self.call_timeout.setValue(round(settings.mcp_call_timeout_seconds))
        self.step_limit.setValue(settings.tool_step_limit)

    def values(self, settings: Settings) -> Settings | None:
        """``settings`` with the servers and approvals edited here; None (the problem shown) when one is invalid."""
        if not self._commit():
            return None
        if self._secrets and self.backend is not None:
            self.backend.store_secrets(dict(self._secrets))
        self._secrets = {}
        return settings.copy(mcp_servers=servers_to_json(self._servers),
                             mcp_always_allow=approvals_to_json(self._approvals),
                             mcp_call_timeout_seconds=float(self.call_timeout.value()),
                             tool_step_limit=self.step_limit.value())

    @property
    def servers(self) -> list[McpServerConfig]:
        """The servers as edited so far (the open one included once committed)."""
        return list(self._servers)

    # -- editing ---------------------------------------------------------------------------------------------

    def _fill_list(self, select: int) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for server in self._servers:
            self.list.addItem(server.label if server.enabled else f"{server.label} (off)")
        self.list.blockSignals(False)
        self._current = -1
        if 0 <= select < len(self._servers):
            self.list.setCurrentRow(select)
        else:
            self._select(-1)

    def _fill_allowed(self) -> None:
        self.allowed.clear()
        labels = {s.id: s.label for s in self._servers}
        for approval in self._approvals:
            self.allowed.addItem(f"{approval.tool} ({labels.get(approval.server_id, approval.server_id)})")

    def _select(self, row: int) -> None:
        if self._current >= 0 and row != self._current and not self._commit():
            self.list.blockSignals(True)
            self.list.setCurrentRow(self._current)  # stay on the invalid server, its problems shown
            self.list.blockSignals(False)
            return
        self._current = row
        self.editor.setEnabled(row >= 0)
        self.remove_button.setEnabled(row >= 0)
        self.tools_text.clear()
        self.problems.clear()
        self.show_secrets.setChecked(False)
        config = self._servers[row] if 0 <= row < len(self._servers) else McpServerConfig(id="", name="")
        self.name.setText(config.name)
        self.transport.setCurrentIndex(0 if config.transport == "stdio" else 1)
        self.enabled.setChecked(config.enabled)
        self.command.setText(config.command)
        self.args.setPlainText("\n".join(config.args))
        self.env.setPlainText(_lines(dict(config.env), "="))
        self.secret_env.setPlainText("\n".join(f"{k}=" for k in config.secret_env))
        self.cwd.setText(config.cwd)
        self.url.setText(config.url)
        self.headers.setPlainText(_lines(dict(config.headers), ": "))
        self.secret_headers.setPlainText("\n".join(f"{k}: " for k in config.secret_headers))
        self._show_transport()

    def _show_secret_values(self, shown: bool) -> None:
        for mask in self._masks:
            mask.show_values(shown)

    def _show_transport(self) -> None:
        kind = str(self.transport.currentData())
        for name, widgets in self._rows.items():
            for widget in widgets:
                widget.setVisible(name == kind)

    def _edited(self) -> McpServerConfig | None:
        if not 0 <= self._current < len(self._servers):
            return None
        old = self._servers[self._current]
        secret_env = _pairs(self.secret_env.toPlainText(), "=")
        secret_headers = _pairs(self.secret_headers.toPlainText(), ":")
        for name, value in secret_env.items():
            if value:  # a blank value keeps the secret already in the keyring
                self._secrets[secret_account(old.id, "env", name)] = value
        for name, value in secret_headers.items():
            if value:
                self._secrets[secret_account(old.id, "header", name)] = value
        return replace(old, name=self.name.text().strip(), transport=str(self.transport.currentData()),  # type: ignore[arg-type]
                       enabled=self.enabled.isChecked(), command=self.command.text().strip(),
                       args=tuple(a for a in self.args.toPlainText().splitlines() if a.strip()),
                       env=_pairs(self.env.toPlainText(), "="), secret_env=tuple(secret_env),
                       cwd=self.cwd.text().strip(), url=self.url.text().strip(),
                       headers=_pairs(self.headers.toPlainText(), ":"), secret_headers=tuple(secret_headers))

    def _commit(self) -> bool:
        """Keep the open server's fields; False (problems shown) when they are not usable."""
        config = self._edited()
        if config is None:
            return True
        others = [s for i, s in enumerate(self._servers) if i != self._current]
        problems = validate_server(config, others)
        self.problems.setText(" ".join(problems))
        if problems:
            return False
        self._servers[self._current] = config
        item = self.list.item(self._current)
        if item is not None:
            item.setText(config.label if config.enabled else f"{config.label} (off)")
        return True

    def _add(self) -> None:
        if not self._commit():
            return
        name = "New server"
        self._servers.append(McpServerConfig(id=make_server_id(name, [s.id for s in self._servers]), name=name))
        self._current = -1
        self._fill_list(len(self._servers) - 1)
        self.name.setFocus()

    def _remove(self) -> None:
        row = self._current
        if not 0 <= row < len(self._servers):
            return
        gone = self._servers.pop(row)
        self._approvals = revoke(self._approvals, gone.id)
        self._current = -1
        self._fill_list(min(row, len(self._servers) - 1))
        self._fill_allowed()

    def _revoke(self) -> None:
        row = self.allowed.currentRow()
        if 0 <= row < len(self._approvals):
            gone = self._approvals[row]
            self._approvals = revoke(self._approvals, gone.server_id, gone.tool)
            self._fill_allowed()

    def _show_tools(self) -> None:
        if not self._commit() or not 0 <= self._current < len(self._servers):
            return
        if self.backend is None:
            self.tools_text.setPlainText("Tools can be listed once the app is running.")
            return
        self.tools_text.setPlainText("Starting the server…")
        self.backend.describe_tools(self._servers[self._current], dict(self._secrets), self.tools_text.setPlainText)
