"""The frozen Linux bundle (packaging/build.sh linux) as a user runs it: no Python, no venv, an empty home.

Skipped unless a bundle is given:
- ``DA_FROZEN_BUNDLE=<folder>``: test that bundle (the folder holding the ``desktop-assistant`` executable,
  normally ``dist/desktop-assistant``); scripts/test.sh builds it once and sets this;
- ``DA_BUILD_FROZEN=1``: build it first with ``packaging/build.sh linux --bundle-only`` in the checkout
  (``$DA_SOURCE_ROOT``, else the folder above tests/), about a minute.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fake_openai import fixture
from tests.fake_openai.server import FakeOpenAI, Reply
from tests.fake_openai.wire import make_usage

fake_openai = fixture.fake_openai
pytestmark = pytest.mark.slow

KEY = "sk-frozen-test-key-0000"
EXE = "desktop-assistant.exe" if sys.platform == "win32" else "desktop-assistant"


def _built_bundle() -> Path:
    root = Path(os.environ.get("DA_SOURCE_ROOT", Path(__file__).resolve().parents[2]))
    script = root / "packaging" / "build.sh"
    if not script.is_file():
        pytest.skip(f"DA_BUILD_FROZEN=1 but {script} does not exist (set DA_SOURCE_ROOT to the checkout)")
    subprocess.run([str(script), "linux", "--bundle-only"], cwd=root, check=True, timeout=1800)
    return root / "dist" / "desktop-assistant"


@pytest.fixture(scope="module")
def bundle() -> Path:
    """The frozen bundle folder under test."""
    if os.environ.get("DA_FROZEN_BUNDLE"):
        folder = Path(os.environ["DA_FROZEN_BUNDLE"]).resolve()
    elif os.environ.get("DA_BUILD_FROZEN") == "1":
        if not sys.platform.startswith("linux"):
            pytest.skip("packaging/build.sh builds the Linux bundle only")
        folder = _built_bundle()
    else:
        pytest.skip("no frozen bundle: set DA_FROZEN_BUNDLE=<dist/desktop-assistant> or DA_BUILD_FROZEN=1")
    if not (folder / EXE).is_file():
        pytest.fail(f"{folder / EXE} does not exist: build it with packaging/build.sh linux")
    return folder


def frozen_env(home: Path, base_url: str, key: str | None = KEY) -> dict[str, str]:
    """An empty home, offscreen Qt, no session bus (so no keyring), nothing of the test's Python."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DBUS_", "XDG_", "OPENAI_", "PYTHON", "QT_", "VIRTUAL_ENV", "LD_", "SSL_CERT"))
           and k not in {"HOME", "DISPLAY", "WAYLAND_DISPLAY"}}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"),
               XDG_CACHE_HOME=str(home / "cache"), XDG_RUNTIME_DIR=str(home / "runtime"),
               QT_QPA_PLATFORM="offscreen", OPENAI_BASE_URL=base_url)
    if key is not None:
        env["OPENAI_API_KEY"] = key
    (home / "runtime").mkdir(mode=0o700, parents=True, exist_ok=True)
    return env


