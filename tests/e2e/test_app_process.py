"""The app as a real process: a smoke test of a whole chat, and a kill -9 mid-stream that loses nothing."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.fake_openai import fixture
from tests.fake_openai.server import FakeOpenAI, Reply

fake_openai = fixture.fake_openai


def app_env(home: Path, base_url: str) -> dict[str, str]:
    """An environment with an empty home, the loopback endpoint, and no desktop session (no keyring)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DBUS_", "XDG_", "OPENAI_")) and k not in {"HOME", "DISPLAY"}}
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"),
               XDG_CACHE_HOME=str(home / "cache"), QT_QPA_PLATFORM="offscreen", OPENAI_BASE_URL=base_url,
               OPENAI_API_KEY="sk-e2e-test-key-0000")
    return env


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll a condition on another process's state (its database file)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)  # wait-ok: polling another process's file


def database(home: Path) -> Path:
    return home / "data" / "desktop-assistant" / "conversations.sqlite3"


def rows(home: Path, sql: str) -> list[tuple[object, ...]]:
    path = database(home)
    if not path.exists():
        return []
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:  # not created yet
        return []
    finally:
        conn.close()


def test_smoke_test_answers_a_chat(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="Hello from **loopback**"))
    out = subprocess.run([sys.executable, "-m", "desktop_assistant", "--smoke-test", "Say hello"],
                         env=app_env(tmp_path, fake_openai.base_url), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["ok"] and result["reply"] == "Hello from **loopback**"
    assert result["shown"].strip() == "Hello from loopback"  # rendered, not raw markdown
    # what a person's first key press starts is proved too (a packaged build must find its dictionary)
    assert result["spelling"] is True
    assert result["garbage_collector"] is True  # off from the entry point to the first paint, on again after it
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"sk-e2e-test-key" not in path.read_bytes(), path


def test_the_entry_point_turns_the_garbage_collector_off_for_the_start() -> None:
    code = "import gc, desktop_assistant.launch; print(gc.isenabled())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_kill_9_mid_stream_keeps_question_and_partial_reply(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(chunks=[f"word{i} " for i in range(200)], chunk_delay=0.05))
    env = app_env(tmp_path, fake_openai.base_url)
    proc = subprocess.Popen([sys.executable, "-m", "desktop_assistant", "--smoke-test", "Tell me a long story"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # the reply row is flushed at least every 500 ms while streaming: wait until some words are on disk
        wait_for(lambda: any("word3" in str(r[0]) for r in rows(
            tmp_path, "SELECT content FROM messages WHERE role='assistant' AND status='streaming'")))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    # the next start shows what arrived, marked interrupted
    fake_openai.enqueue(Reply(text="second run"))
    out = subprocess.run([sys.executable, "-m", "desktop_assistant", "--smoke-test", "Are you back?"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    messages = rows(tmp_path, "SELECT role, status, content FROM messages ORDER BY id")
    assert [(r[0], r[1]) for r in messages[:2]] == [("user", "complete"), ("assistant", "interrupted")]
    assert "Tell me a long story" in str(messages[0][2])
    partial = json.loads(str(messages[1][2]))[0]["text"]
    assert partial.startswith("word0 word1 word2 word3")


def test_second_start_hands_over_to_the_running_app(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="held until the second start is done", hold=True))
    env = app_env(tmp_path, fake_openai.base_url)
    first = subprocess.Popen([sys.executable, "-m", "desktop_assistant", "--smoke-test", "first"],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: fake_openai.holding == 1)
        second = subprocess.run([sys.executable, "-m", "desktop_assistant"], env=env, capture_output=True,
                                text=True, timeout=60)
        assert second.returncode == 0, second.stderr
        assert "already running" in second.stdout
    finally:
        fake_openai.release()
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1])["ok"]


def test_the_key_is_in_no_log_file_or_message(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    key = "sk-e2e-test-key-0000"
    fake_openai.enqueue(Reply(status=401, error={"error": {
        "message": f"Incorrect API key provided: {key}. You can find your API key at the dashboard.",
        "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}}))
    env = app_env(tmp_path, fake_openai.base_url) | {"DA_LOG_LEVEL": "DEBUG"}
    out = subprocess.run([sys.executable, "-m", "desktop_assistant", "--smoke-test", "hello"], env=env,
                         capture_output=True, text=True, timeout=120)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert not result["ok"] and "API key" in result["error"]
    assert key not in out.stdout and key not in out.stderr  # the server echoed it; we masked it
    assert "sk-...0000" in result["error"]
    assert "DEBUG" in out.stderr  # the debug log really ran
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path


def test_sigterm_closes_as_the_close_button_does(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    env = app_env(tmp_path, fake_openai.base_url)
    proc = subprocess.Popen([sys.executable, "-m", "desktop_assistant"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    backups = tmp_path / "data" / "desktop-assistant" / "backups"
    try:  # started all the way: the first automatic backup comes after the window is bound
        wait_for(lambda: backups.is_dir() and any(backups.glob("conversations-auto-*.sqlite3")), timeout=60)
    finally:
        proc.send_signal(signal.SIGTERM)  # a logout, a `kill`
        proc.wait(timeout=60)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""  # closed, not killed
    settings = json.loads((tmp_path / "config" / "desktop-assistant" / "settings.json").read_text())
    assert settings["window_geometry"]  # what is kept at close was kept
