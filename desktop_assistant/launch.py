"""The app's entry point: the ``desktop-assistant`` command, ``python -m desktop_assistant`` and the frozen app.

The cyclic garbage collector is off from here to the first paint. Start-up creates a few hundred thousand objects
that live as long as the app (modules, classes, enums, Qt wrappers), and collections while they were created
walked them again and again (~60 collections, ~10 ms before the paint). At the paint they are moved out of the
collector's reach and it is turned back on (:func:`desktop_assistant.app.main`). Nothing else is imported
before it is turned off, so that importing the app is covered too.

For the same stretch, the enums PySide6 makes as its classes are first used are made the quicker way of
:mod:`desktop_assistant._enum_start` (~230 enums before the first paint: ~35 ms the stock way, ~16 ms so).
"""

from __future__ import annotations

import gc

gc.disable()

from desktop_assistant import _enum_start  # noqa: E402  (before PySide6 is imported)

_enum_start.install()


def main(argv: list[str] | None = None) -> int:
    """Start the app; returns the process exit code."""
    from desktop_assistant.app import main as run

    return run(argv)
