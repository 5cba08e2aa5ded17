"""Where requests go and how: the one value the gateway is built from (its own module: the window's first
paint needs it, the gateway's module not yet)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Endpoint:
    """Where requests go and how."""

    base_url: str
    api_key: str | None
    organization: str = ""
    timeout: float = 60.0
    max_retries: int = 2
    legacy_max_tokens: bool = False
    proxy_mode: str = "system"  # system: the environment's proxy variables; none; manual: proxy_url
    proxy_url: str = ""

    @property
    def is_local(self) -> bool:
        """A server on this machine (often keyless)."""
        host = self.base_url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
        return host in {"localhost", "127.0.0.1", "[::1]", "0.0.0.0"}
