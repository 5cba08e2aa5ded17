"""Transcription (multipart upload) and speech through the gateway, against the loopback server."""

from __future__ import annotations

import math
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from desktop_assistant.core.audio import wav_bytes
from desktop_assistant.core.errors import ErrorKind, UserFacingError
from desktop_assistant.services.gateway import Endpoint, Gateway
from tests.fake_openai import FakeOpenAI, fixture

fake_openai = fixture.fake_openai


def tone(seconds: float, rate: int = 16_000) -> bytes:
    """A 440 Hz tone as a 16-bit mono WAV file."""
    samples = (int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(int(seconds * rate)))
    return wav_bytes(b"".join(struct.pack("<h", s) for s in samples), rate)


@asynccontextmanager
async def open_gateway(base_url: str) -> AsyncIterator[Gateway]:
    """A gateway without retries, closed afterwards."""
    gateway = Gateway(Endpoint(base_url=base_url, api_key="sk-test", max_retries=0, timeout=10.0))
    try:
        yield gateway
    finally:
        await gateway.close()


async def test_whisper_upload_is_multipart_and_reports_seconds(fake_openai: FakeOpenAI) -> None:
    fake_openai.audio.enqueue_transcript("Hello there.")
    audio = tone(2.5)
    async with open_gateway(fake_openai.base_url) as gateway:
        result = await gateway.transcribe("whisper-1", "recording.wav", audio)
    assert result.text == "Hello there."
    assert result.seconds == 3  # whisper-1 bills whole seconds of audio
    assert result.usage.estimated  # no tokens for a duration-billed model
    request = fake_openai.requests[-1]
    assert request.path == "/v1/audio/transcriptions"
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    upload = fake_openai.audio.uploads[-1]
    assert upload["model"] == "whisper-1" and upload["filename"] == "recording.wav" and upload["size"] == len(audio)
    assert upload["fields"]["response_format"] == b"json"


async def test_gpt4o_transcribe_reports_tokens(fake_openai: FakeOpenAI) -> None:
    fake_openai.audio.enqueue_transcript("Twelve words or so.")
    async with open_gateway(fake_openai.base_url) as gateway:
        result = await gateway.transcribe("gpt-4o-transcribe", "note.wav", tone(4.0))
    assert result.seconds is None
    assert result.usage.audio_input_tokens == 40 and result.usage.input_tokens == 40
    assert result.usage.output_tokens == len("Twelve words or so.") // 4 and not result.usage.estimated


@pytest.mark.parametrize(("name", "data", "words"), [
    ("notes.txt", b"just some text, not audio", "Invalid file format"),
    ("broken.wav", b"RIFF\x10\x00\x00\x00WAVEfmt " + b"\x00" * 6, "corrupted"),
])
async def test_bad_uploads_are_mapped_to_clear_errors(fake_openai: FakeOpenAI, name: str, data: bytes,
                                                      words: str) -> None:
    async with open_gateway(fake_openai.base_url) as gateway:
        with pytest.raises(UserFacingError) as caught:
            await gateway.transcribe("whisper-1", name, data)
    assert caught.value.kind is ErrorKind.BAD_REQUEST
    assert words in caught.value.message + (caught.value.detail or "")


async def test_speech_returns_the_audio_bytes(fake_openai: FakeOpenAI) -> None:
    async with open_gateway(fake_openai.base_url) as gateway:
        audio = await gateway.speak("tts-1", "nova", "Read this aloud.")
    assert audio.startswith(b"ID3") and audio.endswith(b"tts-1|nova|Read this aloud.")
    assert fake_openai.audio.spoken == [{"model": "tts-1", "voice": "nova", "input": "Read this aloud.",
                                         "response_format": "mp3"}]


async def test_speech_with_a_bad_key_says_so(fake_openai: FakeOpenAI) -> None:
    fake_openai.api_key = "sk-right"
    async with open_gateway(fake_openai.base_url) as gateway:
        with pytest.raises(UserFacingError) as caught:
            await gateway.speak("tts-1", "alloy", "Hi")
    assert caught.value.kind is ErrorKind.BAD_KEY
    assert fake_openai.audio.spoken == []


def test_multipart_fields_are_checked_with_their_json_types() -> None:
    path = fixture.openapi_spec_path()
    if path is None:
        pytest.skip("OpenAI's OpenAPI document is not here")
    from tests.fake_openai.spec import load_spec

    spec = load_spec(path)
    good = {"file": "RIFF…", "model": "whisper-1", "temperature": "0.2", "timestamp_granularities[]": "word",
            "response_format": "verbose_json"}
    assert spec.check_multipart("POST", "/audio/transcriptions", good) == []
    bad = spec.check_multipart("POST", "/audio/transcriptions", {"file": "x", "model": "whisper-1", "speed": "2"})
    assert bad and "speed" in bad[0]
    missing = spec.check_multipart("POST", "/audio/transcriptions", {"model": "whisper-1"})
    assert missing and "file" in missing[0]
