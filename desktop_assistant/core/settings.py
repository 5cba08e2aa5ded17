"""The person's settings as plain data (no secrets): what the settings file holds."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

OPENAI_BASE_URL = "https://api.openai.com/v1"
SCHEMA_VERSION = 1


def normalize_base_url(url: str) -> str:
    """A base URL in one canonical spelling (no trailing slash, lower-case scheme and host)."""
    url = url.strip().rstrip("/")
    if not url:
        return OPENAI_BASE_URL
    if "://" not in url:
        url = "http://" + url if url.startswith(("localhost", "127.", "[::1]")) else "https://" + url
    scheme, rest = url.split("://", 1)
    host, sep, path = rest.partition("/")
    return f"{scheme.lower()}://{host.lower()}{sep}{path}"


_HOST = re.compile(r"[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?|[0-9a-f:.]*:[0-9a-f:.]*")  # a name, or an IPv6 address


def base_url_problem(url: str) -> str:
    """Why ``url`` cannot be a base URL, in plain words ("" when it can, or is empty: then OpenAI's is used)."""
    text = url.strip()
    if not text:
        return ""
    parts = urlsplit(normalize_base_url(text))
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:  # not a number, or past 65535
        port_ok = False
    if (parts.scheme in ("http", "https") and _HOST.fullmatch(parts.hostname or "") and port_ok
            and not any(c.isspace() for c in text)):
        return ""
    return (f"“{text}” is not a web address. A base URL looks like {OPENAI_BASE_URL}, or "
            "http://localhost:11434/v1 for Ollama.")


@dataclass
class Settings:
    """Everything the person can set, except secrets."""

    version: int = SCHEMA_VERSION
    base_url: str = OPENAI_BASE_URL
    organization: str = ""
    default_model: str = "gpt-4o-mini"
    timeout_seconds: float = 60.0
    proxy_mode: str = "system"  # "system" (HTTPS_PROXY and friends), "none", or "manual" (proxy_url)
    proxy_url: str = ""
    max_retries: int = 2
    history_budget: float = 0.7
    default_max_output_tokens: int = 4096
    onboarded: bool = False
    last_conversation_id: int | None = None
    window_geometry: str = ""
    splitter_state: str = ""
    legacy_max_tokens_endpoints: list[str] = field(default_factory=list)
    keyless_endpoints: list[str] = field(default_factory=list)
    # endpoints whose key was typed while no keyring could keep it (the key is never written anywhere): the next
    # start says that it must be typed again
    session_key_endpoints: list[str] = field(default_factory=list)
    endpoint_models: list[str] = field(default_factory=list)  # the chat models last listed by ...
    endpoint_models_for: str = ""  # ... this endpoint: offered at start, before the list is asked for again
    endpoint_default_models: dict[str, str] = field(default_factory=dict)  # endpoint -> the default model there
    images_in_history: bool = True  # False: images of older turns are not sent again
    auto_titles: bool = True  # name new conversations from their first exchange (a cheap model)
    title_model: str = "gpt-4o-mini"
    reasoning_effort: str = ""  # "", minimal, low, medium, high (reasoning models only)
    default_system_prompt: str = ""
    text_zoom: int = 100  # percent, Ctrl+plus / Ctrl+minus
    appearance: str = "system"  # "system" (follow the system's light or dark scheme), "light" or "dark"
    # name -> {"system_prompt", "model", "temperature" ("" = default), "max_output_tokens" ("" = default)}
    presets: dict[str, dict[str, str]] = field(default_factory=dict)
    monthly_limit_usd: str = ""  # empty: no limit
    daily_limit_usd: str = ""
    # model -> {"input": "2.50", "cached_input": "1.25", "output": "10.00"} per 1M tokens, over pricing.json
    price_overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    auto_backup_keep: int = 7  # automatic daily backups kept in <data>/backups; 0: off
    # MCP tool servers and "always allow" choices, as JSON lists read by core/mcp_config.py (no secret values)
    mcp_servers: list[dict[str, Any]] = field(default_factory=list)
    mcp_always_allow: list[dict[str, str]] = field(default_factory=list)
    mcp_call_timeout_seconds: float = 120.0  # a tool call running longer is stopped
    tool_step_limit: int = 8  # requests one question may make while the model calls tools
    transcription_model: str = "whisper-1"  # voice input: whisper-1, gpt-4o-transcribe, gpt-4o-mini-transcribe
    speech_model: str = "tts-1"  # read aloud: tts-1 or gpt-4o-mini-tts
    speech_voice: str = "alloy"
    # search by meaning: off until the person agrees to the cost of embedding the history; then new messages
    # are embedded in the background as they arrive
    semantic_search: bool = False
    embeddings_model: str = "text-embedding-3-small"
    embeddings_dimensions: int = 512  # text-embedding-3 vectors shortened: a third of the disk, nearly the same ranking

    @property
    def endpoint(self) -> str:
        """The base URL in canonical form."""
        return normalize_base_url(self.base_url)

    def copy(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)
