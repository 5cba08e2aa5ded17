"""SDK exceptions mapped once to what a person can act on (:class:`UserFacingError`)."""

from __future__ import annotations

import re
from typing import Any

from desktop_assistant.core.errors import ErrorAction, ErrorKind, UserFacingError


def _retry_after(exc: Any) -> float | None:
    response = getattr(exc, "response", None)
    if response is None:
        return None
    try:
        if (ms := response.headers.get("retry-after-ms")) is not None:
            return float(ms) / 1000
        value = response.headers.get("retry-after")
        return float(value) if value is not None else None
    except ValueError:
        return None


_WAIT_IN_WORDS = re.compile(r"try again in ((?:\d+(?:\.\d+)?(?:ms|h|m|s))+)", re.I)
_WAIT_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def wait_in_words(text: str) -> float | None:
    """The wait a rate-limit message asks for in its words ("Please try again in 1.4s", "in 20ms", "in 6m0s"),
    in seconds; None when it names none (a server sends it so when it sends no Retry-After header)."""
    found = _WAIT_IN_WORDS.search(text)
    if found is None:
        return None
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", found.group(1), re.I)
    return sum(float(number) * _WAIT_UNITS[unit.lower()] for number, unit in parts)


def endpoint_not_found(base_url: str) -> str:
    """What a 404 that is not about a model means: the base URL is not where the API is."""
    where = base_url or "the base URL"
    hint = ""
    if base_url and not base_url.rstrip("/").endswith("/v1"):
        hint = f" Most servers have it under /v1: did you mean {base_url.rstrip('/')}/v1?"
    return f"No OpenAI-compatible API answered at {where} (the server said “not found”).{hint} Check the base URL " \
           "in Settings."


_ERROR_CODE = re.compile(r"^Error code: \d+ - ")


def server_says(exc: BaseException) -> str:
    """What the server said about a refused request, as its own words: the ``message`` of its error body, not the
    SDK's "Error code: 400 - {'error': {...}}" wrapping (developer wording, shown to people)."""
    body = getattr(exc, "body", None)
    said = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(said, dict) and isinstance(said.get("message"), str) and said["message"].strip():
        return str(said["message"]).strip()
    if isinstance(said, str) and said.strip():
        return said.strip()
    return _ERROR_CODE.sub("", str(getattr(exc, "message", exc))).strip()


