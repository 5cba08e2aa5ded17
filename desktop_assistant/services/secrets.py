"""The API key: in the OS keyring, per endpoint, never in a file.

- A key is stored under the canonical base URL it was typed for, so it is never sent to another endpoint.
- ``OPENAI_API_KEY`` belongs to ``OPENAI_BASE_URL`` when that is set, else to api.openai.com; it wins for the
  session it is set in and is never written anywhere.
- Only OS stores are accepted (Secret Service, KWallet, macOS Keychain, Windows Credential Locker). With none
  (or only a plaintext one) the key is held in memory for this session, and :attr:`problem` says so.
- Every keyring call runs on a worker thread: an unlock prompt must never block the window.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from desktop_assistant.core.settings import OPENAI_BASE_URL, normalize_base_url

log = logging.getLogger(__name__)

T = TypeVar("T")

SERVICE = "desktop-assistant"
_OS_STORES = ("keyring.backends.SecretService", "keyring.backends.libsecret", "keyring.backends.kwallet",
              "keyring.backends.macOS", "keyring.backends.Windows")



async def _in_thread(fn: Callable[..., T], *args: Any) -> T:
    """``asyncio.to_thread``: a keyring call can block on an unlock prompt."""
    import asyncio  # running, so loaded: not imported before the first paint

    return await asyncio.to_thread(fn, *args)

class KeySource(StrEnum):
    """Where the key in use comes from."""

    KEYRING = "keyring"
    ENVIRONMENT = "environment"
    SESSION = "session"
    NONE = "none"


@dataclass(frozen=True)
class KeyInfo:
    """The key for one endpoint and where it came from."""

    key: str | None
    source: KeySource


def _is_os_store(backend: Any) -> bool:
    module = type(backend).__module__
    if module == "keyring.backends.chainer":
        return any(_is_os_store(b) for b in getattr(backend, "backends", []))
    return module.startswith(_OS_STORES)


class SecretStore:
    """Reads and writes API keys per endpoint.

    Args:
        environ: the process environment (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``).
        service: the keyring service name.
    """

    def __init__(self, environ: Mapping[str, str] | None = None, service: str = SERVICE) -> None:
        self._environ = os.environ if environ is None else environ
        self._service = service
        self._session: dict[str, str] = {}
        self._backend_checked = False
        self._backend: Any = None
        self.problem: str | None = None

    # -- environment ----------------------------------------------------------------------------------------

    @property
    def env_endpoint(self) -> str | None:
        """The endpoint ``OPENAI_API_KEY`` belongs to, if that variable is set."""
        if not self._environ.get("OPENAI_API_KEY"):
            return None
        return normalize_base_url(self._environ.get("OPENAI_BASE_URL") or OPENAI_BASE_URL)

    @property
    def env_base_url(self) -> str | None:
        """``OPENAI_BASE_URL`` when set (it suggests the endpoint to use)."""
        value = self._environ.get("OPENAI_BASE_URL")
        return normalize_base_url(value) if value else None

    # -- keyring (worker thread) ----------------------------------------------------------------------------

    def _keyring(self) -> Any:
        if not self._backend_checked:
            self._backend_checked = True
            try:
                import keyring

                backend = keyring.get_keyring()
            except Exception as exc:  # a broken backend must not stop the app
                log.warning("keyring unavailable: %s", exc)
                backend = None
            if backend is not None and _is_os_store(backend):
                self._backend = backend
            else:
                self.problem = (
                    "No system keyring was found (such as GNOME Keyring, KWallet, macOS Keychain or Windows "
                    "Credential Manager), so your API key is kept only until you close the app."
                )
        return self._backend

    def _get(self, endpoint: str) -> str | None:
        backend = self._keyring()
        if backend is None:
            return None
        try:
            value = backend.get_password(self._service, endpoint)
        except Exception as exc:
            log.warning("reading the keyring failed: %s", exc)
            self.problem = f"The system keyring could not be read ({type(exc).__name__})."
            return None
        return str(value) if value else None

    def _set(self, endpoint: str, key: str) -> bool:
        backend = self._keyring()
        if backend is None:
            return False
        try:
            backend.set_password(self._service, endpoint, key)
        except Exception as exc:
            log.warning("writing the keyring failed: %s", exc)
            self.problem = (f"The system keyring refused the key ({type(exc).__name__}); it is kept only until "
                            "you close the app.")
            return False
        return True

    def _delete(self, endpoint: str) -> None:
        backend = self._keyring()
        if backend is None:
            return
        try:
            backend.delete_password(self._service, endpoint)
        except Exception as exc:  # PasswordDeleteError when absent
            log.info("nothing deleted from the keyring: %s", exc)

    # -- public ---------------------------------------------------------------------------------------------

    async def check_backend(self) -> str | None:
        """Find the keyring backend (off the UI thread); returns the problem to show, if any."""
        await _in_thread(self._keyring)
        return self.problem

    async def get_key(self, base_url: str) -> KeyInfo:
        """The key to use for ``base_url``: the environment's, else the keyring's, else this session's."""
        endpoint = normalize_base_url(base_url)
        if self.env_endpoint == endpoint:
            return KeyInfo(self._environ["OPENAI_API_KEY"], KeySource.ENVIRONMENT)
        stored = await _in_thread(self._get, endpoint)
        if stored:
            return KeyInfo(stored, KeySource.KEYRING)
        if endpoint in self._session:
            return KeyInfo(self._session[endpoint], KeySource.SESSION)
        return KeyInfo(None, KeySource.NONE)

    async def set_key(self, base_url: str, key: str) -> KeySource:
        """Keep ``key`` for ``base_url``: in the keyring if there is one, else for this session only."""
        endpoint = normalize_base_url(base_url)
        key = key.strip()
        if not key:
            await self.delete_key(endpoint)
            return KeySource.NONE
        if await _in_thread(self._set, endpoint, key):
            self._session.pop(endpoint, None)
            return KeySource.KEYRING
        self._session[endpoint] = key
        return KeySource.SESSION

    async def delete_key(self, base_url: str) -> None:
        """Forget the key stored for ``base_url``."""
        endpoint = normalize_base_url(base_url)
        self._session.pop(endpoint, None)
        await _in_thread(self._delete, endpoint)

    # -- other secrets (MCP server headers and environment values) -------------------------------------------

    async def get_secret(self, account: str) -> str | None:
        """The secret kept under ``account`` (such as ``mcp:<server>:header:<name>``), from the keyring or session."""
        stored = await _in_thread(self._get, account)
        return stored or self._session.get(account)

    async def set_secret(self, account: str, value: str) -> KeySource:
        """Keep ``value`` under ``account``: in the keyring if there is one, else for this session only."""
        if not value:
            await self.delete_secret(account)
            return KeySource.NONE
        if await _in_thread(self._set, account, value):
            self._session.pop(account, None)
            return KeySource.KEYRING
        self._session[account] = value
        return KeySource.SESSION

    async def delete_secret(self, account: str) -> None:
        """Forget the secret kept under ``account``."""
        self._session.pop(account, None)
        await _in_thread(self._delete, account)
