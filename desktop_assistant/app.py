"""The composition root: builds the services, the controllers and the main window, and runs the qasync loop."""

from __future__ import annotations

import asyncio
import logging
import sys

from desktop_assistant import APP_ID, APP_NAME, __version__


def main(argv: list[str] | None = None) -> int:
    """Start the app; returns the process exit code."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    import qasync
    from PySide6.QtWidgets import QApplication, QMainWindow

    from desktop_assistant.controllers.lifecycle import Lifecycle
    from desktop_assistant.controllers.notices import NoticeBus, install_exception_hooks
    from desktop_assistant.controllers.runner import OperationRunner

    app = QApplication(sys.argv if argv is None else argv)
    app.setApplicationName(APP_ID)
    app.setApplicationDisplayName(APP_NAME)
    app.setApplicationVersion(__version__)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    notices = NoticeBus()
    install_exception_hooks(notices, loop)
    runner = OperationRunner(notices)
    Lifecycle(runner, quit=app.quit)
    window = QMainWindow()
    window.setWindowTitle(APP_NAME)
    window.resize(1100, 760)
    window.show()
    with loop:
        loop.run_forever()
    return 0
