"""Settings on a real file."""

from __future__ import annotations

import json
from pathlib import Path

from desktop_assistant.core.settings import OPENAI_BASE_URL, Settings, base_url_problem, normalize_base_url
from desktop_assistant.services.settings import SettingsStore


def test_defaults_when_missing(tmp_path: Path) -> None:
    s = SettingsStore(tmp_path / "settings.json").load()
    assert s == Settings()
    assert s.base_url == OPENAI_BASE_URL


def test_roundtrip(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "c" / "settings.json")
    s = Settings(base_url="http://localhost:11434/v1", default_model="llama3.1", timeout_seconds=30,
                 legacy_max_tokens_endpoints=["http://localhost:11434/v1"], last_conversation_id=4)
    store.save(s)
    assert store.load() == s


def test_bad_values_fall_back_field_by_field(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"timeout_seconds": "soon", "default_model": "gpt-4o", "onboarded": 1,
                                "last_conversation_id": True, "history_budget": 1, "unknown": 3}))
    s = SettingsStore(path).load()
    assert s.default_model == "gpt-4o"
    assert s.timeout_seconds == Settings().timeout_seconds
    assert s.onboarded is False and s.last_conversation_id is None and s.history_budget == 1.0


def test_damaged_file_is_kept_aside(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{not json")
    store = SettingsStore(path)
    assert store.load() == Settings()
    assert store.load_problem and (tmp_path / "settings.damaged.json").read_text() == "{not json"


def test_normalize_base_url() -> None:
    assert normalize_base_url("") == OPENAI_BASE_URL
    assert normalize_base_url("HTTPS://API.OpenAI.com/v1/") == OPENAI_BASE_URL
    assert normalize_base_url("localhost:11434/v1") == "http://localhost:11434/v1"
    assert normalize_base_url("example.com/v1") == "https://example.com/v1"


def test_an_address_that_cannot_be_one_is_named() -> None:
    fine = ["", "localhost:11434/v1", OPENAI_BASE_URL, "http://127.0.0.1:1234/v1", "http://[::1]:8080/v1",
            "example.com", "https://proxy.corp/openai/v1", "http://ollama_service:11434/v1"]
    assert [u for u in fine if base_url_problem(u)] == []
    wrong = ["not a url", "ftp://files.example.com/v1", "http://host:abc/v1", "http://host:99999", "http:///v1",
             "http://local host/v1", "https://exa mple.com"]
    assert [u for u in wrong if not base_url_problem(u).startswith(f"“{u}” is not a web address")] == []


async def test_the_environment_s_base_url_is_used_but_never_saved_over_the_person_s(tmp_path: Path) -> None:
    from desktop_assistant.controllers.endpoint import EndpointController
    from desktop_assistant.services.secrets import SecretStore

    store = SettingsStore(tmp_path / "settings.json")
    store.save(Settings(base_url="http://127.0.0.2:18080/v1"))
    environ = {"OPENAI_BASE_URL": "http://127.0.0.1:45057/v1"}
    endpoint = EndpointController(store, store.load(), SecretStore(environ=environ, service="da-test-env-url"))
    assert endpoint.settings.endpoint == "http://127.0.0.1:45057/v1"  # the session uses the environment's
    endpoint.update_settings(last_conversation_id=3)  # the window state and the like are saved as the app runs
    saved = store.load()
    assert saved.base_url == "http://127.0.0.2:18080/v1" and saved.last_conversation_id == 3
    await endpoint.save(endpoint.settings.copy(timeout_seconds=30), None)  # Settings saved, the address untouched
    assert store.load().base_url == "http://127.0.0.2:18080/v1" and store.load().timeout_seconds == 30
    await endpoint.save(endpoint.settings.copy(base_url="http://127.0.0.3:8080/v1"), None)  # an address typed
    assert store.load().base_url == "http://127.0.0.3:8080/v1"
    assert endpoint.settings.endpoint == "http://127.0.0.3:8080/v1"
    # back to the environment's address, typed: that is the person's choice now, and it is kept
    await endpoint.save(endpoint.settings.copy(base_url="http://127.0.0.1:45057/v1"), None)
    assert store.load().base_url == "http://127.0.0.1:45057/v1"
