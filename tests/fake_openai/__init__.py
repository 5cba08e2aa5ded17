"""A loopback OpenAI-compatible server for tests (real HTTP, scripted replies, spec-checked requests)."""

from .server import DEFAULT_MODELS, FakeOpenAI, RecordedRequest
from .wire import (
    Reply,
    context_length_error,
    insufficient_quota_error,
    make_usage,
    openai_error,
)

__all__ = [
    "DEFAULT_MODELS",
    "FakeOpenAI",
    "RecordedRequest",
    "Reply",
    "context_length_error",
    "insufficient_quota_error",
    "make_usage",
    "openai_error",
]
