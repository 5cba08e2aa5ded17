"""The app's event loop: qasync's, with asyncio's async-generator hooks installed.

qasync runs Qt's loop instead of asyncio's ``run_forever``, so the hooks asyncio installs there are missing:
an async generator abandoned mid-iteration (the SDK's byte stream after a broken connection) would then be
finalised by the garbage collector outside any loop and fail noisily. With the hooks it is closed on the loop.
"""

from __future__ import annotations

import sys
from typing import Any

import qasync
from PySide6.QtCore import QCoreApplication


class AppEventLoop(qasync.QEventLoop):
    """qasync's loop with asyncio's async-generator hooks while it runs."""

    def run_forever(self) -> Any:
        """Run Qt's loop with the hooks installed (restored afterwards)."""
        old = sys.get_asyncgen_hooks()
        sys.set_asyncgen_hooks(firstiter=self._asyncgen_firstiter_hook, finalizer=self._asyncgen_finalizer_hook)
        try:
            return super().run_forever()
        finally:
            sys.set_asyncgen_hooks(*old)


def make_event_loop(app: QCoreApplication) -> AppEventLoop:
    """The event loop for ``app``."""
    return AppEventLoop(app)
