"""Keys are masked wherever they could be shown or logged."""

from __future__ import annotations

import pytest

from desktop_assistant.core.redact import mask_key, redact


@pytest.mark.parametrize(("key", "shown"), [
    ("sk-abcdefghijklmnop1234", "sk-...1234"),
    ("sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX9876", "sk-...9876"),
    ("ollama-local-token-5555", "ol...5555"),
    ("short", "…"),  # too short to show any of it
])
def test_mask_key(key: str, shown: str) -> None:
    assert mask_key(key) == shown


def test_redact_known_secret_and_key_shapes() -> None:
    text = ("Incorrect API key provided: sk-proj-ABCDEFGHIJKLMNOP0001. header Authorization: Bearer "
            "abcdefghijklmnopqrstuvwxyz0002 custom token my-own-secret-0003")
    masked = redact(text, ["my-own-secret-0003"])
    for secret in ("sk-proj-ABCDEFGHIJKLMNOP0001", "abcdefghijklmnopqrstuvwxyz0002", "my-own-secret-0003"):
        assert secret not in masked
    assert "sk-...0001" in masked and "Bearer ab...0002" in masked and "my...0003" in masked


def test_redact_leaves_ordinary_text_alone() -> None:
    text = "Ask for a task-list, skim the sk- prefix docs, 1234567890."
    assert redact(text) == text


def test_redact_masks_a_password_in_a_url_and_keeps_the_rest() -> None:
    text = ("Could not reach https://me:hunter2-secret@llm.example.com/v1. Proxy http://proxyuser:p%40ss@10.0.0.1:3128 "
            "and http://localhost:11434/v1 and mailto:someone@example.com")
    masked = redact(text)
    assert "hunter2-secret" not in masked and "p%40ss" not in masked
    assert "https://me:…@llm.example.com/v1" in masked and "http://proxyuser:…@10.0.0.1:3128" in masked
    assert "http://localhost:11434/v1" in masked and "mailto:someone@example.com" in masked