def map_error(exc: BaseException, *, model: str = "", base_url: str = "", streaming: bool = False) -> UserFacingError:
    """The user-facing error for ``exc`` (an openai or transport exception).

    ``streaming``: the reply had started arriving, so a broken connection means a broken stream.
    """
    import openai

    if isinstance(exc, UserFacingError):
        return exc
    request_id = getattr(exc, "request_id", None)
    detail = f"{type(exc).__name__}: {exc}"

    def err(kind: ErrorKind, message: str, action: ErrorAction = ErrorAction.NONE, **kw: Any) -> UserFacingError:
        return UserFacingError(kind, message, action, request_id=request_id, detail=detail, **kw)

    if isinstance(exc, openai.APITimeoutError):
        return err(ErrorKind.TIMEOUT, "The server took too long to answer. Try again, or raise the timeout in "
                   "Settings.", ErrorAction.RETRY)
    if isinstance(exc, ValueError) and streaming:  # a malformed event (json.JSONDecodeError is a ValueError)
        return err(ErrorKind.STREAM_BROKEN, "The server sent part of the reply in a form that could not be read. "
                   "What arrived is kept; Retry asks for the whole reply again.", ErrorAction.RETRY)
    if isinstance(exc, openai.APIConnectionError) and streaming:
        return err(ErrorKind.STREAM_BROKEN, "The connection broke while the reply was arriving. What arrived is "
                   "kept; Retry asks for the whole reply again.", ErrorAction.RETRY)
    if isinstance(exc, openai.APIConnectionError):
        where = base_url or "the server"
        return err(ErrorKind.NETWORK, f"Could not reach {where}. Check your connection and the base URL in "
                   "Settings, then try again.", ErrorAction.RETRY)
    if isinstance(exc, openai.AuthenticationError):
        return err(ErrorKind.BAD_KEY, "The API key was not accepted. Check it in Settings.",
                   ErrorAction.OPEN_SETTINGS)
    if isinstance(exc, openai.PermissionDeniedError):
        return err(ErrorKind.PERMISSION, "This key is not allowed to do that (for example, the model or the "
                   "organization is not enabled for it). Check Settings or choose another model.",
                   ErrorAction.OPEN_SETTINGS)
    if isinstance(exc, openai.RateLimitError):
        if getattr(exc, "code", None) == "insufficient_quota":
            return err(ErrorKind.QUOTA, "Your OpenAI account has run out of credit. Add credit in your OpenAI "
                       "billing settings, then try again.", ErrorAction.NONE)
        wait = _retry_after(exc)
        if wait is None:
            wait = wait_in_words(server_says(exc))
        when = f" Wait about {wait:.0f} s" if wait and wait >= 1 else " Wait a moment"
        return err(ErrorKind.RATE_LIMITED, f"The server is limiting requests right now.{when} and try again.",
                   ErrorAction.RETRY, retry_after=wait)
    if isinstance(exc, openai.NotFoundError):
        said = str(getattr(exc, "message", exc))
        if getattr(exc, "code", None) == "model_not_found" or re.search(r"\bmodel\b", said, re.I):
            name = f"The model “{model}” is" if model else "That model is"
            return err(ErrorKind.MODEL_UNAVAILABLE, f"{name} not available on this endpoint. Choose another model.",
                       ErrorAction.CHOOSE_MODEL)
        # not about a model: nothing OpenAI-compatible at this address (often a base URL without its /v1)
        return err(ErrorKind.NETWORK, endpoint_not_found(base_url), ErrorAction.OPEN_SETTINGS)
    if isinstance(exc, openai.BadRequestError):
        code = getattr(exc, "code", None) or ""
        text = server_says(exc)
        if code == "context_length_exceeded" or re.search(r"context length|too many tokens", text, re.I):
            return err(ErrorKind.CONTEXT_TOO_LONG, "The conversation is too long for this model. Leave out "
                       "older messages and try again, or choose a model with a larger context.",
                       ErrorAction.TRIM_AND_RETRY)
        if code == "model_not_found":
            return err(ErrorKind.MODEL_UNAVAILABLE, f"The model “{model}” is not available. Choose another.",
                       ErrorAction.CHOOSE_MODEL)
        return err(ErrorKind.BAD_REQUEST, f"The server refused the request: {text}", ErrorAction.NONE)
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code >= 500:
            return err(ErrorKind.SERVER, f"The server had a problem ({exc.status_code}). Try again in a moment.",
                       ErrorAction.RETRY)
        return err(ErrorKind.BAD_REQUEST, f"The server refused the request ({exc.status_code}): {server_says(exc)}")
    if isinstance(exc, openai.APIError) and not isinstance(exc, openai.APIResponseValidationError) \
            and exc.body is not None:
        # an error event in the stream (``{"error": {...}}`` after some chunks): the server's own words
        said = server_says(exc)
        end = "" if said.endswith((".", "!", "?")) else "."
        return err(ErrorKind.SERVER, f"The server reported an error while the reply was arriving: {said}{end} What "
                   "arrived is kept; Retry asks for the whole reply again.", ErrorAction.RETRY)
    if isinstance(exc, openai.APIError | OSError) or type(exc).__module__.split(".")[0] in {"httpx2", "httpcore2"}:
        return err(ErrorKind.STREAM_BROKEN, "The connection broke while the reply was arriving. What arrived is "
                   "kept; Retry asks for the whole reply again.", ErrorAction.RETRY)
    return err(ErrorKind.INTERNAL, f"Unexpected error: {detail}")
