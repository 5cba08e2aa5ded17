"""Pure audio helpers: format sniffing, WAV checks, silence, splitting, speech chunks and audio costs."""

from __future__ import annotations

import math
import struct
from decimal import Decimal

import pytest

from desktop_assistant.core import audio
from desktop_assistant.core.models import Usage
from desktop_assistant.core.pricing import AudioPrice, PriceTable


def tone_pcm(seconds: float, rate: int = 16_000, amplitude: int = 8000) -> bytes:
    """A 440 Hz sine as 16-bit little-endian PCM."""
    return b"".join(struct.pack("<h", int(amplitude * math.sin(2 * math.pi * 440 * i / rate)))
                    for i in range(int(seconds * rate)))


def test_sniff_recognises_formats_by_their_first_bytes() -> None:
    assert audio.sniff(audio.wav_bytes(b"\x00\x00")) == "wav"
    assert audio.sniff(b"ID3\x04rest") == "mp3"
    assert audio.sniff(b"\xff\xfb\x90\x00") == "mp3"
    assert audio.sniff(b"fLaC....") == "flac"
    assert audio.sniff(b"OggS....") == "ogg"
    assert audio.sniff(b"\x00\x00\x00\x20ftypM4A ") == "m4a"
    assert audio.sniff(b"\x1a\x45\xdf\xa3....") == "webm"
    assert audio.sniff(b"hello, world") is None


def test_a_wav_file_reports_its_duration() -> None:
    found = audio.check_audio("hello.wav", audio.wav_bytes(tone_pcm(1.5)))
    assert found.format == "wav" and found.seconds == pytest.approx(1.5) and found.parts == 1


def test_level_and_silence() -> None:
    assert audio.level(b"") == 0.0
    assert audio.is_silent(bytes(32_000))
    assert audio.is_silent(struct.pack("<4h", 3, -3, 2, -2))  # hiss well below speech
    assert not audio.is_silent(tone_pcm(0.1))
    assert audio.level(struct.pack("<2h", -32768, -32768)) == 1.0
    assert audio.level(tone_pcm(0.1)) == pytest.approx(8000 / 32768 / math.sqrt(2), rel=0.01)


@pytest.mark.parametrize(("name", "data", "words"), [
    ("empty.wav", b"", "is empty"),
    ("silence.wav", audio.wav_bytes(bytes(16_000)), "is silent"),
    ("notes.txt", b"a shopping list", "is not an audio file"),
    ("talk.mp3", b"<html>not really mp3</html>", "may be damaged"),
    ("cut.wav", audio.wav_bytes(tone_pcm(0.1))[:30], "damaged"),
])
def test_bad_input_is_refused_with_a_clear_sentence(name: str, data: bytes, words: str) -> None:
    with pytest.raises(audio.AudioProblem) as caught:
        audio.check_audio(name, data)
    assert words in str(caught.value) and name in str(caught.value)


def test_a_compressed_file_over_the_limit_is_refused() -> None:
    big = b"ID3" + bytes(audio.UPLOAD_LIMIT_BYTES)
    with pytest.raises(audio.AudioProblem) as caught:
        audio.check_audio("lecture.mp3", big)
    assert "at most 25 MB" in str(caught.value)


def test_a_thirty_minute_wav_is_split_into_parts_under_the_limit() -> None:
    second = tone_pcm(1.0)
    big = audio.wav_bytes(second * 1800)  # 30 minutes of 16 kHz mono 16-bit: about 58 MB
    found = audio.check_audio("meeting.wav", big)
    assert found.seconds == pytest.approx(1800) and found.parts == 3
    parts = audio.split_wav(big)
    assert len(parts) == 3 and all(len(p) <= audio.SPLIT_TARGET_BYTES for p in parts)
    assert sum(audio.read_wav(p).frames for p in parts) == 1800 * 16_000
    assert audio.split_wav(b"small") == [b"small"]


