"""Tools in chat, end to end: the real app, a real stdio MCP server (tests/mcp_servers) and the loopback OpenAI
server scripting ``tool_calls``. Every request body is checked against OpenAI's spec by the fake server."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox
from pytestqt.qtbot import QtBot

from desktop_assistant.app import AppParts
from desktop_assistant.controllers.tools import DENIED, NOT_RUN, STOPPED, ToolLoop
from desktop_assistant.core.mcp_config import McpServerConfig, servers_to_json
from desktop_assistant.core.models import Message, Role, Status
from desktop_assistant.core.tokens import estimate_tool_definitions
from desktop_assistant.services.paths import AppPaths
from desktop_assistant.services.settings import SettingsStore
from desktop_assistant.ui.chat.approval_card import ApprovalCard
from desktop_assistant.ui.chat.tool_block import ToolBlock
from tests.conftest import until
from tests.fake_openai.fixture import fake_openai  # noqa: F401
from tests.fake_openai.server import FakeOpenAI, Reply
from tests.ui.app_fixture import built_app, start

SERVERS = Path(__file__).resolve().parents[1] / "mcp_servers"
LOCAL = McpServerConfig(id="local", name="Test tools", transport="stdio", command=sys.executable,
                        args=(str(SERVERS / "stdio_server.py"),))


def configure(root: Path, **changes: Any) -> None:
    """Settings with the test MCP server configured (before the app is built)."""
    paths = AppPaths.under(root)
    paths.ensure()
    store = SettingsStore(paths.settings_file)
    store.save(store.load().copy(mcp_servers=servers_to_json([LOCAL]), **changes))


def tools_of(parts: AppParts) -> ToolLoop:
    assert parts.chat.tools is not None
    return parts.chat.tools


async def enable_tools(parts: AppParts) -> None:
    conv = await parts.chat.ensure_conversation()
    await tools_of(parts).set_tools(conv, ["local"])


async def ask(parts: AppParts, qtbot: QtBot, fake: FakeOpenAI, text: str) -> None:
    """Type and send ``text``; returns once its first request reached the server (the reply is streaming)."""
    before = len(chat_bodies(fake))
    composer = parts.window.composer
    qtbot.keyClicks(composer.edit, text)
    qtbot.keyClick(composer.edit, Qt.Key.Key_Return)
    await until(lambda: len(chat_bodies(fake)) > before, timeout=20)


async def approve(parts: AppParts, choice: str = "once") -> str:
    """Answer the next approval; returns the function name it was for."""
    loop = tools_of(parts)
    await until(lambda: bool(loop.pending), timeout=20)
    pending = loop.pending[0]
    loop.answer(pending.call_id, choice)  # type: ignore[arg-type]
    return pending.function


async def finished(parts: AppParts) -> None:
    await until(lambda: not parts.chat.streaming, timeout=30)


def roles(path: list[Message]) -> list[str]:
    return [m.role.value for m in path]


def result(message: Message) -> dict[str, Any]:
    return next(p for p in message.parts if p.get("type") == "tool_result")


def chat_bodies(fake: FakeOpenAI) -> list[dict[str, Any]]:
    return [r.json for r in fake.requests if r.path.endswith("/chat/completions") and r.json is not None]


async def test_single_call_runs_after_approval_and_answer_follows(
        tmp_path: Path, fake_openai: FakeOpenAI, qtbot: QtBot) -> None:  # noqa: F811
    configure(tmp_path)
    fake_openai.enqueue(Reply(text="", tool_calls=[("echo", json.dumps({"text": "hello tools"}))]),
                        Reply(text="The tool said hello tools."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await enable_tools(parts)
        await ask(parts, qtbot, fake_openai, "Use the echo tool")
        assert await approve(parts) == "echo"
        await finished(parts)
        path = parts.chat.path
        assert roles(path) == ["user", "assistant", "tool", "assistant"]
        assert result(path[2])["text"] == "hello tools" and not result(path[2])["error"]
        assert path[-1].text == "The tool said hello tools." and path[-1].status is Status.COMPLETE
        first, second = chat_bodies(fake_openai)
        assert [t["function"]["name"] for t in first["tools"]][:2] == ["echo", "add"]
        call = second["messages"][-2]
        assert call["role"] == "assistant" and call["content"] is None
        assert call["tool_calls"][0]["function"] == {"name": "echo", "arguments": '{"text": "hello tools"}'}
        assert second["messages"][-1] == {"role": "tool", "tool_call_id": call["tool_calls"][0]["id"],
                                          "content": "hello tools"}
        conv = parts.chat.conversation
        assert conv is not None
        ledger = await parts.store.ledger(conv.id)
        assert [e.feature for e in ledger] == ["tools", "tools"]


async def test_parallel_calls_run_concurrently(tmp_path: Path, fake_openai: FakeOpenAI,  # noqa: F811
                                               qtbot: QtBot) -> None:
    configure(tmp_path)
    calls = [("rendezvous", '{"parties": 2}'), ("rendezvous", '{"parties": 2}')]
    fake_openai.enqueue(Reply(text="Both at once.", tool_calls=calls), Reply(text="They met."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await enable_tools(parts)
        await ask(parts, qtbot, fake_openai, "Meet")
        await approve(parts)
        await approve(parts)
        await finished(parts)  # the tool returns only when both calls run at the same time
        path = parts.chat.path
        assert roles(path) == ["user", "assistant", "tool", "tool", "assistant"]
        assert path[1].text == "Both at once."
        assert [result(m)["text"] for m in path[2:4]] == ["2", "2"]
        ids = [p["id"] for p in path[1].parts if p["type"] == "tool_call"]
        assert [result(m)["tool_call_id"] for m in path[2:4]] == ids


async def test_chain_of_two_steps_then_restart_reloads_and_resends(
        tmp_path: Path, fake_openai: FakeOpenAI, qtbot: QtBot) -> None:  # noqa: F811
    configure(tmp_path, mcp_always_allow=[{"server": "local", "tool": "add"}])
    fake_openai.enqueue(Reply(text="", tool_calls=[("add", '{"a": 2, "b": 3}')]),
                        Reply(text="", tool_calls=[("add", '{"a": 5, "b": 10}')]),
                        Reply(text="2 + 3 + 10 = 15"))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await enable_tools(parts)
        await ask(parts, qtbot, fake_openai, "Add 2, 3 and 10")
        await finished(parts)  # "add" is always allowed: no approval asked
        assert not tools_of(parts).pending
        assert roles(parts.chat.path) == ["user", "assistant", "tool", "assistant", "tool", "assistant"]
        assert [result(m)["text"] for m in parts.chat.path if m.role is Role.TOOL] == ["5", "15"]
        await parts.lifecycle.shutdown()
    fake_openai.enqueue(Reply(text="Yes."))
    async with built_app(tmp_path, fake_openai.base_url) as again:
        await start(again)
        assert roles(again.chat.path) == ["user", "assistant", "tool", "assistant", "tool", "assistant"]
        assert again.chat.conversation is not None and again.chat.conversation.tools == ["local"]
        await ask(again, qtbot, fake_openai, "Sure?")
        await finished(again)
        sent = chat_bodies(fake_openai)[-1]["messages"]
        assert [m["role"] for m in sent] == ["user", "assistant", "tool", "assistant", "tool", "assistant", "user"]
        assert sent[2]["content"] == "5" and sent[4]["content"] == "15"


async def test_denied_call_goes_back_as_a_refusal(tmp_path: Path, fake_openai: FakeOpenAI,  # noqa: F811
                                                  qtbot: QtBot) -> None:
    configure(tmp_path)
    fake_openai.enqueue(Reply(text="", tool_calls=[("echo", '{"text": "no"}')]), Reply(text="Understood."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await enable_tools(parts)
        await ask(parts, qtbot, fake_openai, "Echo please")
        await approve(parts, "deny")
        await finished(parts)
        tool = parts.chat.path[2]
        assert result(tool)["denied"] and result(tool)["text"] == DENIED
        assert chat_bodies(fake_openai)[-1]["messages"][-1]["content"] == DENIED


async def test_faults_go_back_to_the_model(tmp_path: Path, fake_openai: FakeOpenAI,  # noqa: F811
                                           qtbot: QtBot) -> None:
    """A tool that raises, malformed arguments and an unknown tool, in one parallel step."""
    configure(tmp_path)
    fake_openai.enqueue(Reply(text="", tool_calls=[("explode", '{"reason": "disk full"}'),
                                                   ("echo", '{"text": "unterminated'),
                                                   ("teleport", "{}")]),
                        Reply(text="Everything failed."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await enable_tools(parts)
        await ask(parts, qtbot, fake_openai, "Try things")
        assert await approve(parts) == "explode"  # only the call that can run is asked about
        await finished(parts)
        results = [result(m) for m in parts.chat.path if m.role is Role.TOOL]
        assert all(r["error"] for r in results)
        assert "explode" in results[0]["text"]
        assert "not valid JSON" in results[1]["text"]
        assert "no tool named 'teleport'" in results[2]["text"] and "echo" in results[2]["text"]
        assert parts.chat.path[-1].text == "Everything failed."


async def test_stop_during_a_hanging_call_keeps_everything(tmp_path: Path, fake_openai: FakeOpenAI,  # noqa: F811
                                                           qtbot: QtBot) -> None:
    configure(tmp_path, mcp_always_allow=[{"server": "local", "tool": "hang"}])
    fake_openai.enqueue(Reply(text="Waiting for it.", tool_calls=[("hang", "{}")]), Reply(text="Fine."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await enable_tools(parts)
        await ask(parts, qtbot, fake_openai, "Hang")
        await until(lambda: "hang started" in tools_of(parts).servers.stderr_tail("local"), timeout=20)
        assert parts.chat.streaming
        activity = parts.window.composer.thinking  # what runs, while nothing else on screen moves
        assert activity.isVisibleTo(parts.window) and activity.text().startswith("Running “hang” of Test tools…")
        await until(lambda: activity.text().endswith(" s"))  # and for how long
        qtbot.keyClick(parts.window.composer.edit, Qt.Key.Key_Escape)
        await finished(parts)
        await until(lambda: not activity.isVisibleTo(parts.window))
        path = parts.chat.path
        assert roles(path) == ["user", "assistant", "tool"]
        assert path[1].text == "Waiting for it." and result(path[2])["text"] == STOPPED
        assert path[2].status is Status.STOPPED
        await until(lambda: "hang cancelled" in tools_of(parts).servers.stderr_tail("local"))
        await ask(parts, qtbot, fake_openai, "Never mind")  # the history with the stopped call is valid for the API
        await finished(parts)
        assert parts.chat.path[-1].text == "Fine.", (parts.chat.path[-1].error, fake_openai.violations)
        assert chat_bodies(fake_openai)[-1]["messages"][2]["content"] == STOPPED


async def test_step_limit_stops_the_loop_with_a_clear_message(tmp_path: Path, fake_openai: FakeOpenAI,  # noqa: F811
                                                             qtbot: QtBot) -> None:
    configure(tmp_path, tool_step_limit=2, mcp_always_allow=[{"server": "local", "tool": "echo"}])
    fake_openai.enqueue(*[Reply(text="", tool_calls=[("echo", json.dumps({"text": f"step {n}"}))])
                          for n in range(3)])
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await enable_tools(parts)
        await ask(parts, qtbot, fake_openai, "Loop forever")
        await finished(parts)
        path = parts.chat.path
        assert roles(path) == ["user", "assistant", "tool", "assistant", "tool"]
        assert len(chat_bodies(fake_openai)) == 2
        assert path[3].error is not None and "step limit" in path[3].error


async def test_through_the_window_picker_card_blocks_and_an_image(
        tmp_path: Path, fake_openai: FakeOpenAI, qtbot: QtBot) -> None:  # noqa: F811
    """Tools enabled with the Options panel's check box, approved with the inline card; calls and results are
    collapsible plain-text blocks; an image result is shown and sent to a vision model after the results."""
    configure(tmp_path)
    fake_openai.enqueue(Reply(text="", tool_calls=[("red_pixel", "{}"), ("echo", '{"text": "<b>not bold</b>"}')]),
                        Reply(text="A red pixel."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        window = parts.window
        box = window.findChild(QCheckBox, "tools_server_local")
        assert box is not None
        await until(lambda: parts.estimates.last is not None)
        before = parts.estimates.last
        assert before is not None
        box.setChecked(True)
        await until(lambda: parts.chat.conversation is not None and parts.chat.conversation.tools == ["local"])
        # the definitions of the tools ticked are counted before the first request (they were only after it)
        await until(lambda: parts.estimates.last is not None
                    and parts.estimates.last.prompt_tokens > before.prompt_tokens + 20, timeout=20)
        # the new chat stored by the tick: its box stays ticked, as its tools are on (it was shown unticked)
        box = window.findChild(QCheckBox, "tools_server_local")
        assert box is not None
        await until(box.isChecked)
        await ask(parts, qtbot, fake_openai, "Show me a pixel")
        # the chat stored by the tick ("New chat") is named after its first question, in the header too
        await until(lambda: window.header.title.text() == "Show me a pixel")
        card = window.findChild(ApprovalCard, "tool_approval")
        assert card is not None
        await until(lambda: card.isVisible(), timeout=20)
        assert "red_pixel" in card.title.text() and "Test tools" in card.title.text()
        assert not parts.chat._thinking_timer.isActive()  # waiting for the person is not the model thinking
        # a reply that only calls tools offers nothing to copy or read aloud
        call_view = window.transcript.views[parts.chat.path[1].id]
        assert call_view.read_aloud_button.isHidden() and call_view.copy_button.isHidden()
        qtbot.mouseClick(card.allow_button, Qt.MouseButton.LeftButton)
        await until(lambda: card.isVisible() and card.current is not None and card.current.tool == "echo")
        assert '"text": "<b>not bold</b>"' in card.arguments.toPlainText()
        qtbot.mouseClick(card.always_button, Qt.MouseButton.LeftButton)
        await finished(parts)
        assert not card.isVisible()
        assert parts.endpoint.settings.mcp_always_allow == [{"server": "local", "tool": "echo"}]
        path = parts.chat.path
        assert roles(path) == ["user", "assistant", "tool", "tool", "assistant"]
        assert any(p.get("type") == "image_url" for p in path[2].parts)
        call_view = window.transcript.views[path[1].id]
        call_blocks = call_view.findChildren(ToolBlock)
        assert [b.summary.split("  ")[0] for b in call_blocks] == ["Tool call: red_pixel on Test tools",
                                                                  "Tool call: echo on Test tools"]
        image_block = window.transcript.views[path[2].id].findChild(ToolBlock)
        assert image_block is not None and len(image_block.images) == 1
        echo_block = window.transcript.views[path[3].id].findChild(ToolBlock)
        assert echo_block is not None and not echo_block.details.isVisible()
        qtbot.mouseClick(echo_block.toggle, Qt.MouseButton.LeftButton)
        assert echo_block.details.isVisible() and echo_block.details.toPlainText() == "<b>not bold</b>"
        sent = chat_bodies(fake_openai)[-1]["messages"]
        assert [m["role"] for m in sent] == ["user", "assistant", "tool", "tool", "user"]
        images = sent[-1]["content"]
        assert images[0] == {"type": "text", "text": "Image returned by the tool red_pixel:"}
        assert images[1]["image_url"]["url"].startswith("data:image/")


async def test_server_death_huge_result_and_timeout_are_reported_to_the_model(
        tmp_path: Path, fake_openai: FakeOpenAI, qtbot: QtBot) -> None:  # noqa: F811
    allow = [{"server": "local", "tool": t} for t in ("die", "huge", "hang", "pid")]
    configure(tmp_path, mcp_always_allow=allow, mcp_call_timeout_seconds=1.0)
    fake_openai.enqueue(Reply(text="", tool_calls=[("die", "{}")]),
                        Reply(text="", tool_calls=[("huge", "{}"), ("hang", "{}")]),
                        Reply(text="", tool_calls=[("pid", "{}")]),
                        Reply(text="Done."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await enable_tools(parts)
        progress: list[tuple[int, list[dict[str, Any]]]] = []
        tools_of(parts).callsProgress.connect(lambda mid, calls: progress.append((mid, calls)))
        await ask(parts, qtbot, fake_openai, "Break things")
        await finished(parts)
        results = [result(m) for m in parts.chat.path if m.role is Role.TOOL]
        assert len(results) == 4 and parts.chat.path[-1].text == "Done."
        died, huge, hung, pid = results
        assert died["error"] and "stopped while" in died["text"] and "about to exit mid-call" in died["text"]
        assert not huge["error"] and "truncated" in huge["text"] and len(huge["text"]) < 25_000
        assert hung["error"] and "did not finish within 1 second" in hung["text"]
        assert not pid["error"] and pid["text"].isdigit()  # the server was started again for the next call
        # the arguments were shown while they streamed in
        assert progress and progress[0][1][0]["name"] == "die"


async def test_a_server_that_cannot_start_fails_the_reply_with_its_stderr(
        tmp_path: Path, fake_openai: FakeOpenAI, qtbot: QtBot) -> None:  # noqa: F811
    broken = McpServerConfig(id="local", name="Broken", transport="stdio", command=sys.executable,
                             args=(str(SERVERS / "failing_server.py"),))
    paths = AppPaths.under(tmp_path)
    paths.ensure()
    settings = SettingsStore(paths.settings_file)
    settings.save(settings.load().copy(mcp_servers=servers_to_json([broken])))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await enable_tools(parts)
        composer = parts.window.composer
        qtbot.keyClicks(composer.edit, "Hello")
        qtbot.keyClick(composer.edit, Qt.Key.Key_Return)
        await until(lambda: bool(parts.chat.path) and parts.chat.path[-1].role is Role.ASSISTANT, timeout=30)
        await finished(parts)
        reply = parts.chat.path[-1]
        assert reply.status is Status.ERROR and reply.error is not None
        assert "server.toml not found" in reply.error
        assert chat_bodies(fake_openai) == []  # nothing was sent without the tools it was meant to have


async def test_stop_while_approval_is_asked(tmp_path: Path, fake_openai: FakeOpenAI,  # noqa: F811
                                            qtbot: QtBot) -> None:
    configure(tmp_path)
    fake_openai.enqueue(Reply(text="", tool_calls=[("echo", '{"text": "a"}'), ("add", '{"a": 1, "b": 2}')]))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await enable_tools(parts)
        await ask(parts, qtbot, fake_openai, "Two things")
        card = parts.window.findChild(ApprovalCard, "tool_approval")
        assert card is not None
        await until(lambda: card.isVisible(), timeout=20)
        assert card.queue_label.text() == "1 more waiting"  # the reply's second call, asked next
        qtbot.keyClick(parts.window.composer.edit, Qt.Key.Key_Escape)
        await finished(parts)
        assert not card.isVisible() and not tools_of(parts).pending
        # neither ran: they say so (they read "stopped before it finished")
        assert [result(m)["text"] for m in parts.chat.path if m.role is Role.TOOL] == [NOT_RUN, NOT_RUN]


async def test_each_step_is_checked_against_the_spending_limit(tmp_path: Path, fake_openai: FakeOpenAI,  # noqa: F811
                                                              qtbot: QtBot) -> None:
    configure(tmp_path, monthly_limit_usd="1", mcp_always_allow=[{"server": "local", "tool": "echo"}])
    expensive = {"prompt_tokens": 10_000_000, "completion_tokens": 5, "total_tokens": 10_000_005}
    fake_openai.enqueue(Reply(text="", tool_calls=[("echo", '{"text": "a"}')], usage=expensive))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await enable_tools(parts)
        await ask(parts, qtbot, fake_openai, "Costly")
        await finished(parts)
        path = parts.chat.path
        assert roles(path) == ["user", "assistant", "tool", "assistant"]
        assert path[-1].status is Status.ERROR and "monthly limit" in (path[-1].error or "")
        assert len(chat_bodies(fake_openai)) == 1  # the second step was not sent
        conv = parts.chat.conversation
        assert conv is not None
        assert [e.feature for e in await parts.store.ledger(conv.id)] == ["tools"]


async def test_opening_another_chat_during_a_call_stores_the_result_and_stops_there(
        tmp_path: Path, fake_openai: FakeOpenAI, qtbot: QtBot) -> None:  # noqa: F811
    configure(tmp_path, mcp_call_timeout_seconds=1.0, mcp_always_allow=[{"server": "local", "tool": "hang"}])
    fake_openai.enqueue(Reply(text="", tool_calls=[("hang", "{}")]), Reply(text="Not for this chat."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await enable_tools(parts)
        await ask(parts, qtbot, fake_openai, "Hang")
        conv = parts.chat.conversation
        assert conv is not None
        await until(lambda: "hang started" in tools_of(parts).servers.stderr_tail("local"), timeout=20)
        parts.chat.new_conversation()
        await finished(parts)
        assert parts.chat.path == [] and len(chat_bodies(fake_openai)) == 1
        stored = await parts.store.messages(conv.id)
        assert [m.role for m in stored] == [Role.USER, Role.ASSISTANT, Role.TOOL]
        assert "did not finish" in result(stored[2])["text"]


async def test_the_estimate_and_gauge_count_the_tool_definitions(tmp_path: Path, fake_openai: FakeOpenAI,  # noqa: F811
                                                                 qtbot: QtBot) -> None:
    configure(tmp_path)
    fake_openai.enqueue(Reply(text="", tool_calls=[("add", '{"a": 1, "b": 2}')]), Reply(text="3."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await enable_tools(parts)
        before = await parts.estimates.compute()
        assert not before.exact  # tools are on: their definitions are not listed yet, so this is an estimate
        await ask(parts, qtbot, fake_openai, "add 1 and 2")
        await approve(parts)
        await finished(parts)
        definitions = chat_bodies(fake_openai)[0]["tools"]
        with_tools = await parts.estimates.compute()
        await tools_of(parts).set_tools(parts.chat.conversation, [])  # type: ignore[arg-type]
        without = await parts.estimates.compute()
        assert not with_tools.exact
        extra = estimate_tool_definitions(definitions, parts.chat.model, merged_into_system=False).tokens
        assert extra > 0 and with_tools.prompt_tokens == without.prompt_tokens + extra
