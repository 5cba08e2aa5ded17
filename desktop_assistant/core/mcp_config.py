"""MCP tool servers as the person configures them, and the tools they always allow; to and from settings JSON.

Pure data. A server is ``stdio`` (a command the app starts: arguments, environment, working folder) or
``http`` (a streamable HTTP URL with headers). Secret values never live here: a header (or environment
variable) named in ``secret_headers`` (``secret_env``) has its value in the keyring under
:func:`secret_account`, and the settings file keeps only its name.

The settings file holds plain JSON lists (``Settings.mcp_servers``, ``Settings.mcp_always_allow``);
:func:`servers_from_json` reads them leniently (a damaged entry is skipped with a reason, never fatal) and
:func:`servers_to_json` writes them back. :func:`validate_server` gives the messages a settings form shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

Transport = Literal["stdio", "http"]
TRANSPORTS: tuple[Transport, ...] = ("stdio", "http")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP token
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class McpServerConfig:
    """One MCP server: how to reach it, and whether it is on."""

    id: str  # stable, short, lower-case: part of function names and keyring accounts
    name: str  # shown to the person
    transport: Transport = "stdio"
    command: str = ""
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)  # plain values only
    secret_env: tuple[str, ...] = ()  # names whose values are in the keyring
    cwd: str = ""
    url: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)  # plain values only
    secret_headers: tuple[str, ...] = ()  # names whose values are in the keyring
    enabled: bool = True

    @property
    def label(self) -> str:
        """The name to show (the id when it has none)."""
        return self.name.strip() or self.id


@dataclass(frozen=True)
class ToolApproval:
    """A tool the person chose to "always allow"."""

    server_id: str
    tool: str


def secret_account(server_id: str, kind: Literal["header", "env"], name: str) -> str:
    """The keyring account that holds the secret ``name`` of server ``server_id``."""
    return f"mcp:{server_id}:{kind}:{name}"


def make_server_id(name: str, taken: Iterable[str] = ()) -> str:
    """A fresh id for a server called ``name``: lower-case letters, digits, ``_`` and ``-``, unique."""
    base = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-_")[:28] or "server"
    if not base[0].isalnum():
        base = "s" + base
    used = set(taken)
    candidate, number = base, 2
    while candidate in used:
        candidate = f"{base}-{number}"
        number += 1
    return candidate


def validate_server(config: McpServerConfig, others: Sequence[McpServerConfig] = ()) -> list[str]:
    """What is wrong with ``config`` (empty when it is fine), in words for the settings form."""
    problems: list[str] = []
    if not _ID.match(config.id):
        problems.append("The server id must be 1-32 lower-case letters, digits, '-' or '_', starting with a "
                        "letter or digit.")
    if any(o.id == config.id for o in others):
        problems.append(f"Another server already uses the id '{config.id}'.")
    if config.transport not in TRANSPORTS:
        problems.append("Choose how to reach the server: a command (stdio) or a URL (HTTP).")
    elif config.transport == "stdio":
        if not config.command.strip():
            problems.append("Enter the command that starts the server.")
        bad_env = [k for k in (*config.env, *config.secret_env) if not _ENV_NAME.match(k)]
        if bad_env:
            problems.append(f"These are not valid environment variable names: {', '.join(bad_env)}.")
    else:
        url = config.url.strip()
        if not url.lower().startswith(("http://", "https://")):
            problems.append("Enter the server's URL, starting with http:// or https://.")
        bad = [k for k in (*config.headers, *config.secret_headers) if not _HEADER_NAME.match(k)]
        if bad:
            problems.append(f"These are not valid header names: {', '.join(bad)}.")
    return problems


# --- JSON -----------------------------------------------------------------------------------------------


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _string_map(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str)}


def server_from_json(raw: Any) -> McpServerConfig:
    """One server from its settings JSON; ``ValueError`` saying why when it cannot be used."""
    if not isinstance(raw, Mapping):
        raise ValueError("a server entry is not a JSON object")
    server_id = raw.get("id")
    if not isinstance(server_id, str) or not _ID.match(server_id):
        raise ValueError(f"a server has no valid id ({server_id!r})")
    transport = raw.get("transport", "stdio")
    if transport not in TRANSPORTS:
        raise ValueError(f"server '{server_id}' has an unknown transport {transport!r}")
    name = raw.get("name")
    enabled = raw.get("enabled", True)
    config = McpServerConfig(
        id=server_id,
        name=name if isinstance(name, str) else server_id,
        transport=transport,
        command=_string(raw.get("command")),
        args=_strings(raw.get("args")),
        env=_string_map(raw.get("env")),
        secret_env=_strings(raw.get("secret_env")),
        cwd=_string(raw.get("cwd")),
        url=_string(raw.get("url")),
        headers=_string_map(raw.get("headers")),
        secret_headers=_strings(raw.get("secret_headers")),
        enabled=enabled if isinstance(enabled, bool) else True,
    )
    problems = validate_server(config)
    if problems:
        raise ValueError(f"server '{server_id}': {' '.join(problems)}")
    # a secret name must never also carry a plain value in the file
    return replace(config, env={k: v for k, v in config.env.items() if k not in config.secret_env},
                   headers={k: v for k, v in config.headers.items() if k not in config.secret_headers})


def server_to_json(config: McpServerConfig) -> dict[str, Any]:
    """``config`` as settings JSON (only the fields of its transport; secret values never)."""
    out: dict[str, Any] = {"id": config.id, "name": config.name, "transport": config.transport,
                           "enabled": config.enabled}
    if config.transport == "stdio":
        out |= {"command": config.command, "args": list(config.args),
                "env": {k: v for k, v in config.env.items() if k not in config.secret_env},
                "secret_env": list(config.secret_env), "cwd": config.cwd}
    else:
        out |= {"url": config.url,
                "headers": {k: v for k, v in config.headers.items() if k not in config.secret_headers},
                "secret_headers": list(config.secret_headers)}
    return out


def servers_from_json(raw: Any) -> tuple[list[McpServerConfig], list[str]]:
    """The usable servers in ``raw`` (a JSON list) and, for each skipped entry, why (duplicates included)."""
    if not isinstance(raw, list):
        return [], ([] if raw is None else ["the MCP server list is not a JSON list"])
    servers: list[McpServerConfig] = []
    problems: list[str] = []
    for entry in raw:
        try:
            config = server_from_json(entry)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if any(s.id == config.id for s in servers):
            problems.append(f"server '{config.id}' appears twice; the second one was skipped")
            continue
        servers.append(config)
    return servers, problems


def servers_to_json(servers: Iterable[McpServerConfig]) -> list[dict[str, Any]]:
    """The settings JSON of ``servers``."""
    return [server_to_json(s) for s in servers]


def approvals_from_json(raw: Any) -> list[ToolApproval]:
    """The "always allow" list from settings JSON (malformed and repeated entries dropped)."""
    out: list[ToolApproval] = []
    for entry in raw if isinstance(raw, list) else []:
        if isinstance(entry, Mapping) and isinstance(entry.get("server"), str) and isinstance(entry.get("tool"), str):
            approval = ToolApproval(entry["server"], entry["tool"])
            if approval not in out:
                out.append(approval)
    return out


def approvals_to_json(approvals: Iterable[ToolApproval]) -> list[dict[str, str]]:
    """The "always allow" list as settings JSON."""
    return [{"server": a.server_id, "tool": a.tool} for a in approvals]


def is_always_allowed(approvals: Iterable[ToolApproval], server_id: str, tool: str) -> bool:
    """Whether the person chose to always allow ``tool`` of ``server_id``."""
    return ToolApproval(server_id, tool) in set(approvals)


def allow_always(approvals: Sequence[ToolApproval], server_id: str, tool: str) -> list[ToolApproval]:
    """``approvals`` with ``tool`` of ``server_id`` added (once)."""
    approval = ToolApproval(server_id, tool)
    return [*approvals] if approval in approvals else [*approvals, approval]


def revoke(approvals: Sequence[ToolApproval], server_id: str, tool: str | None = None) -> list[ToolApproval]:
    """``approvals`` without ``tool`` of ``server_id`` (without every tool of the server when ``tool`` is None)."""
    return [a for a in approvals if not (a.server_id == server_id and (tool is None or a.tool == tool))]
