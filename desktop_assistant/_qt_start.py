"""A cheaper check in PySide6's import hook, installed before the app's own modules are imported.

PySide6 hooks every import made after it is loaded: for each new module it asks whether the module uses
PySide6 (for its opt-in ``__feature__`` switches) by reading the module's source with ``inspect.getsource``,
which splits the whole file into lines through ``linecache``. Across the few hundred modules the app
imports that was about a tenth of the start-up time. The answer is the same when the file's bytes are
searched directly, which is what this does; a module without a ``.py`` file (built in, compiled, frozen)
uses no feature, as before.
"""

from __future__ import annotations

from types import ModuleType

import PySide6.QtCore  # noqa: F401  (loads shibokensupport, whose hook is replaced here)


def _uses_pyside(module: ModuleType) -> bool:
    path = getattr(module, "__file__", None)
    if not isinstance(path, str) or not path.endswith(".py"):
        return False
    try:
        with open(path, "rb") as source:
            return b"PySide6" in source.read()
    except OSError:
        return False


def install() -> bool:
    """Replace the hook's source check; False when this PySide6 has no such check (nothing to do)."""
    try:
        import shibokensupport.feature as feature
    except ImportError:
        return False
    if not callable(getattr(feature, "_mod_uses_pyside", None)):
        return False
    feature._mod_uses_pyside = _uses_pyside
    return True


install()
