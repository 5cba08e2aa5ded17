"""The error a person is shown passes through any ``with`` block as itself."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

import pytest

from desktop_assistant.core.errors import ErrorAction, ErrorKind, UserFacingError


@contextlib.contextmanager
def block() -> Iterator[None]:
    yield


@contextlib.asynccontextmanager
async def async_block() -> AsyncIterator[None]:
    yield


def test_it_leaves_a_with_block_as_itself() -> None:
    error = UserFacingError(ErrorKind.BAD_INPUT, "The server answered 404.", ErrorAction.NONE)
    with pytest.raises(UserFacingError) as caught, block():
        raise error
    assert caught.value is error and str(caught.value) == "The server answered 404."


async def test_it_leaves_an_async_with_block_as_itself() -> None:
    error = UserFacingError(ErrorKind.BAD_INPUT, "Not an image.")
    with pytest.raises(UserFacingError) as caught:
        async with async_block():
            raise error
    assert caught.value is error
