"""The MCP server manager against real servers written with the ``mcp`` SDK (stdio subprocesses and a loopback
streamable HTTP server), on the app's qasync loop."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import qasync

from desktop_assistant.core.errors import ErrorKind, UserFacingError
from desktop_assistant.core.mcp_config import (
    McpServerConfig,
    allow_always,
    approvals_from_json,
    approvals_to_json,
    secret_account,
    servers_from_json,
    servers_to_json,
)
from desktop_assistant.core.settings import Settings
from desktop_assistant.core.tools import ImagePart, TextPart, ToolResult, result_text
from desktop_assistant.services.mcp_servers import McpServers
from desktop_assistant.services.secrets import KeySource, SecretStore
from desktop_assistant.services.settings import SettingsStore
from tests.conftest import until
from tests.mcp_servers.http_server import HEADER, HEADER_VALUE, RequireHeader, running_http_server
from tests.mcp_servers.tools import HUGE_TEXT_CHARS

SERVERS = Path(__file__).resolve().parents[1] / "mcp_servers"
SECRETS = {
    secret_account("local", "env", "DA_SECRET"): "from-the-keyring",
    secret_account("web", "header", HEADER): HEADER_VALUE,
}


async def lookup(account: str) -> str | None:
    """A stand-in for ``SecretStore.get_secret`` (the keyring itself is tested in test_secrets.py)."""
    return SECRETS.get(account)


def stdio(server_id: str = "local", script: str = "stdio_server.py", **changes: object) -> McpServerConfig:
    """A stdio server running one of the test scripts with this interpreter."""
    values: dict[str, object] = {"id": server_id, "name": f"Test {server_id}", "transport": "stdio",
                                 "command": sys.executable, "args": (str(SERVERS / script),)}
    values.update(changes)
    return McpServerConfig(**values)  # type: ignore[arg-type]


def text_of(result: ToolResult) -> str:
    return "".join(p.text for p in result.parts if isinstance(p, TextPart))


@pytest.fixture
async def servers(tmp_path: Path) -> AsyncIterator[McpServers]:
    configs = [
        stdio(env={"DA_PLAIN": "plain-value"}, secret_env=("DA_SECRET",), cwd=str(tmp_path)),
        stdio("other"),
        stdio("broken", "failing_server.py"),
        stdio("off", enabled=False),
    ]
    manager = McpServers(configs, lookup, start_timeout=20)
    yield manager
    await manager.close()


@pytest.fixture
def http_server() -> Iterator[tuple[str, RequireHeader]]:
    with running_http_server() as running:
        yield running


async def test_lists_tools_with_descriptions_and_schemas(servers: McpServers) -> None:
    assert isinstance(asyncio.get_running_loop(), qasync.QEventLoop)  # subprocesses run on the app's own loop
    tools = {t.name: t for t in await servers.list_tools("local")}
    assert {"echo", "add", "red_pixel", "hang", "explode", "huge", "die"} <= set(tools)
    add = tools["add"]
    assert add.server_id == "local"
    assert add.description == "Add two integers."
    assert add.input_schema["properties"]["a"]["type"] == "integer"
    assert add.input_schema["required"] == ["a", "b"]


async def test_single_call_returns_text(servers: McpServers) -> None:
    result = await servers.call_tool("local", "add", {"a": 2, "b": 40})
    assert text_of(result) == "42"
    assert not result.is_error
    assert text_of(await servers.call_tool("local", "echo", {"text": "héllo <b>"})) == "héllo <b>"


async def test_image_result_is_bytes_and_mime(servers: McpServers) -> None:
    result = await servers.call_tool("local", "red_pixel")
    (image,) = result.images
    assert isinstance(image, ImagePart)
    assert image.mime_type == "image/png"
    assert image.data.startswith(b"\x89PNG\r\n\x1a\n")


async def test_parallel_calls_run_at_the_same_time(servers: McpServers) -> None:
    # each call returns only once all three are in the server at once: calls made one by one would time out
    results = await asyncio.gather(*(servers.call_tool("local", "rendezvous", {"parties": 3}, timeout=15)
                                     for _ in range(3)))
    assert [text_of(r) for r in results] == ["3", "3", "3"]


async def test_parallel_calls_on_two_servers_start_each_once(servers: McpServers) -> None:
    pids = await asyncio.gather(*(servers.call_tool(server, "pid") for server in ("local", "other", "local", "other")))
    assert pids[0] == pids[2] and pids[1] == pids[3] and pids[0] != pids[1]


async def test_timeout_stops_the_call_and_the_server_stays_up(servers: McpServers) -> None:
    pid = text_of(await servers.call_tool("local", "pid"))
    with pytest.raises(UserFacingError) as caught:
        await servers.call_tool("local", "hang", timeout=0.5)
    assert caught.value.kind is ErrorKind.TIMEOUT
    assert "hang" in caught.value.message and "0.5 seconds" in caught.value.message
    await until(lambda: "hang cancelled" in servers.stderr_tail("local"))
    assert text_of(await servers.call_tool("local", "pid")) == pid


async def test_cancelling_a_call_leaves_the_server_usable(servers: McpServers) -> None:
    pid = text_of(await servers.call_tool("local", "pid"))
    task = asyncio.create_task(servers.call_tool("local", "hang"))
    await until(lambda: "hang started" in servers.stderr_tail("local"))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await until(lambda: "hang cancelled" in servers.stderr_tail("local"))  # stopped on the server's side too
    assert servers.is_running("local")
    assert text_of(await servers.call_tool("local", "echo", {"text": "still here"})) == "still here"
    assert text_of(await servers.call_tool("local", "pid")) == pid


async def test_a_tool_that_raises_is_an_error_result(servers: McpServers) -> None:
    result = await servers.call_tool("local", "explode", {"reason": "disk on fire"})
    assert result.is_error
    assert "explode" in text_of(result)
    assert result_text(result).startswith("The tool reported an error:")


async def test_bad_arguments_are_an_error_result(servers: McpServers) -> None:
    result = await servers.call_tool("local", "add", {"a": "two"})
    assert result.is_error
    assert "validation error" in text_of(result)


async def test_unknown_tool_is_refused_with_its_name(servers: McpServers) -> None:
    with pytest.raises(UserFacingError) as caught:
        await servers.call_tool("local", "format_disk")
    assert caught.value.kind is ErrorKind.BAD_INPUT
    assert "format_disk" in caught.value.message and "Test local" in caught.value.message


async def test_huge_result_is_truncated_with_a_note(servers: McpServers) -> None:
    result = await servers.call_tool("local", "huge")
    assert len(text_of(result)) == HUGE_TEXT_CHARS
    text = result_text(result, limit=10_000)
    assert text.startswith("x" * 10_000)
    assert "truncated" in text and f"{HUGE_TEXT_CHARS:,}" in text
    assert len(text) < 10_200


async def test_server_dying_mid_call_is_reported_then_restarted(servers: McpServers) -> None:
    first_pid = int(text_of(await servers.call_tool("local", "pid")))
    with pytest.raises(UserFacingError) as caught:
        await servers.call_tool("local", "die")
    assert caught.value.kind is ErrorKind.SERVER
    assert "stopped while running the tool “die”" in caught.value.message
    assert "about to exit mid-call" in caught.value.message  # its stderr tail
    assert not servers.is_running("local")
    second_pid = int(text_of(await servers.call_tool("local", "pid")))
    assert second_pid != first_pid
    assert text_of(await servers.call_tool("local", "echo", {"text": "back"})) == "back"


async def test_a_failure_s_output_is_of_its_own_call_not_earlier_ones(servers: McpServers) -> None:
    with pytest.raises(UserFacingError):
        await servers.call_tool("local", "hang", timeout=0.5)  # writes "hang started" to stderr
    await until(lambda: "hang cancelled" in servers.stderr_tail("local"))
    with pytest.raises(UserFacingError) as caught:
        await servers.call_tool("local", "die")
    assert "about to exit mid-call" in caught.value.message
    assert "hang" not in caught.value.message  # an earlier call's lines are not this failure's (nor the model's)


async def test_server_that_exited_while_idle_is_restarted_by_the_next_call(servers: McpServers) -> None:
    first_pid = text_of(await servers.call_tool("local", "pid"))
    assert text_of(await servers.call_tool("local", "exit_soon")) == "bye"
    await until(lambda: not servers.is_running("local"))
    assert text_of(await servers.call_tool("local", "pid")) != first_pid  # no error: the exit was noticed


async def test_failed_start_shows_the_stderr_tail(servers: McpServers) -> None:
    with pytest.raises(UserFacingError) as caught:
        await servers.list_tools("broken")
    error = caught.value
    assert error.kind is ErrorKind.SERVER
    assert "Test broken" in error.message and "could not be started" in error.message
    assert "fatal: config file /nowhere/server.toml not found" in error.message
    assert "noise line 0\n" not in error.message  # only the tail
    assert error.detail is not None and error.detail.endswith("not found")


async def test_a_server_that_never_answers_times_out_at_start() -> None:
    silent = McpServerConfig(id="mute", name="Mute", command=sys.executable,
                             args=("-c", "import sys, time; print('warming up', file=sys.stderr, flush=True); "
                                         "time.sleep(60)"))
    manager = McpServers([silent], start_timeout=1.5)
    try:
        with pytest.raises(UserFacingError) as caught:
            await manager.list_tools("mute")
        assert caught.value.kind is ErrorKind.TIMEOUT
        assert "did not answer within 1.5 seconds" in caught.value.message
        assert "warming up" in caught.value.message
        assert not manager.is_running("mute")
    finally:
        await manager.close()


async def test_missing_command_is_a_clear_error() -> None:
    manager = McpServers([McpServerConfig(id="ghost", name="Ghost", command="/no/such/program")])
    try:
        with pytest.raises(UserFacingError) as caught:
            await manager.list_tools("ghost")
        assert "Ghost" in caught.value.message and "/no/such/program" in caught.value.message
    finally:
        await manager.close()


async def test_a_command_typed_with_its_arguments_says_where_they_go() -> None:
    typed = McpServerConfig(id="whole", name="Whole", command="python3.99 /home/me/server.py --verbose")
    manager = McpServers([typed])
    try:
        with pytest.raises(UserFacingError) as caught:
            await manager.list_tools("whole")
        assert "“python3.99” is the command: put “/home/me/server.py --verbose” in Arguments" in caught.value.message
    finally:
        await manager.close()


async def test_environment_secret_and_working_folder(servers: McpServers, tmp_path: Path) -> None:
    assert text_of(await servers.call_tool("local", "env", {"key": "DA_PLAIN"})) == "plain-value"
    assert text_of(await servers.call_tool("local", "env", {"key": "DA_SECRET"})) == "from-the-keyring"
    assert Path(text_of(await servers.call_tool("local", "cwd"))).resolve() == tmp_path.resolve()


async def test_a_missing_secret_is_asked_for() -> None:
    manager = McpServers([stdio("nosecret", secret_env=("TOKEN",))], lookup)
    try:
        with pytest.raises(UserFacingError) as caught:
            await manager.list_tools("nosecret")
        assert caught.value.kind is ErrorKind.NO_KEY and "TOKEN" in caught.value.message
    finally:
        await manager.close()


async def test_disabled_and_unknown_servers_refuse(servers: McpServers) -> None:
    with pytest.raises(UserFacingError, match="turned off"):
        await servers.call_tool("off", "echo", {"text": "x"})
    with pytest.raises(UserFacingError, match="no tool server"):
        await servers.call_tool("nowhere", "echo", {"text": "x"})


async def test_changed_settings_restart_the_server(servers: McpServers) -> None:
    pid = text_of(await servers.call_tool("other", "pid"))
    await servers.update([*servers.configs[:1], stdio("other", env={"CHANGED": "1"})])
    assert not servers.is_running("other")
    assert text_of(await servers.call_tool("other", "env", {"key": "CHANGED"})) == "1"
    assert text_of(await servers.call_tool("other", "pid")) != pid


async def test_close_stops_every_server(servers: McpServers) -> None:
    pids = [int(text_of(await servers.call_tool(s, "pid"))) for s in ("local", "other")]
    await servers.close()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    with pytest.raises(UserFacingError, match="closing"):
        await servers.call_tool("local", "pid")


async def test_http_server_with_a_secret_header(http_server: tuple[str, RequireHeader]) -> None:
    url, guard = http_server
    manager = McpServers([McpServerConfig(id="web", name="Web tools", transport="http", url=url,
                                          headers={"X-Plain": "1"}, secret_headers=(HEADER,))], lookup)
    try:
        names = {t.name for t in await manager.list_tools("web")}
        assert {"echo", "add", "red_pixel"} <= names
        assert text_of(await manager.call_tool("web", "add", {"a": 1, "b": 2})) == "3"
        assert (await manager.call_tool("web", "red_pixel")).images[0].mime_type == "image/png"
        with pytest.raises(UserFacingError) as caught:
            await manager.call_tool("web", "hang", timeout=0.5)
        assert caught.value.kind is ErrorKind.TIMEOUT
        assert text_of(await manager.call_tool("web", "echo", {"text": "ok"})) == "ok"
        assert guard.rejected == 0
    finally:
        await manager.close()


async def test_http_server_without_its_header_fails_to_start(http_server: tuple[str, RequireHeader]) -> None:
    url, guard = http_server
    manager = McpServers([McpServerConfig(id="web2", name="Web tools", transport="http", url=url)], lookup)
    try:
        with pytest.raises(UserFacingError) as caught:
            await manager.list_tools("web2")
        assert "Web tools" in caught.value.message and "could not be started" in caught.value.message
        assert "HTTP 401" in caught.value.message and "headers" in caught.value.message
        assert guard.rejected >= 1
    finally:
        await manager.close()


async def test_nothing_listening_is_a_clear_error() -> None:
    manager = McpServers([McpServerConfig(id="void", name="Void", transport="http", url="http://127.0.0.1:9/mcp")])
    try:
        with pytest.raises(UserFacingError, match="nothing answered at that address"):
            await manager.list_tools("void")
    finally:
        await manager.close()


def test_servers_and_approvals_survive_the_settings_file(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "settings.json")
    servers = [stdio(env={"A": "1"}, secret_env=("TOKEN",)),
               McpServerConfig(id="web", name="Web", transport="http", url="https://example.com/mcp",
                               headers={"X-Plain": "1"}, secret_headers=(HEADER,))]
    approvals = allow_always([], "web", "echo")
    store.save(Settings().copy(mcp_servers=servers_to_json(servers), mcp_always_allow=approvals_to_json(approvals)))
    loaded = store.load()
    assert servers_from_json(loaded.mcp_servers) == (servers, [])
    assert approvals_from_json(loaded.mcp_always_allow) == approvals
    assert "s3cret" not in (tmp_path / "settings.json").read_text()


def test_damaged_server_entries_do_not_break_the_settings(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"mcp_servers": [{"id": "ok", "command": "run"}, 7, {"id": "BAD ID"}], "mcp_always_allow": 3}')
    loaded = SettingsStore(path).load()
    servers, problems = servers_from_json(loaded.mcp_servers)
    assert [s.id for s in servers] == ["ok"]
    assert len(problems) == 1 and "BAD ID" in problems[0]
    assert loaded.mcp_always_allow == []


@pytest.mark.keyring
@pytest.mark.skipif(not os.environ.get("DBUS_SESSION_BUS_ADDRESS") and os.environ.get("CI") != "true",
                    reason="needs a Secret Service (scripts/test.sh starts one; CI must have it)")
async def test_header_secrets_live_in_the_keyring(http_server: tuple[str, RequireHeader]) -> None:
    store = SecretStore(environ={}, service=f"desktop-assistant-test-{uuid.uuid4().hex[:8]}")
    assert await store.check_backend() is None, store.problem
    account = secret_account("kr", "header", HEADER)
    assert await store.set_secret(account, HEADER_VALUE) is KeySource.KEYRING
    url, _ = http_server
    manager = McpServers([McpServerConfig(id="kr", name="Keyring web", transport="http", url=url,
                                          secret_headers=(HEADER,))], store.get_secret)
    try:
        assert text_of(await manager.call_tool("kr", "echo", {"text": "via keyring"})) == "via keyring"
    finally:
        await manager.close()
        await store.delete_secret(account)
    assert await SecretStore(environ={}, service=store._service).get_secret(account) is None
