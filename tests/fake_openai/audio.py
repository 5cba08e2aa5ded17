"""``/audio/transcriptions`` (multipart upload) and ``/audio/speech`` of the fake server.

Answers the way OpenAI does: whisper-1 reports the audio's duration (``{"type": "duration", "seconds": N}``),
the gpt-4o transcribe models report tokens (``{"type": "tokens", ...}``); a file that is not audio, a damaged
one and one over the 25 MB limit get OpenAI's own errors. Speech answers with MP3-shaped bytes that name the
model, voice and text, so a test can tell which request produced which audio.
"""

from __future__ import annotations

import collections
import io
import math
import threading
import wave
from typing import Any

from .wire import openai_error

UPLOAD_LIMIT = 26_214_400  # 25 MB, as the API counts it
SUPPORTED = ["flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm"]
AUDIO_TOKENS_PER_SECOND = 10  # roughly what gpt-4o-transcribe reports for speech


def _audio_kind(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3"
    if data[:4] in (b"fLaC", b"OggS", b"\x1a\x45\xdf\xa3") or data[4:8] == b"ftyp":
        return "other"
    return None


def _wav_seconds(data: bytes) -> float | None:
    try:
        with wave.open(io.BytesIO(data), "rb") as reader:
            frames, rate = reader.getnframes(), reader.getframerate()
            if len(reader.readframes(frames)) == 0 and frames > 0:
                return None
    except (wave.Error, EOFError):
        return None
    return frames / rate if rate else None


class FakeAudio:
    """Scripted transcriptions and speech, with what was uploaded kept for the test to look at."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._texts: collections.deque[str] = collections.deque()
        self.uploads: list[dict[str, Any]] = []  # {"model", "filename", "size", "fields"} per transcription
        self.spoken: list[dict[str, Any]] = []  # request bodies of /audio/speech
        self._failures: collections.deque[int] = collections.deque()  # statuses the next transcriptions fail with
        self.speech_failures: dict[int, int] = {}  # the n-th speech request (from 1) -> the status it fails with
        self._speech_requests = 0

    def enqueue_transcript(self, *texts: str) -> None:
        """Texts the next transcriptions return, in order (afterwards: a text naming the upload's size)."""
        with self._lock:
            self._texts.extend(texts)

    def enqueue_failure(self, *statuses: int) -> None:
        """The next transcriptions fail with these statuses (a server error's body), in order."""
        with self._lock:
            self._failures.extend(statuses)

    def transcribe(self, form: dict[str, tuple[str | None, bytes]] | None) -> tuple[int, dict[str, Any]]:
        """The answer to ``POST /audio/transcriptions`` (status, JSON body)."""
        with self._lock:
            failure = self._failures.popleft() if self._failures else None
        if failure is not None:
            return failure, openai_error("The server had an error while processing your request.",
                                         type="server_error")
        if form is None or "file" not in form or "model" not in form:
            missing = "file" if form is None or "file" not in form else "model"
            return 400, openai_error(f"you must provide a {missing} parameter", param=missing)
        filename, data = form["file"]
        model = form["model"][1].decode()
        with self._lock:
            self.uploads.append({"model": model, "filename": filename, "size": len(data),
                                 "fields": {k: v[1] for k, v in form.items() if k != "file"}})
        if len(data) > UPLOAD_LIMIT:
            return 413, openai_error(f"Maximum content size limit ({UPLOAD_LIMIT}) exceeded ({len(data)} bytes read)",
                                     type="server_error")
        kind = _audio_kind(data)
        if kind is None:
            return 400, openai_error(f"Invalid file format. Supported formats: {SUPPORTED}", param="file",
                                     code="invalid_value")
        seconds = _wav_seconds(data) if kind == "wav" else max(1.0, len(data) / 16_000)
        if seconds is None:
            return 400, openai_error("Audio file might be corrupted or unsupported", param="file",
                                     code="invalid_value")
        with self._lock:
            text = self._texts.popleft() if self._texts else f"Transcribed {len(data)} bytes."
        if model == "whisper-1":
            return 200, {"text": text, "usage": {"type": "duration", "seconds": math.ceil(seconds)}}
        audio_tokens = max(1, round(seconds * AUDIO_TOKENS_PER_SECOND))
        output = max(1, len(text) // 4)
        return 200, {"text": text, "usage": {
            "type": "tokens", "input_tokens": audio_tokens, "output_tokens": output,
            "total_tokens": audio_tokens + output,
            "input_token_details": {"text_tokens": 0, "audio_tokens": audio_tokens}}}

    def speech(self, body: Any) -> tuple[int, bytes | dict[str, Any]]:
        """The answer to ``POST /audio/speech``: MP3-shaped bytes, or an error body."""
        if not isinstance(body, dict) or not body.get("input") or not body.get("voice") or not body.get("model"):
            return 400, openai_error("input, model and voice are required")
        with self._lock:
            self._speech_requests += 1
            failure = self.speech_failures.get(self._speech_requests)
            if failure is None:
                self.spoken.append(body)
        if failure is not None:
            return failure, openai_error("The server had an error while processing your request.", "server_error")
        header = b"ID3\x04\x00\x00\x00\x00\x00\x00"
        return 200, header + f"{body['model']}|{body['voice']}|{body['input']}".encode()
