"""Files and batches through the gateway against the loopback server; multipart uploads are spec-checked."""

from __future__ import annotations

import openai
import pytest

from desktop_assistant.core.errors import ErrorKind, UserFacingError
from desktop_assistant.services.gateway import Endpoint, Gateway
from tests.fake_openai import fixture
from tests.fake_openai.fixture import openapi_spec_path
from tests.fake_openai.server import FakeOpenAI, Reply

fake_openai = fixture.fake_openai


async def test_upload_create_poll_download(fake_openai: FakeOpenAI) -> None:
    gateway = Gateway(Endpoint(fake_openai.base_url, "sk-test", max_retries=0))
    try:
        line = ('{"custom_id":"row-0","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini",'
                '"messages":[{"role":"user","content":"hi"}],"max_completion_tokens":5}}\n')
        file_id = await gateway.upload_file("in.jsonl", line.encode())
        fake_openai.enqueue(Reply(text="hello"))
        info = await gateway.create_batch(file_id, {"run": "x"})
        assert info.status == "validating" and info.total == 1
        statuses = [(await gateway.retrieve_batch(info.id)).status for _ in range(2)]
        assert statuses == ["in_progress", "completed"]
        done = await gateway.retrieve_batch(info.id)
        assert done.completed == 1 and done.output_file_id and done.error_file_id is None
        assert '"custom_id": "row-0"' in await gateway.file_content(done.output_file_id)
        with pytest.raises(UserFacingError) as missing:
            await gateway.retrieve_batch("batch_nope")
        assert missing.value.kind is ErrorKind.MODEL_UNAVAILABLE or missing.value.message
    finally:
        await gateway.close()


@pytest.mark.skipif(openapi_spec_path() is None, reason="OpenAI's OpenAPI document is not available")
async def test_a_bad_upload_and_a_bad_batch_line_are_spec_violations() -> None:
    server = FakeOpenAI(spec_path=openapi_spec_path())
    server.start()
    client = openai.AsyncOpenAI(api_key="sk", base_url=server.base_url, max_retries=0)
    try:
        await client.files.create(file=("x.jsonl", b"{}\n"), purpose="nonsense")  # type: ignore[arg-type]
        bad_line = b'{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"m"}}\n'
        await client.files.create(file=("y.jsonl", bad_line), purpose="batch")
    finally:
        await client.close()
        server.stop()
    text = "\n".join(server.violations)
    assert "purpose" in text and "'nonsense' is not one of" in text
    assert "batch input y.jsonl: line 1" in text and "messages" in text
