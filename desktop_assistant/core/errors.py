"""User-facing error kinds: what went wrong, said plainly, with the next step.

The gateway maps SDK exceptions to these once; everything above it only sees :class:`UserFacingError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class ErrorKind(Enum):
    """The small set of failures a person can act on."""

    BAD_KEY = "bad_key"
    PERMISSION = "permission"
    RATE_LIMITED = "rate_limited"
    QUOTA = "quota"
    CONTEXT_TOO_LONG = "context_too_long"
    MODEL_UNAVAILABLE = "model_unavailable"
    BAD_REQUEST = "bad_request"
    NETWORK = "network"
    SERVER = "server"
    TIMEOUT = "timeout"
    STREAM_BROKEN = "stream_broken"
    NO_KEY = "no_key"
    SPENDING_LIMIT = "spending_limit"
    STORAGE = "storage"
    BAD_INPUT = "bad_input"
    NO_VISION = "no_vision"
    INTERNAL = "internal"


class ErrorAction(Enum):
    """The button offered next to an error."""

    RETRY = "retry"
    OPEN_SETTINGS = "open_settings"
    TRIM_AND_RETRY = "trim_and_retry"
    CHOOSE_MODEL = "choose_model"
    SWITCH_TO_VISION = "switch_to_vision"
    EDIT_QUESTION = "edit_question"  # a reply's: the question it answers is edited (an image left out)
    NONE = "none"


@dataclass(eq=False)  # not frozen: a ``with`` block's exit sets ``__traceback__`` on the error passing through
class UserFacingError(Exception):
    """An error with a message fit to show a person, and the action that helps."""

    kind: ErrorKind
    message: str
    action: ErrorAction = ErrorAction.NONE
    retry_after: float | None = None
    request_id: str | None = None
    detail: str | None = None

    def __str__(self) -> str:
        return self.message
