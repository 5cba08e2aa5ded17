"""Smoke-test a frozen or installed Desktop Assistant against a loopback OpenAI server (CI, all three OSes).

    python packaging/smoke_frozen.py PATH/TO/desktop-assistant[.exe]

Starts ``tests/fake_openai``'s server on 127.0.0.1 (needs the dev extra: aiohttp), runs
``EXECUTABLE --smoke-test "Say hello"`` with an empty home folder (HOME, XDG_*, APPDATA, LOCALAPPDATA and
platformdirs' WIN_PD_OVERRIDE_* all point into a temporary folder), offscreen on Linux, and checks what a user
would see: exit code 0, the reply stored complete in the app's SQLite database with the usage the server
reported, the key sent to the server and written to no file. The JSON the smoke test prints is checked too when
the executable has a stdout (a windowed Windows executable has none). Exit code 0 when all holds. Run it from the
checkout (it imports ``tests.fake_openai``).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_openai.server import FakeOpenAI, Reply  # noqa: E402
from tests.fake_openai.wire import make_usage  # noqa: E402

KEY = "sk-smoke-frozen-0000"
REPLY = "Hello from **loopback**.\n\n```python\nprint('frozen')\n```\n"


def environment(home: Path, base_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DBUS_", "XDG_", "OPENAI_", "PYTHON", "QT_", "VIRTUAL_ENV"))}
    env.update(HOME=str(home), USERPROFILE=str(home), APPDATA=str(home / "AppData" / "Roaming"),
               LOCALAPPDATA=str(home / "AppData" / "Local"), XDG_DATA_HOME=str(home / "data"),
               XDG_CONFIG_HOME=str(home / "config"), XDG_CACHE_HOME=str(home / "cache"),
               OPENAI_BASE_URL=base_url, OPENAI_API_KEY=KEY,
               # platformdirs asks Windows for its known folders; these point them into the temporary home
               WIN_PD_OVERRIDE_APPDATA=str(home / "AppData" / "Roaming"),
               WIN_PD_OVERRIDE_LOCAL_APPDATA=str(home / "AppData" / "Local"))
    if sys.platform.startswith("linux"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    for key in ("APPDATA", "LOCALAPPDATA"):
        Path(env[key]).mkdir(parents=True, exist_ok=True)
    return env


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    exe = Path(argv[1]).resolve()
    server = FakeOpenAI()
    server.start()
    server.enqueue(Reply(text=REPLY, usage=make_usage(12, 9)))
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="da-smoke-") as folder:
        home = Path(folder)
        started = time.monotonic()
        try:
            out = subprocess.run([str(exe), "--smoke-test", "Say hello"], env=environment(home, server.base_url),
                                 cwd=home, capture_output=True, text=True, timeout=180)
        finally:
            server.stop()
        seconds = time.monotonic() - started
        print(f"exit code {out.returncode} after {seconds:.2f} s")
        if out.returncode != 0:
            problems.append(f"exit code {out.returncode}\nstdout: {out.stdout}\nstderr: {out.stderr}")
        lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
        if lines:
            result = json.loads(lines[-1])
            print("smoke test printed:", lines[-1])
            if not (result.get("ok") and result.get("reply") == REPLY and "**" not in result.get("shown", "")
                    and result.get("spelling")):
                problems.append(f"unexpected result: {result}")
        elif sys.platform != "win32":
            problems.append(f"no JSON on stdout\nstdout: {out.stdout}\nstderr: {out.stderr}")
        databases = list(home.rglob("conversations.sqlite3"))
        if len(databases) != 1:
            problems.append(f"expected one conversations.sqlite3 under the home folder, found {databases}")
        else:
            conn = sqlite3.connect(databases[0])
            try:
                messages = conn.execute("SELECT role, status FROM messages ORDER BY id").fetchall()
                ledger = conn.execute("SELECT input_tokens, output_tokens, estimated FROM usage_ledger").fetchall()
            finally:
                conn.close()
            print(f"database {databases[0]}: messages {messages}, usage {ledger}")
            if messages != [("user", "complete"), ("assistant", "complete")]:
                problems.append(f"messages: {messages}")
            if ledger != [(12, 9, 0)]:
                problems.append(f"usage ledger: {ledger}")
        for path in home.rglob("*"):
            if path.is_file() and KEY.encode() in path.read_bytes():
                problems.append(f"the API key was written to {path}")
        if server.requests and server.requests[-1].headers.get("authorization") != f"Bearer {KEY}":
            problems.append("the request did not carry the API key")
    for problem in problems:
        print("FAILED:", problem, file=sys.stderr)
    print("smoke test passed" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
