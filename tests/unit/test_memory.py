"""Memory housekeeping: malloc_trim finds glibc's function once and starts no process to do it."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from desktop_assistant.core import memory


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_malloc_trim_uses_glibc_without_starting_a_process(monkeypatch: pytest.MonkeyPatch) -> None:
    memory._malloc_trim_function.cache_clear()

    def no_process(*args: object, **kwargs: object) -> None:
        raise AssertionError("malloc_trim started a process")

    monkeypatch.setattr(subprocess.Popen, "__init__", no_process)  # ctypes.util.find_library runs ldconfig
    freed = [bytearray(100) for _ in range(200_000)]
    del freed
    memory.malloc_trim()
    memory.malloc_trim()  # harmless again
    assert memory._malloc_trim_function() is not None
    assert memory._malloc_trim_function.cache_info().misses == 1
