"""The app's entry point: the ``desktop-assistant`` command, ``python -m desktop_assistant`` and the frozen app.

The cyclic garbage collector is off from here to the first paint. Start-up creates a few hundred thousand objects
that live as long as the app (modules, classes, enums, Qt wrappers), and collections while they were created
walked them again and again (~60 collections, ~10 ms before the paint). At the paint they are moved out of the
collector's reach and it is turned back on (:func:`desktop_assistant.app.main`). Nothing else is imported
before it is turned off, so that importing the app is covered too.
"""

from __future__ import annotations

import gc

gc.disable()


def main(argv: list[str] | None = None) -> int:
    """Start the app; returns the process exit code."""
    from desktop_assistant.app import main as run

    return run(argv)
