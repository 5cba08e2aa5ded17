"""MCP server settings: validation, JSON round trips that never hold a secret value, "always allow"."""

from __future__ import annotations

from typing import Any

import pytest

from desktop_assistant.core.mcp_config import (
    McpServerConfig,
    ToolApproval,
    allow_always,
    approvals_from_json,
    approvals_to_json,
    is_always_allowed,
    make_server_id,
    revoke,
    secret_account,
    server_from_json,
    server_to_json,
    servers_from_json,
    servers_to_json,
    validate_server,
)

STDIO = McpServerConfig(id="files", name="Files", command="npx", args=("-y", "server-files", "/home"),
                        env={"DEBUG": "1"}, secret_env=("TOKEN",), cwd="/tmp")
HTTP = McpServerConfig(id="web", name="Web", transport="http", url="https://tools.example.com/mcp",
                       headers={"X-Team": "blue"}, secret_headers=("Authorization",), enabled=False)


def test_round_trip_keeps_every_field() -> None:
    assert servers_from_json(servers_to_json([STDIO, HTTP])) == ([STDIO, HTTP], [])


def test_json_has_only_its_transport_fields() -> None:
    assert set(server_to_json(HTTP)) == {"id", "name", "transport", "enabled", "url", "headers", "secret_headers"}
    assert server_to_json(STDIO)["args"] == ["-y", "server-files", "/home"]


def test_a_secret_name_never_carries_its_value_into_the_file() -> None:
    leaky = McpServerConfig(id="web", name="Web", transport="http", url="https://x.example/mcp",
                            headers={"Authorization": "Bearer sk-live"}, secret_headers=("Authorization",))
    assert "sk-live" not in str(server_to_json(leaky))
    raw: dict[str, Any] = {**server_to_json(leaky), "headers": {"Authorization": "Bearer sk-live"}}
    assert server_from_json(raw).headers == {}
    assert secret_account("web", "header", "Authorization") == "mcp:web:header:Authorization"


@pytest.mark.parametrize(("raw", "words"), [
    ("text", "not a JSON object"),
    ({"name": "x"}, "no valid id"),
    ({"id": "Has Space"}, "no valid id"),
    ({"id": "a", "transport": "sse"}, "unknown transport"),
    ({"id": "a", "transport": "stdio"}, "Enter the command"),
    ({"id": "a", "transport": "http", "url": "ftp://x"}, "http:// or https://"),
    ({"id": "a", "transport": "http", "url": "https://x", "headers": {"Bad Header": "1"}}, "Bad Header"),
    ({"id": "a", "command": "x", "env": {"1X": "1"}}, "1X"),
])
def test_bad_entries_are_refused_with_a_reason(raw: Any, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        server_from_json(raw)


def test_a_damaged_list_keeps_the_good_entries() -> None:
    servers, problems = servers_from_json([server_to_json(STDIO), {"id": "?"}, server_to_json(STDIO), 3])
    assert servers == [STDIO]
    assert len(problems) == 3 and any("twice" in p for p in problems)
    assert servers_from_json(None) == ([], [])
    assert servers_from_json({"id": "x"})[1] == ["the MCP server list is not a JSON list"]


def test_lenient_types_fall_back_to_defaults() -> None:
    config = server_from_json({"id": "a", "command": "run", "args": ["x", 1], "env": {"A": 2, "B": "b"},
                               "enabled": "yes", "name": 5})
    assert config.args == ("x",) and config.env == {"B": "b"} and config.enabled and config.name == "a"


def test_validation_for_the_settings_form() -> None:
    assert validate_server(STDIO) == []
    assert validate_server(HTTP, [STDIO]) == []
    assert any("already uses" in p for p in validate_server(STDIO, [STDIO]))


def test_fresh_ids_are_valid_and_unique() -> None:
    assert make_server_id("GitHub Tools!") == "github-tools"
    assert make_server_id("GitHub Tools", ["github-tools"]) == "github-tools-2"
    assert make_server_id("???") == "server"
    assert validate_server(McpServerConfig(id=make_server_id("_x"), name="x", command="c")) == []


def test_always_allow_list() -> None:
    approvals = allow_always([], "web", "search")
    approvals = allow_always(approvals, "web", "search")
    approvals = allow_always(approvals, "files", "read")
    assert approvals == [ToolApproval("web", "search"), ToolApproval("files", "read")]
    assert is_always_allowed(approvals, "web", "search")
    assert not is_always_allowed(approvals, "web", "read")
    assert approvals_from_json(approvals_to_json(approvals)) == approvals
    assert revoke(approvals, "web", "search") == [ToolApproval("files", "read")]
    assert revoke(approvals, "files") == [ToolApproval("web", "search")]
    assert approvals_from_json([{"server": "a"}, "x", {"server": "a", "tool": "t"}, {"server": "a", "tool": "t"}]) == [
        ToolApproval("a", "t")]
