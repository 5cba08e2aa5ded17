"""Fetching an image from a URL the person typed or dropped (never anything a model wrote)."""

from __future__ import annotations

from desktop_assistant.core.errors import ErrorAction, ErrorKind, UserFacingError

TIMEOUT = 20.0


def _refuse(message: str) -> UserFacingError:
    return UserFacingError(ErrorKind.BAD_INPUT, message, ErrorAction.NONE)


async def fetch_image(url: str, max_bytes: int) -> bytes:
    """The bytes at ``url`` (http or https only), at most ``max_bytes``; a clear error otherwise."""
    import httpx2

    if not url.lower().startswith(("http://", "https://")):
        raise _refuse(f"“{url}” is not a web address (http or https).")
    try:
        async with httpx2.AsyncClient(timeout=TIMEOUT, follow_redirects=True) as client, \
                client.stream("GET", url) as response:
            if response.status_code >= 400:
                raise _refuse(f"The image at {url} could not be fetched (the server answered {response.status_code}).")
            kind = response.headers.get("content-type", "")
            if kind and not kind.startswith("image/") and not kind.startswith("application/octet-stream"):
                raise _refuse(f"{url} is not an image (it is {kind.split(';')[0]}).")
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > max_bytes:
                    raise _refuse(f"The image at {url} is larger than {max_bytes // 1024 // 1024} MB.")
            return bytes(data)
    except UserFacingError:
        raise
    except Exception as exc:
        raise _refuse(f"The image at {url} could not be fetched: {type(exc).__name__}. Check the address and "
                      "your connection.") from exc
