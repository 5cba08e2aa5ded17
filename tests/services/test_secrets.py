"""The API key in a real keyring (Secret Service inside dbus-run-session), and without one."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from desktop_assistant.services.secrets import KeySource, SecretStore

OPENAI = "https://api.openai.com/v1"


def _secret_service_running() -> bool:
    return bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS"))


needs_keyring = pytest.mark.skipif(
    not _secret_service_running() and os.environ.get("CI") != "true",
    reason="needs a Secret Service (scripts/test.sh starts one; CI must have it)",
)


@pytest.fixture
def service() -> str:
    return f"desktop-assistant-test-{uuid.uuid4().hex[:8]}"


@needs_keyring
@pytest.mark.keyring
async def test_key_roundtrip_per_endpoint(service: str) -> None:
    secrets = SecretStore(environ={}, service=service)
    assert await secrets.check_backend() is None, secrets.problem
    assert await secrets.set_key(OPENAI, "sk-test-openai") is KeySource.KEYRING
    await secrets.set_key("http://localhost:11434/v1", "ollama-key")
    assert await secrets.get_key(OPENAI + "/") == secrets_info("sk-test-openai", KeySource.KEYRING)
    assert (await secrets.get_key("http://localhost:11434/v1")).key == "ollama-key"
    assert (await secrets.get_key("http://localhost:1234/v1")).source is KeySource.NONE
    # another process (the next start of the app) finds it
    fresh = SecretStore(environ={}, service=service)
    assert (await fresh.get_key(OPENAI)).key == "sk-test-openai"
    await secrets.delete_key(OPENAI)
    await secrets.delete_key("http://localhost:11434/v1")
    assert (await fresh.get_key(OPENAI)).source is KeySource.NONE


def secrets_info(key: str, source: KeySource) -> object:
    from desktop_assistant.services.secrets import KeyInfo

    return KeyInfo(key, source)


async def test_environment_key_belongs_to_its_endpoint() -> None:
    secrets = SecretStore(environ={"OPENAI_API_KEY": "sk-env"}, service="unused")
    assert await secrets.get_key(OPENAI) == secrets_info("sk-env", KeySource.ENVIRONMENT)
    local = SecretStore(environ={"OPENAI_API_KEY": "sk-env", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"},
                        service="unused")
    assert (await local.get_key("http://127.0.0.1:9/v1")).key == "sk-env"
    assert local.env_endpoint == "http://127.0.0.1:9/v1"


def run_without_a_keyring(script: str, home: Path) -> None:
    """Run ``script`` in a process with no desktop session (keyring finds no backend); it prints "ok"."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "XDG_RUNTIME"))}
    env["HOME"] = str(home)
    env["XDG_DATA_HOME"] = str(home)
    env.pop("PYTHON_KEYRING_BACKEND", None)
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_without_keyring_the_key_is_held_for_the_session(tmp_path: Path) -> None:
    """With no desktop session keyring finds no backend; the app says so and keeps the key in memory."""
    script = textwrap.dedent(
        """
        import asyncio
        from desktop_assistant.services.secrets import KeySource, SecretStore

        async def main():
            s = SecretStore(environ={}, service="desktop-assistant-nokeyring")
            problem = await s.check_backend()
            assert problem and "keyring" in problem, problem
            assert await s.set_key("https://api.openai.com/v1", "sk-session") is KeySource.SESSION
            info = await s.get_key("https://api.openai.com/v1")
            assert info.key == "sk-session" and info.source is KeySource.SESSION
            print("ok")

        asyncio.run(main())
        """
    )
    run_without_a_keyring(script, tmp_path)
    for path in Path(tmp_path).rglob("*"):
        if path.is_file():
            assert b"sk-session" not in path.read_bytes(), path


def test_a_key_kept_for_a_session_only_is_asked_for_again_at_the_next_start(tmp_path: Path) -> None:
    """Without a keyring the key lives for one session; the next start says to paste it again (the settings
    file names the address, never the key)."""
    script = textwrap.dedent(
        f"""
        import asyncio
        from pathlib import Path
        from desktop_assistant.controllers.endpoint import EndpointController
        from desktop_assistant.services.secrets import SecretStore
        from desktop_assistant.services.settings import SettingsStore

        async def session(key):
            store = SettingsStore(Path({str(tmp_path / "settings.json")!r}))
            endpoint = EndpointController(store, store.load(), SecretStore(environ={{}}, service="da-nokeyring"))
            said = []
            endpoint.keyringProblem.connect(said.append)
            await endpoint.load_key()
            if key:
                await endpoint.save(endpoint.settings.copy(base_url="https://api.openai.com/v1"), key)
            return endpoint, said

        async def main():
            first, _said = await session("sk-session-only-0123456789")
            assert first.settings.session_key_endpoints == ["https://api.openai.com/v1"]
            second, said = await session(None)
            assert not second.has_key
            assert any("paste it again" in s for s in said), said
            print("ok")

        asyncio.run(main())
        """
    )
    run_without_a_keyring(script, tmp_path)
    assert b"sk-session-only" not in (tmp_path / "settings.json").read_bytes()
