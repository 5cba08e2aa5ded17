"""Memory housekeeping: handing freed memory back to the system after a large, short-lived parse (a vocabulary,
a word list), and keeping long-lived objects out of the garbage collector's full passes."""

from __future__ import annotations

import functools
import gc
import sys
from collections.abc import Callable
from typing import cast


def malloc_trim() -> None:
    """Return the C heap's free pages to the system (``malloc_trim(0)`` on glibc; nothing elsewhere).

    CPython keeps freed small objects in its own arenas and glibc keeps freed heap pages, so after building
    and dropping millions of temporary objects the resident size stays high until this is called. Call it
    after ``gc.collect()``; it is harmless to call again.
    """
    trim = _malloc_trim_function()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim_function() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes  # imported here: ctypes costs a few ms of start-up

    try:
        # the symbols already loaded into the process, the C library's among them; ctypes.util.find_library
        # would run ``ldconfig -p`` in a subprocess at every call
        trim = ctypes.CDLL(None).malloc_trim  # glibc only (musl has none)
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return cast("Callable[[int], int]", trim)


def keep_out_of_full_collections() -> None:
    """Move every object alive now (modules, the SDK's classes and models, Qt wrappers) out of the cyclic
    garbage collector's reach (``gc.freeze``): they live as long as the app, and a full collection that walks
    them all took 45-60 ms, a visible stall when it fell in the middle of a streamed reply. Cheap (no walk);
    call it after a large import, when what was built will stay. Objects are still freed by reference count.
    """
    gc.freeze()