def test_split_plan_covers_every_frame_once() -> None:
    plan = audio.split_plan(1001, 2, target=264)
    assert plan[0] == (0, 100) and plan[-1] == (1000, 1001)
    assert sum(b - a for a, b in plan) == 1001


def test_speech_chunks_cut_at_sentence_ends_under_the_limit() -> None:
    text = "One sentence here. " * 400  # 7,600 characters
    chunks = audio.speech_chunks(text)
    assert len(chunks) == 2 and all(len(c) <= audio.SPEECH_INPUT_LIMIT for c in chunks)
    assert all(c.endswith(".") for c in chunks)
    assert " ".join(chunks) == text.strip()
    assert audio.speech_chunks("  short  ") == ["short"]
    assert audio.speech_chunks("") == []


def test_audio_prices_from_the_bundled_table() -> None:
    table = PriceTable.load_default()
    assert table.audio["whisper-1"].per_minute == Decimal("0.006")
    assert table.audio["tts-1"].per_million_characters == Decimal("15.00")
    assert table.audio["gpt-4o-transcribe"].audio_input == Decimal("6.00")
    assert PriceTable.from_dict(table.to_dict()).audio == table.audio
    assert table.with_overrides({"models": {"gpt-4o": {"output": "9"}}}).audio == table.audio
    with pytest.raises(ValueError, match=r"audio\.x"):
        PriceTable.from_dict({"models": {}, "audio": {"x": {"per_second": "1"}}})


def test_costs_are_exact_per_unit() -> None:
    whisper = AudioPrice(per_minute=Decimal("0.006"))
    assert audio.transcription_cost_micros(whisper, Usage(estimated=True), 90) == 9000  # 1.5 min
    assert audio.transcription_estimate_micros(whisper, 60) == 6000
    assert audio.transcription_estimate_micros(whisper, None) is None
    assert audio.transcription_estimate_micros(None, 60) is None
    tokens = AudioPrice(text_input=Decimal("2.50"), audio_input=Decimal("6.00"), output=Decimal("10.00"),
                        minute_estimate=Decimal("0.006"))
    usage = Usage(input_tokens=1100, audio_input_tokens=1000, output_tokens=200)
    assert audio.transcription_cost_micros(tokens, usage, None) == 6000 + 250 + 2000
    assert audio.transcription_estimate_micros(tokens, 30) == 3000
    assert audio.speech_cost_micros(AudioPrice(per_million_characters=Decimal("15")), "x" * 1000) == (15000, False)
    cost, estimated = audio.speech_cost_micros(AudioPrice(minute_estimate=Decimal("0.015")), "x" * 900)
    assert estimated and cost == 15000  # 900 characters at 15 a second is a minute
    assert audio.speech_cost_micros(None, "hi") == (None, True)


def test_float_samples_become_16_bit_pcm() -> None:
    floats = struct.pack("<4f", 0.0, 0.5, -1.0, 2.0)
    assert struct.unpack("<4h", audio.float32_to_int16(floats)) == (0, 16384, -32767, 32767)


def test_a_compressed_file_is_bounded_by_its_size() -> None:
    found = audio.check_audio("memo.mp3", b"ID3" + bytes(300_000 - 3))
    assert found.seconds is None and found.longest_seconds == 100.0  # 300 kB at 24 kbit/s


def test_the_meter_moves_as_loudness_is_heard() -> None:
    assert audio.meter_position(0.0) == 0.0 and audio.meter_position(1.0) == 1.0
    assert audio.meter_position(0.0005) == 0.0  # below -60 dB: empty
    assert audio.meter_position(0.01) == pytest.approx(1 / 3)  # -40 dB
    assert audio.meter_position(0.1) == pytest.approx(2 / 3)  # -20 dB: a voice fills two thirds
    assert 0.7 < audio.meter_position(audio.level(tone_pcm(0.1))) < 0.8  # a tone at a quarter of full scale
