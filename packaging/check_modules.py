"""Check that the frozen bundle holds every module the app really imports during a chat.

    python packaging/check_modules.py        (after packaging/build.sh; run from the checkout)

Runs the *unfrozen* app (the installed package, in this Python) through ``--smoke-test`` against the loopback
fake server, records ``sys.modules`` at exit, and compares it with the modules PyInstaller froze
(``build/pyinstaller/desktop-assistant/modules.txt`` and ``base_library.zip``, both written by the build).
Static analysis cannot see imports done through ``importlib`` or by name (openai's lazy resources, pygments'
lexers): a module listed here as missing would fail in the bundle only when that code path runs. Exit code 1
when something is missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "pyinstaller" / "desktop-assistant"
sys.path.insert(0, str(ROOT))

from tests.fake_openai.server import FakeOpenAI, Reply  # noqa: E402

# Loaded by the unfrozen app but deliberately not frozen, or not modules of their own in a bundle.
IGNORED_PREFIXES = (
    "aiohttp", "aiohappyeyeballs", "aiosignal", "frozenlist", "multidict", "yarl", "propcache", "attr",  # dev only
    "_distutils_hack", "shibokensupport", "PySide6.support", "__feature__", "signature_bootstrap", "__main__",
    "_cython_", "cython_runtime", "_openssl", "typing.io", "typing.re", "zipp.compat.overlay",
    "_frozen_importlib", "site", "_sitebuiltins", "os.path",  # the interpreter's own; PyInstaller runs no site
    "http.cookies",  # aiohttp's
)
CHILD = r"""
import atexit, json, os, sys
atexit.register(lambda: open(os.environ["DA_MODULES_OUT"], "w").write(json.dumps(sorted(sys.modules))))
sys.argv = ["desktop-assistant", "--smoke-test", "Show me some Python"]
from desktop_assistant.launch import main
code = main()
open(os.environ["DA_MODULES_OUT"], "w").write(json.dumps(sorted(sys.modules)))
os._exit(code)
"""


def frozen_modules() -> set[str]:
    names = set((WORK / "modules.txt").read_text().split())
    with zipfile.ZipFile(WORK / "base_library.zip") as zf:
        for entry in zf.namelist():
            if entry.endswith(".pyc"):
                parts = entry[:-4].split("/")
                names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def loaded_modules() -> set[str]:
    server = FakeOpenAI()
    server.start()
    server.enqueue(Reply(text="Here:\n\n```python\nprint('hi')\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"))
    try:
        with tempfile.TemporaryDirectory() as home:
            out_file = Path(home) / "modules.json"
            env = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "XDG_", "OPENAI_"))}
            env.update(HOME=home, XDG_DATA_HOME=f"{home}/data", XDG_CONFIG_HOME=f"{home}/config",
                       QT_QPA_PLATFORM="offscreen", OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY="sk-modules-0",
                       DA_MODULES_OUT=str(out_file))
            subprocess.run([sys.executable, "-c", CHILD], env=env, cwd=home, check=True, timeout=120,
                           capture_output=True)
            return set(json.loads(out_file.read_text()))
    finally:
        server.stop()


def main() -> int:
    if not (WORK / "modules.txt").is_file():
        print(f"no {WORK / 'modules.txt'}: run packaging/build.sh first")
        return 2
    frozen = frozen_modules()
    loaded = loaded_modules()
    missing = sorted(m for m in loaded - frozen
                     if m not in sys.builtin_module_names and not m.startswith(IGNORED_PREFIXES))
    print(f"{len(loaded)} modules loaded by the unfrozen app, {len(frozen)} frozen")
    for name in missing:
        print("missing from the bundle:", name)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
