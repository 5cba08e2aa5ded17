"""Proxy settings: the system's, none, or a manual address; requests really go through the chosen one."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_assistant.core.settings import Settings
from desktop_assistant.services.settings import SettingsStore
from tests.conftest import ended, until
from tests.fake_openai import fixture
from tests.fake_openai.proxy import LoopbackProxy
from tests.fake_openai.server import FakeOpenAI, Reply
from tests.ui.app_fixture import built_app, start

fake_openai = fixture.fake_openai


@pytest.fixture
def proxy() -> Iterator[LoopbackProxy]:
    server = LoopbackProxy()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def remote() -> Iterator[LoopbackProxy]:
    """A proxy through which ``api.example.test`` is the fake server: a remote address, reached on loopback."""
    server = LoopbackProxy(hosts={"api.example.test": "127.0.0.1"})
    server.start()
    yield server
    server.stop()


def remote_settings(settings: Settings, fake_openai: FakeOpenAI, remote: LoopbackProxy) -> Settings:
    """``settings`` moved to the fake server as the remote ``api.example.test``, through ``remote``."""
    port = fake_openai.base_url.rsplit(":", 1)[1].split("/")[0]
    return settings.copy(base_url=f"http://api.example.test:{port}/v1", proxy_mode="manual", proxy_url=remote.url)


def dead_address() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


async def test_manual_proxy_carries_the_requests(tmp_path: Path, fake_openai: FakeOpenAI, proxy: LoopbackProxy) -> None:
    fake_openai.enqueue(Reply(text="through the proxy"))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        parts.endpoint.update_settings(proxy_mode="manual", proxy_url=proxy.url)
        await parts.chat.send("hello")
        await until(lambda: len(parts.chat.path) == 2 and not parts.chat.streaming)
        assert parts.chat.path[-1].text == "through the proxy"
        assert any(line.startswith(f"POST {fake_openai.base_url}/chat/completions") for line in proxy.requests)


async def test_a_proxy_typed_without_its_scheme_is_taken_as_http(tmp_path: Path, fake_openai: FakeOpenAI,
                                                                 proxy: LoopbackProxy) -> None:
    fake_openai.enqueue(Reply(text="through the proxy"))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        parts.endpoint.update_settings(proxy_mode="manual", proxy_url=proxy.url.removeprefix("http://"))
        await parts.chat.send("hello")
        await until(lambda: len(parts.chat.path) == 2 and not parts.chat.streaming)
        assert parts.chat.path[-1].text == "through the proxy" and proxy.requests


async def test_an_unusable_proxy_is_explained_and_typing_does_not_repeat_it(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        parts.endpoint.update_settings(proxy_mode="manual", proxy_url="ftp://proxy.example.com:21")
        shown: list[str] = []
        parts.notices.subscribe(lambda notice: shown.append(notice.message))
        for text in ("h", "he", "hel"):  # each key press may get the connection ready: no notice for any
            parts.window.composer.set_text(text)
        await until(lambda: not parts.endpoint.wants_connection())
        await until(lambda: ended(parts.runner, "connect"))
        assert shown == []
        await parts.chat.send("hello")
        await until(lambda: len(parts.chat.path) == 2 and not parts.chat.streaming)
        reply = parts.chat.path[-1]
        assert reply.error is not None and "proxy" in reply.error and reply.error_action == "open_settings"
        assert parts.window.composer.text == "hel" or parts.chat.path[0].text == "hello"
        assert fake_openai.requests == []


async def test_system_proxy_and_no_proxy(tmp_path: Path, fake_openai: FakeOpenAI, proxy: LoopbackProxy,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    fake_openai.enqueue(Reply(text="via the environment's proxy"), Reply(text="straight"))
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        parts.endpoint.update_settings(proxy_mode="system")
        await parts.chat.send("one")
        await until(lambda: len(parts.chat.path) == 2 and not parts.chat.streaming)
        assert parts.chat.path[-1].text == "via the environment's proxy"
        relayed = len(proxy.requests)
        assert relayed >= 1
        monkeypatch.setenv("HTTP_PROXY", dead_address())  # "no proxy" must not even try it
        parts.endpoint.update_settings(proxy_mode="none")
        await parts.chat.send("two")
        await until(lambda: len(parts.chat.path) == 4 and not parts.chat.streaming)
        assert parts.chat.path[-1].text == "straight"
        assert len(proxy.requests) == relayed


async def test_back_from_a_local_server_new_chats_do_not_keep_its_model(tmp_path: Path, fake_openai: FakeOpenAI,
                                                                        remote: LoopbackProxy) -> None:
    """A local server's list made its first model the default (OpenAI's is not there); back on a remote server
    that does not offer it, the default goes back to one it offers (new chats failed with "model not found")."""
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        fake_openai.models = ["llama3.2:3b"]
        assert await parts.endpoint.refresh_models()
        assert parts.endpoint.settings.default_model == "llama3.2:3b"
        fake_openai.models = ["gpt-4o-mini", "gpt-4o"]
        await parts.endpoint.save(remote_settings(parts.endpoint.settings, fake_openai, remote), "sk-test-remote")
        assert await parts.endpoint.refresh_models()
        assert any("api.example.test" in line for line in remote.requests)  # it was asked, as a remote one
        assert parts.endpoint.settings.default_model == "gpt-4o-mini"
        parts.chat.new_conversation()
        assert parts.chat.model == "gpt-4o-mini"


async def test_each_server_keeps_the_default_model_chosen_there(tmp_path: Path, fake_openai: FakeOpenAI,
                                                                 remote: LoopbackProxy) -> None:
    """Going from a local server to OpenAI and back, the default model is the one chosen on each (it was reset
    to the first model of the list, or to OpenAI's usual one, at every switch)."""
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        endpoint = parts.endpoint
        local = endpoint.settings.copy()
        fake_openai.models = ["llama3.2:3b", "qwen2.5:7b"]
        assert await endpoint.refresh_models()
        await endpoint.save(endpoint.settings.copy(default_model="qwen2.5:7b"), None)  # chosen here
        away = remote_settings(endpoint.settings, fake_openai, remote)
        fake_openai.models = ["gpt-4o-mini", "gpt-4o"]
        await endpoint.save(away, "sk-test-remote")
        assert await endpoint.refresh_models()
        await endpoint.save(endpoint.settings.copy(default_model="gpt-4o"), None)  # chosen there
        fake_openai.models = ["llama3.2:3b", "qwen2.5:7b"]
        await endpoint.save(endpoint.settings.copy(base_url=local.base_url, proxy_mode=local.proxy_mode), None)
        assert endpoint.settings.default_model == "qwen2.5:7b"  # back: the one chosen here
        assert await endpoint.refresh_models() and endpoint.settings.default_model == "qwen2.5:7b"
        fake_openai.models = ["gpt-4o-mini", "gpt-4o"]
        await endpoint.save(endpoint.settings.copy(base_url=away.base_url, proxy_mode="manual"), None)
        assert endpoint.settings.default_model == "gpt-4o"
        saved = SettingsStore(parts.paths.settings_file).load()  # kept for the next start too
        assert saved.endpoint_default_models[away.endpoint] == "gpt-4o"
        assert saved.endpoint_default_models[local.endpoint] == "qwen2.5:7b"


async def test_the_default_in_force_is_remembered_when_leaving_a_server(tmp_path: Path, fake_openai: FakeOpenAI,
                                                                        remote: LoopbackProxy) -> None:
    """A default chosen before servers had their own (or never saved with the map) comes back too."""
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        endpoint = parts.endpoint
        away = remote_settings(endpoint.settings, fake_openai, remote)
        fake_openai.models = ["gpt-4o-mini", "gpt-4.1"]
        await endpoint.save(away, "sk-test-remote")
        endpoint.settings = endpoint.settings.copy(default_model="gpt-4.1", endpoint_default_models={})
        home = endpoint.settings.copy(base_url=fake_openai.base_url, proxy_mode="system")
        fake_openai.models = ["llama3.2:3b"]
        await endpoint.save(home, None)  # to the local server, the default field left as it was
        assert await endpoint.refresh_models() and endpoint.settings.default_model == "llama3.2:3b"
        fake_openai.models = ["gpt-4o-mini", "gpt-4.1"]
        await endpoint.save(endpoint.settings.copy(base_url=away.base_url, proxy_mode="manual"), None)
        assert endpoint.settings.default_model == "gpt-4.1"
