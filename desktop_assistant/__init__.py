"""Desktop Assistant: a fast, trustworthy desktop window onto the OpenAI API.

``__version__`` is read on first use (a module ``__getattr__``): importing :mod:`importlib.metadata` costs
~40 ms of start-up (email, zipfile, csv), so the installed ``*.dist-info/METADATA`` is looked up directly on
``sys.path`` first and :func:`importlib.metadata.version` is only the fallback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "Desktop Assistant"
APP_ID = "desktop-assistant"

RESOURCES = Path(__file__).parent / "resources"
"""The app's data files (vocabularies, prices, icons): beside the code in a wheel and in the frozen app alike.
A plain path: :mod:`importlib.resources` cost ~3 ms before the first paint for the same answer."""

_DIST_PREFIX = "desktop_assistant-"


def _version_from_dist_info() -> str | None:
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            lowered = name.lower()
            if not (lowered.startswith(_DIST_PREFIX) and lowered.endswith(".dist-info")):
                continue
            try:
                with open(os.path.join(entry or ".", name, "METADATA"), encoding="utf-8") as metadata:
                    for line in metadata:
                        if line.startswith("Version:"):
                            return line.split(":", 1)[1].strip()
                        if not line.strip():  # end of the headers
                            break
            except OSError:
                continue
    return None


def _read_version() -> str:
    found = _version_from_dist_info()
    if found:
        return found
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("desktop-assistant")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0.0.0"


def __getattr__(name: str) -> str:
    if name == "__version__":
        value = _read_version()
        globals()["__version__"] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
