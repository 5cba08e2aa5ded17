"""The endpoint in use: settings, the API key, the gateway and the model list."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from desktop_assistant.core.catalog import BUILTIN_MODELS
from desktop_assistant.core.errors import ErrorKind, UserFacingError
from desktop_assistant.core.settings import Settings, normalize_base_url
from desktop_assistant.services.endpoint import Endpoint
from desktop_assistant.services.secrets import KeySource, SecretStore
from desktop_assistant.services.settings import SettingsStore

if TYPE_CHECKING:
    from desktop_assistant.services.gateway import Gateway

log = logging.getLogger(__name__)

RETRY_SECONDS = 60.0
"""After the endpoint could not be reached, :meth:`EndpointController.prepare_connection` waits this long to try
again."""


def _in_settings(error: UserFacingError, base_url: str, key_sent: bool) -> str:
    """An error of Test connection, said for the Settings form it is shown in (not "check it in Settings")."""
    if error.kind is ErrorKind.BAD_KEY and not key_sent:
        return (f"{base_url} asks for an API key: type it in the API key field above. A key is kept for one server "
                "address, so a new address needs its own.")
    message = error.message
    for where in (" Check it in Settings.", " Add it in Settings."):
        message = message.replace(where, "")
    if error.kind is ErrorKind.BAD_KEY:  # the next step, where the person is
        host = "api.openai.com" in base_url
        message += (" Paste the key again in the field above (a key starts with sk-; "
                    + ("copy it from platform.openai.com/api-keys), " if host else "the server's owner gives it), ")
                    + "then Test connection.")
    return message.replace(" in Settings", " above")


def _remembering_default(settings: Settings) -> Settings:
    """``settings`` with its default model remembered for its endpoint (to come back to with the endpoint)."""
    if settings.endpoint_default_models.get(settings.endpoint) == settings.default_model:
        return settings
    return settings.copy(endpoint_default_models={**settings.endpoint_default_models,
                                                  settings.endpoint: settings.default_model})


class EndpointController(QObject):
    """Owns the settings, the key and the gateway for the endpoint in use.

    Signals:
        settingsChanged(Settings): saved settings changed.
        keyStateChanged(str): where the key comes from now (a ``KeySource`` value).
        keyringProblem(str): the keyring is missing or failed (the key is held for this session only).
        modelsChanged(list): chat model ids to offer (built-in list merged with the endpoint's).
        connectionTested(bool, str): the result of "Test connection".
    """

    settingsChanged = Signal(object)
    clock: Callable[[], float] = staticmethod(time.monotonic)  # for the retry wait of prepare_connection
    keyStateChanged = Signal(str)
    keyringProblem = Signal(str)
    modelsChanged = Signal(list)
    connectionTested = Signal(bool, str)

    def __init__(self, settings_store: SettingsStore, settings: Settings, secrets: SecretStore,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._settings_store = settings_store
        # OPENAI_BASE_URL decides the endpoint for the session it is set in, and is never written over the one the
        # person saved (the settings file keeps theirs)
        self._saved_base_url = settings.base_url
        self._env_base_url = secrets.env_base_url
        self.settings = settings.copy(base_url=self._env_base_url) if self._env_base_url else settings
        self._secrets = secrets
        self.key_source = KeySource.NONE
        self._api_key: str | None = None
        self.key_loaded = False
        self._gateway: Gateway | None = None
        self.models: list[str] = self._offered(self._remembered_models())
        self._connected_to: str | None = None
        self._connecting = False
        self._failed_at = -RETRY_SECONDS

    @property
    def gateway(self) -> Gateway:
        """The gateway to the endpoint in use (made on first use: its module is not needed for the first paint)."""
        if self._gateway is None:
            from desktop_assistant.services.gateway import Gateway

            self._gateway = Gateway(self._endpoint())
        return self._gateway

    def _endpoint(self) -> Endpoint:
        s = self.settings
        return Endpoint(base_url=s.endpoint, api_key=self._api_key, organization=s.organization,
                        timeout=s.timeout_seconds, max_retries=s.max_retries,
                        legacy_max_tokens=s.endpoint in s.legacy_max_tokens_endpoints,
                        proxy_mode=s.proxy_mode, proxy_url=s.proxy_url)

    @property
    def keyless(self) -> bool:
        """The endpoint in use needs no key (a local server, or one the person said needs none)."""
        return self.settings.endpoint in self.settings.keyless_endpoints or self._endpoint().is_local

    @property
    def needs_onboarding(self) -> bool:
        """No key for an endpoint that needs one, and the person has not set things up yet."""
        if self.keyless or self._api_key:
            return False
        if not self.key_loaded:  # until the keyring answers, trust that a set-up app has its key
            return not (self.settings.onboarded or self._secrets.env_endpoint == self.settings.endpoint)
        return True

    @property
    def has_key(self) -> bool:
        """A key is known for the endpoint in use."""
        return bool(self._api_key)

    async def load_key(self) -> None:
        """Read the key for the endpoint in use (environment, keyring or this session)."""
        problem = await self._secrets.check_backend()
        info = await self._secrets.get_key(self.settings.endpoint)
        if info.key != self._api_key:  # a new key deserves a new try at once
            self._failed_at = -RETRY_SECONDS
        self._api_key, self.key_source = info.key, info.source
        self.key_loaded = True
        self.gateway.configure(self._endpoint())
        self.keyStateChanged.emit(self.key_source.value)
        if problem and not info.key and self.settings.endpoint in self.settings.session_key_endpoints:
            problem += (" The key typed in the last session was kept for that session only: paste it again in "
                        "Settings.")
        if problem:
            self.keyringProblem.emit(problem)

    async def save(self, settings: Settings, api_key: str | None) -> None:
        """Save ``settings`` and, if given, the key for its endpoint (an empty key deletes it)."""
        settings = settings.copy(base_url=normalize_base_url(settings.base_url))
        before = self.settings
        # what each server's default is, from the settings in force (a dialog opened earlier may hold an older map),
        # the one of the server left included
        chosen = {**before.endpoint_default_models, before.endpoint: before.default_model}
        if settings.endpoint != before.endpoint and settings.default_model == before.default_model:
            # another server, the default model left as it was: the one chosen there last time, if any
            settings = settings.copy(default_model=chosen.get(settings.endpoint, settings.default_model))
        settings = _remembering_default(settings.copy(endpoint_default_models=chosen))
        if api_key is not None:
            source = await self._secrets.set_key(settings.endpoint, api_key)
            if source is KeySource.SESSION and self._secrets.problem:
                self.keyringProblem.emit(self._secrets.problem)
            held = [e for e in settings.session_key_endpoints if e != settings.endpoint]
            settings = settings.copy(session_key_endpoints=held + [settings.endpoint] * (source is KeySource.SESSION))
        # an address the person typed is kept, even one that is also the environment's (when they come back to
        # it from another); the environment's, left as it was, is not
        if settings.base_url != self._env_base_url or settings.base_url != self.settings.base_url:
            self._saved_base_url = settings.base_url
        self.settings = settings.copy(onboarded=True)
        self._write()
        self._connected_to, self._failed_at = None, -RETRY_SECONDS
        self.models = self._offered(self._remembered_models())
        await self.load_key()
        self.settingsChanged.emit(self.settings)

    def update_settings(self, **changes: object) -> None:
        """Change and save settings that need no key handling (window state, last conversation, ...)."""
        self.settings = self.settings.copy(**changes)
        if "default_model" in changes:
            self.settings = _remembering_default(self.settings)
        self._write()
        self.gateway.configure(self._endpoint())  # timeouts, retries and the like apply from the next request

    def _write(self) -> None:
        """Save the settings in use, with the base URL the person saved (not the environment's)."""
        self._settings_store.save(self.settings.copy(base_url=self._saved_base_url))

    def remember_legacy_max_tokens(self) -> None:
        """Keep in mind that the endpoint in use knows only ``max_tokens``."""
        ep = self.settings.endpoint
        if self.gateway.endpoint.legacy_max_tokens and ep not in self.settings.legacy_max_tokens_endpoints:
            self.update_settings(legacy_max_tokens_endpoints=[*self.settings.legacy_max_tokens_endpoints, ep])

    def _remembered_models(self) -> list[str]:
        s = self.settings
        return list(s.endpoint_models) if s.endpoint_models_for == s.endpoint else []

    def _offered(self, remote: list[str]) -> list[str]:
        merged = list(BUILTIN_MODELS) if not self._endpoint().is_local else []
        merged += [m for m in remote if m not in merged]
        return merged or list(BUILTIN_MODELS)

    def wants_connection(self) -> bool:
        """:meth:`prepare_connection` has something to do now: the key is read, and the endpoint is not ready,
        not being readied, and did not just fail."""
        return (self.key_loaded and self._connected_to != self.settings.endpoint and not self._connecting
                and self.clock() - self._failed_at >= RETRY_SECONDS)

    async def prepare_connection(self) -> None:
        """Get the connection ready before it is needed, once per endpoint: the SDK imported and the client
        built off the UI thread, then the model list asked for.

        Called when the person starts writing or opens the model list, not at start: the SDK costs ~35 MB
        and the list is remembered from the last session, so a window opened only to read needs neither.
        """
        if not self.wants_connection():
            return
        endpoint = self.settings.endpoint
        self._connecting = True
        ready = False
        try:
            await self.gateway.ready()
            ready = await self.refresh_models()
        finally:
            self._connecting = False
            if self.settings.endpoint == endpoint:  # not switched meanwhile (Settings resets both for a new one)
                if ready:
                    self._connected_to = endpoint
                else:  # the wait is counted from the failure: a silent endpoint fails only after its timeouts
                    self._failed_at = self.clock()

    async def refresh_models(self) -> bool:
        """Merge the endpoint's chat models into the offered list (built-in ones first) and remember them;
        False when the endpoint could not list them (the remembered list stays), or when the endpoint was
        switched while it answered (its list belongs to the other one)."""
        endpoint = self.settings.endpoint
        try:
            remote = await self.gateway.list_models()
        except UserFacingError as exc:
            log.info("model list unavailable: %s", exc.message)
            return False
        s = self.settings
        if s.endpoint != endpoint:
            return False
        if remote != s.endpoint_models or s.endpoint_models_for != s.endpoint:
            self.update_settings(endpoint_models=remote, endpoint_models_for=s.endpoint)
        offered = self._offered(remote)
        if remote and s.default_model not in remote and self._endpoint().is_local:
            # a local server (Ollama, LM Studio) offers only its own models, not OpenAI's default: new chats would
            # fail with "model not found" until the person found the setting
            self.update_settings(default_model=remote[0])
        elif remote and s.default_model not in offered:
            # back from a local server, its model as the default would fail every new chat here in the same way
            usual = Settings().default_model
            self.update_settings(default_model=usual if usual in offered else offered[0])
        self.models = offered
        self._connected_to = endpoint  # the client is built and the list is fresh: nothing left to prepare
        self.modelsChanged.emit(self.models)
        return True

    async def test_connection(self, base_url: str, api_key: str, organization: str) -> None:
        """Try ``models.list()`` with the values typed in the form (nothing is saved)."""
        endpoint = Endpoint(base_url=normalize_base_url(base_url), api_key=api_key.strip() or self._key_for(base_url),
                            organization=organization, timeout=min(self.settings.timeout_seconds, 20.0),
                            max_retries=0, proxy_mode=self.settings.proxy_mode, proxy_url=self.settings.proxy_url)
        from desktop_assistant.services.gateway import Gateway

        probe = Gateway(endpoint)
        try:
            models = await probe.list_models()
        except UserFacingError as exc:
            self.connectionTested.emit(False, _in_settings(exc, endpoint.base_url, bool(endpoint.api_key)))
            return
        finally:
            await probe.close()
        count = f"{len(models)} chat models available" if models else "connected"
        self.connectionTested.emit(True, f"Connection works: {count}.")

    def key_saved_for(self, base_url: str) -> bool:
        """Whether the key in use belongs to ``base_url`` (keys are kept for one server address each)."""
        return bool(self._key_for(base_url))

    def _key_for(self, base_url: str) -> str | None:
        return self._api_key if normalize_base_url(base_url) == self.settings.endpoint else None