def smoke(bundle: Path, home: Path, base_url: str, question: str,
          env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``desktop-assistant --smoke-test QUESTION`` from the bundle; returns the process and its seconds."""
    started = time.monotonic()
    out = subprocess.run([str(bundle / EXE), "--smoke-test", question], env=env or frozen_env(home, base_url),
                         cwd=home, capture_output=True, text=True, timeout=120)
    return out, time.monotonic() - started


def last_json(out: subprocess.CompletedProcess[str]) -> dict[str, object]:
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no JSON on stdout (exit {out.returncode})\nstdout: {out.stdout}\nstderr: {out.stderr}"
    result: dict[str, object] = json.loads(lines[-1])
    return result


def rows(home: Path, sql: str) -> list[tuple[object, ...]]:
    path = home / "data" / "desktop-assistant" / "conversations.sqlite3"
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def assert_no_key_on_disk(home: Path) -> None:
    for path in home.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_frozen_app_answers_a_chat(bundle: Path, tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    reply = "Hello from **loopback**.\n\n```python\nprint('frozen')\n```\n"
    fake_openai.enqueue(Reply(text=reply, usage=make_usage(12, 9)))
    out, seconds = smoke(bundle, tmp_path, fake_openai.base_url, "Say hello")
    assert out.returncode == 0, out.stderr
    result = last_json(out)
    assert result["ok"] is True and result["status"] == "complete"
    assert result["reply"] == reply
    shown = str(result["shown"])
    assert "Hello from loopback." in shown and "**" not in shown  # Markdown rendered, not shown raw
    assert "print('frozen')" in shown and "```" not in shown  # the code block went through pygments
    assert result["spelling"] is True  # pyspellchecker's word lists were bundled and found
    assert result["garbage_collector"] is True  # the frozen entry point turns it off for the start only
    # what loads only when used loads too (stripping once corrupted numpy's OpenBLAS and Qt's FFmpeg, and the
    # FFmpeg plugin's QtQuick/QtQml were left out): search by meaning and read aloud work in the bundle
    assert (result["search_by_meaning"], result["read_aloud"]) == ("ok", "ok")
    # what the app stored: the question, the reply, and the usage the server reported, in the ledger
    messages = rows(tmp_path, "SELECT role, status FROM messages ORDER BY id")
    assert messages == [("user", "complete"), ("assistant", "complete")]
    ledger = rows(tmp_path, "SELECT feature, model, input_tokens, output_tokens, estimated FROM usage_ledger")
    assert ledger == [("chat", result["model"], 12, 9, 0)]
    assert_no_key_on_disk(tmp_path)
    print(f"\nfrozen smoke test: {seconds:.2f} s from exec to exit")


def test_frozen_app_counts_tokens_offline(bundle: Path, tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    """A stream that breaks before its usage arrives: the app counts the tokens itself, with the bundled tiktoken
    vocabulary (nothing can be downloaded: the only server is on loopback)."""
    words = ["Tokenization ", "of ", "naïve ", "café ", "résumés ", "works ", "offline ", "too ", "…"]
    fake_openai.enqueue(Reply(chunks=words, disconnect_after=6))
    out, _ = smoke(bundle, tmp_path, fake_openai.base_url, "Count my tokens, please")
    result = last_json(out)
    assert result["ok"] is False and result["status"] == "error", result
    partial = "".join(words[:6])
    assert result["reply"] == partial

    from desktop_assistant.core.tokens import count_text  # the same count, made here by the unfrozen package

    (estimated, input_tokens, output_tokens), = rows(
        tmp_path, "SELECT estimated, input_tokens, output_tokens FROM usage_ledger")
    assert estimated == 1
    assert output_tokens == count_text(partial, str(result["model"]))
    assert input_tokens > count_text("Count my tokens, please", str(result["model"]))  # plus the message overhead
    assert_no_key_on_disk(tmp_path)


@pytest.mark.keyring
@pytest.mark.skipif(not os.environ.get("DBUS_SESSION_BUS_ADDRESS") and os.environ.get("CI") != "true",
                    reason="needs a Secret Service (scripts/test.sh starts one; CI must have it)")
def test_frozen_app_reads_its_key_from_the_keyring(bundle: Path, tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    """keyring finds its Secret Service backend in the bundle (entry points, secretstorage, jeepney, cryptography)."""
    import keyring

    from desktop_assistant.core.settings import normalize_base_url
    from desktop_assistant.services.secrets import SERVICE

    endpoint = normalize_base_url(fake_openai.base_url)  # a fresh loopback port: no clash with a real entry
    keyring.set_password(SERVICE, endpoint, KEY)
    try:
        fake_openai.api_key = KEY  # anything else gets a 401
        fake_openai.enqueue(Reply(text="Key from the keyring"))
        env = frozen_env(tmp_path, fake_openai.base_url, key=None)
        env["DBUS_SESSION_BUS_ADDRESS"] = os.environ["DBUS_SESSION_BUS_ADDRESS"]
        out, _ = smoke(bundle, tmp_path, fake_openai.base_url, "Who am I?", env=env)
        result = last_json(out)
        assert result["ok"] is True, (result, out.stderr)
        assert fake_openai.requests[-1].headers["authorization"] == f"Bearer {KEY}"
    finally:
        keyring.delete_password(SERVICE, endpoint)
    assert_no_key_on_disk(tmp_path)


def test_bundle_carries_what_the_app_needs_and_no_more(bundle: Path) -> None:
    internal = bundle / "_internal"
    resources = internal / "desktop_assistant" / "resources"
    assert (resources / "tiktoken" / "o200k_base.tiktoken").is_file()
    assert (resources / "tiktoken" / "cl100k_base.tiktoken").is_file()
    assert (resources / "pricing.json").is_file() and (resources / "icons" / "app.svg").is_file()
    assert list(internal.glob("keyring-*.dist-info/entry_points.txt")), "keyring's backends are found via metadata"
    assert list(internal.glob("desktop_assistant-*.dist-info/METADATA"))
    assert (internal / "certifi" / "cacert.pem").is_file()
    plugins = internal / "PySide6" / "Qt" / "plugins"
    for plugin in ("platforms/libqxcb.so", "platforms/libqwayland.so", "platforms/libqoffscreen.so",
                   "imageformats/libqsvg.so", "iconengines/libqsvgicon.so"):
        assert (plugins / plugin).is_file(), plugin
    names = [p.name for p in bundle.rglob("*")]
    for unused in ("WebEngine", "QtQuick", "QtQml", "Qt6Pdf", "MultimediaWidgets", "Qt63D", "VirtualKeyboard",
                   "libgtk-3", "libstdc++", "libX11", "libxcb.so", "libfontconfig"):  # (libQt6Quick/Qml: FFmpeg's)
        assert not [n for n in names if unused in n], f"the bundle should not carry {unused}"
    assert not list(bundle.rglob("*.qm")), "Qt translations are not used"
    version = subprocess.run([str(bundle / EXE), "--version"], capture_output=True, text=True, timeout=60,
                             env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    from desktop_assistant import __version__

    assert version.stdout.strip() == f"Desktop Assistant {__version__}"
    size = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file() and not p.is_symlink())
    assert size < 260 * 2**20, f"bundle grew to {size / 2**20:.0f} MiB"
    print(f"\nbundle: {size / 2**20:.0f} MiB in {len(names)} files")
