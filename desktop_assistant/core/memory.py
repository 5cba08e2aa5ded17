"""Handing freed memory back to the system after a large, short-lived parse (a vocabulary, a word list)."""

from __future__ import annotations

import sys


def malloc_trim() -> None:
    """Return the C heap's free pages to the system (``malloc_trim(0)`` on glibc; nothing elsewhere).

    CPython keeps freed small objects in its own arenas and glibc keeps freed heap pages, so after building
    and dropping millions of temporary objects the resident size stays high until this is called. Call it
    after ``gc.collect()``; it is harmless to call again.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes  # imported here: ctypes.util costs ~10 ms of start-up
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim  # glibc only (musl has none)
    except (OSError, AttributeError):
        return
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    trim(0)
