"""Tools in chat beyond stdio: the Settings tab (add a server, list its tools, revoke an "always allow") and a
streamable HTTP server whose header secret is kept in the keyring, not the settings file."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QLabel
from pytestqt.qtbot import QtBot

from desktop_assistant.core.mcp_config import McpServerConfig, secret_account, servers_to_json
from desktop_assistant.core.models import Role
from desktop_assistant.services.paths import AppPaths
from desktop_assistant.services.settings import SettingsStore
from tests.conftest import until
from tests.fake_openai.fixture import fake_openai  # noqa: F401
from tests.fake_openai.server import FakeOpenAI, Reply
from tests.mcp_servers.http_server import HEADER, HEADER_VALUE, running_http_server
from tests.ui.app_fixture import built_app, start
from tests.ui.test_tools_in_chat import SERVERS, ask, configure, finished, result, tools_of


async def test_settings_tab_adds_a_server_lists_its_tools_and_revokes(
        tmp_path: Path, fake_openai: FakeOpenAI, qtbot: QtBot) -> None:  # noqa: F811
    configure(tmp_path, mcp_always_allow=[{"server": "local", "tool": "echo"}, {"server": "local", "tool": "add"}])
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        parts.window.open_settings()
        dialog = parts.window.settings_dialog
        assert dialog is not None
        form = dialog.mcp
        intro = form.findChild(QLabel, "mcp_intro")
        assert intro is not None and "Model Context Protocol" in intro.text()  # the tab says what tools are
        dialog.tabs.setCurrentWidget(form)
        assert form.list.count() == 1 and form.allowed.count() == 2
        qtbot.mouseClick(form.add_button, Qt.MouseButton.LeftButton)
        form.name.setText("Second")
        form.command.setText("")
        qtbot.mouseClick(form.show_tools_button, Qt.MouseButton.LeftButton)
        assert "Enter the command" in form.problems.text()  # refused plainly, nothing started
        form.command.setText(sys.executable)
        form.args.setPlainText(str(SERVERS / "stdio_server.py"))
        form.secret_env.setPlainText("DA_SECRET=s3cret")
        qtbot.mouseClick(form.show_tools_button, Qt.MouseButton.LeftButton)
        await until(lambda: "echo: Repeat the given text back." in form.tools_text.toPlainText(), timeout=30)
        form.allowed.setCurrentRow(0)
        qtbot.mouseClick(form.revoke_button, Qt.MouseButton.LeftButton)
        assert form.allowed.count() == 1
        dialog._save()
        await until(lambda: len(parts.endpoint.settings.mcp_servers) == 2)
        second = parts.endpoint.settings.mcp_servers[1]
        assert second["name"] == "Second" and second["secret_env"] == ["DA_SECRET"]
        assert "s3cret" not in json.dumps(second)
        assert parts.endpoint.settings.mcp_always_allow == [{"server": "local", "tool": "add"}]
        # the conversation options list the new server once the saved settings are announced (after the key is
        # read again, which with a real Secret Service takes a moment)
        await until(lambda: parts.window.findChild(QCheckBox, f"tools_server_{second['id']}") is not None)


async def test_a_streamable_http_server_with_a_secret_header(tmp_path: Path, fake_openai: FakeOpenAI,  # noqa: F811
                                                             qtbot: QtBot) -> None:
    with running_http_server() as (url, _guard):
        web = McpServerConfig(id="web", name="Web tools", transport="http", url=url, secret_headers=(HEADER,))
        paths = AppPaths.under(tmp_path)
        paths.ensure()
        settings = SettingsStore(paths.settings_file)
        settings.save(settings.load().copy(mcp_servers=servers_to_json([web]),
                                           mcp_always_allow=[{"server": "web", "tool": "add"}]))
        fake_openai.enqueue(Reply(text="", tool_calls=[("add", '{"a": 20, "b": 22}')]), Reply(text="42."))
        async with built_app(tmp_path, fake_openai.base_url) as parts:
            await start(parts)
            await tools_of(parts).store_secrets({secret_account("web", "header", HEADER): HEADER_VALUE})
            conv = await parts.chat.ensure_conversation()
            await tools_of(parts).set_tools(conv, ["web"])
            await ask(parts, qtbot, fake_openai, "Add over HTTP")
            await finished(parts)
            assert [result(m)["text"] for m in parts.chat.path if m.role is Role.TOOL] == ["42"]
            assert parts.chat.path[-1].text == "42."
            assert HEADER_VALUE not in json.dumps(parts.endpoint.settings.mcp_servers)


async def test_the_tool_call_time_limit_and_the_step_limit_are_set_in_the_tools_tab(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:  # noqa: F811
    configure(tmp_path, mcp_call_timeout_seconds=120.0, tool_step_limit=8)
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        parts.window.open_settings()
        dialog = parts.window.settings_dialog
        assert dialog is not None
        form = dialog.mcp
        assert (form.call_timeout.value(), form.step_limit.value()) == (120, 8)
        form.call_timeout.setValue(30)
        form.step_limit.setValue(3)
        dialog._save()
        await until(lambda: parts.endpoint.settings.tool_step_limit == 3)
        assert parts.endpoint.settings.mcp_call_timeout_seconds == 30.0
        assert SettingsStore(AppPaths.under(tmp_path).settings_file).load().tool_step_limit == 3  # kept


def test_secret_values_are_drawn_as_bars_until_shown(qtbot: QtBot) -> None:
    from desktop_assistant.ui.settings.mcp_form import McpForm

    form = McpForm()
    qtbot.addWidget(form)
    form.secret_env.setPlainText("API_TOKEN=sk-very-secret\nPLAIN")
    form.secret_headers.setPlainText("Authorization: Bearer abc")

    def hidden(box: Any, line: int = 0) -> list[tuple[int, int]]:
        block = box.document().findBlockByNumber(line)
        return [(r.start, r.length) for r in block.layout().formats()
                if r.format.foreground().color() == r.format.background().color()]

    assert hidden(form.secret_env) == [(10, 14)]  # the value only: the name stays readable
    assert hidden(form.secret_env, 1) == []  # no value yet
    assert hidden(form.secret_headers) == [(15, 10)]
    assert form.secret_env.toPlainText() == "API_TOKEN=sk-very-secret\nPLAIN"  # the text itself is unchanged
    form.show_secrets.setChecked(True)
    assert hidden(form.secret_env) == [] and hidden(form.secret_headers) == []
    form.show_secrets.setChecked(False)
    assert hidden(form.secret_env) == [(10, 14)]
