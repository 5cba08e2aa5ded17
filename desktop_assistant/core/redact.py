"""Keeping keys out of sight: every message, log line or export that could carry one is masked."""

from __future__ import annotations

import re
from collections.abc import Iterable

# OpenAI keys (sk-..., sk-proj-..., sk-svcacct-...) and bearer tokens in echoed headers
_KEY_PATTERN = re.compile(r"\b(sk-[A-Za-z0-9_\-]{6,})|(Bearer\s+)([A-Za-z0-9_\-\.]{12,})")
# a password in a URL (http://user:password@host): a base URL or a proxy may carry one
_URL_PASSWORD = re.compile(r"\b([a-z][a-z0-9+.\-]*://[^/\s:@]*):[^/\s@]+@", re.IGNORECASE)


def mask_key(key: str) -> str:
    """A key as it may be shown: its start and last four characters (``sk-...abcd``)."""
    key = key.strip()
    if len(key) <= 8:
        return "…"
    head = "sk-" if key.startswith("sk-") else key[:2]
    return f"{head}...{key[-4:]}"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with the given secrets, anything shaped like an API key and passwords in URLs masked."""
    for secret in secrets:
        if secret and len(secret) >= 8:
            text = text.replace(secret, mask_key(secret))
    text = _URL_PASSWORD.sub(r"\1:…@", text)
    return _KEY_PATTERN.sub(
        lambda m: mask_key(m.group(1)) if m.group(1) else f"{m.group(2)}{mask_key(m.group(3))}", text)
