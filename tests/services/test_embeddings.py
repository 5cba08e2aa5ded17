"""Embeddings through the gateway against the loopback server (real HTTP, spec-checked bodies)."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_assistant.core.errors import ErrorKind, UserFacingError
from desktop_assistant.core.vectors import unit_vector
from tests.fake_openai import FakeOpenAI, fixture
from tests.services.test_gateway import open_gateway

fake_openai = fixture.fake_openai


async def test_embed_returns_vectors_in_order_with_usage(fake_openai: FakeOpenAI) -> None:
    fake_openai.embeddings.concepts = {"vehicle": ["car", "automobile"]}
    async with open_gateway(fake_openai.base_url) as gateway:
        raw, usage = await gateway.embed("text-embedding-3-small", ["car", "automobile", "banana"], 256)
    body = fake_openai.requests[-1].json
    assert body["dimensions"] == 256 and body["encoding_format"] == "base64"
    vectors = [unit_vector(r) for r in raw]
    assert all(v.shape == (256,) for v in vectors)
    assert float(np.dot(vectors[0], vectors[1])) == pytest.approx(1.0)
    assert float(np.dot(vectors[0], vectors[2])) == pytest.approx(0.0)
    assert usage.input_tokens > 0 and not usage.estimated


async def test_an_endpoint_without_embeddings_is_model_unavailable(fake_openai: FakeOpenAI) -> None:
    fake_openai.embeddings.available = False
    async with open_gateway(fake_openai.base_url) as gateway:
        with pytest.raises(UserFacingError) as caught:
            await gateway.embed("text-embedding-3-small", ["hello"])
    assert caught.value.kind is ErrorKind.MODEL_UNAVAILABLE


async def test_too_long_an_input_is_a_bad_request(fake_openai: FakeOpenAI) -> None:
    async with open_gateway(fake_openai.base_url) as gateway:
        with pytest.raises(UserFacingError) as caught:
            await gateway.embed("text-embedding-3-small", ["word " * 40_000])
    assert caught.value.kind in (ErrorKind.BAD_REQUEST, ErrorKind.CONTEXT_TOO_LONG)
