"""Child process for bench_start.py and bench_idle_memory.py: start the app (or a bare window) and report.

    python benchmarks/_launcher.py app|bare [--idle SECONDS] [--quit]

``app`` runs the real ``desktop_assistant.app.main()``; ``build`` is wrapped (not changed) so that a Paint
probe goes on the newest message of the conversation shown, i.e. the moment the transcript is painted.
``bare`` shows a QMainWindow with a QLabel of the same size. On the first paint the child prints one JSON line
``{"launcher": t0, "paint": t1}`` (``time.monotonic()``, comparable with the parent's clock) and exits; with
``--idle`` it waits until SECONDS after its start and adds ``rss_kb``. With ``--quit`` the app then closes as
when the person closes it (what it keeps at close is kept for the next start) instead of exiting at once.
"""

from __future__ import annotations

import time

T0 = time.monotonic()

import json  # noqa: E402 (after the start time on purpose)
import os  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402


def _rss_kb() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


HEAVY = ("openai", "pydantic", "numpy", "tiktoken", "keyring", "spellchecker", "PySide6.QtMultimedia")
"""Packages worth naming when they are loaded at idle (each costs from 8 to 45 MB, see benchmarks/README.md)."""


def _idle_details() -> dict[str, Any]:
    """What the process holds at idle, for the idle-memory benchmark's information line."""
    import linecache

    tokens = sys.modules.get("desktop_assistant.core.tokens")
    cached = sum(len(line) for entry in linecache.cache.values() if len(entry) > 2 for line in entry[2])
    return {"rss_kb": _rss_kb(), "modules": len(sys.modules), "linecache_mb": cached / 2**20,
            "loaded": [name for name in HEAVY if name in sys.modules],
            "encodings": sorted(getattr(tokens, "_encodings", {}))}


def _finish(paint: float, idle: float | None, extra: dict[str, Any], close: Any = None) -> None:
    from PySide6.QtCore import QTimer

    def done() -> None:
        out = {"launcher": T0, "paint": paint, **extra}
        if idle is not None:
            out.update(_idle_details())
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
        if close is not None:  # --quit: the app closes as when the person closes it, keeping what it keeps then
            close()
            return
        os._exit(0)  # the measure is taken: no need to time the shutdown

    wait_ms = 0 if idle is None else max(0, int((T0 + idle - time.monotonic()) * 1000))
    QTimer.singleShot(wait_ms, done)


def _probe(widget: Any, idle: float | None, extra: dict[str, Any], close: Any = None) -> Any:
    from PySide6.QtCore import QEvent, QObject

    class Probe(QObject):
        fired = False

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if not self.fired and event.type() == QEvent.Type.Paint:
                self.fired = True
                _finish(time.monotonic(), idle, extra, close)
            return False

    probe = Probe()
    widget.installEventFilter(probe)
    return probe


def run_app(idle: float | None, quit_after: bool = False) -> int:
    import desktop_assistant.launch  # noqa: F401  (first, as the app's entry points do)

    # isort: split
    import desktop_assistant.app as app_module

    real_build = app_module.build
    keep: list[Any] = []

    def build(*args: Any, **kwargs: Any) -> Any:
        parts = real_build(*args, **kwargs)
        views = parts.window.transcript.views
        target = views[max(views)].body.viewport() if views else parts.window
        close = parts.window.close if quit_after else None
        keep.append(_probe(target, idle, {"messages_built": len(views), "built": time.monotonic()}, close))
        return parts

    app_module.build = build  # type: ignore[assignment]  # wrapping, not replacing: main() is the app's own
    return app_module.main([sys.argv[0]])


def run_bare(idle: float | None) -> int:
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

    app = QApplication([sys.argv[0]])
    window = QMainWindow()
    label = QLabel("Hello from a bare PySide6 window")
    window.setCentralWidget(label)
    window.resize(1180, 780)
    probe = _probe(label, idle, {"built": time.monotonic()})
    window.show()
    code = app.exec()
    del probe
    return code


def main() -> int:
    mode = sys.argv[1]
    idle = float(sys.argv[sys.argv.index("--idle") + 1]) if "--idle" in sys.argv else None
    return run_app(idle, "--quit" in sys.argv) if mode == "app" else run_bare(idle)


if __name__ == "__main__":
    sys.exit(main())
