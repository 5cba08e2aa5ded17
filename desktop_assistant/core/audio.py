"""Pure audio helpers for voice input and read aloud: what a file is, whether it can be uploaded, how a long
recording is split, how loud a recording is, and what transcription and speech cost.

Nothing here touches Qt, the disk or the network: bytes in, facts out. WAV (what the app records) is read with
the standard library's :mod:`wave`; other formats are recognised by their first bytes only (their duration is
not known without decoding them).
"""

from __future__ import annotations

import array
import io
import math
import sys
import wave
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from desktop_assistant.core.models import Usage
from desktop_assistant.core.pricing import MICROS_PER_DOLLAR, AudioPrice

UPLOAD_LIMIT_BYTES = 25 * 1024 * 1024  # the transcription endpoint's upload limit (25 MB)
SPLIT_TARGET_BYTES = 24 * 1024 * 1024  # parts of a split recording stay safely under the limit
SPEECH_INPUT_LIMIT = 4096  # characters one speech request takes
SILENCE_RMS = 0.003  # below this root-mean-square level (full scale 1.0) a recording is taken as silent
SPEECH_CHARS_PER_SECOND = 15.0  # about 150 words a minute, to estimate the length of spoken text
MIN_BITRATE = 24_000  # bits a second of the thriftiest speech files, to bound the length of a compressed file
RECORD_RATE = 16_000  # what the app records: 16 kHz mono 16-bit PCM (speech needs no more)
RECORD_CHANNELS = 1
UPLOAD_EXTENSIONS = ("flac", "mp3", "mp4", "mpeg", "mpga", "m4a", "ogg", "wav", "webm")
TRANSCRIPTION_MODELS = ("whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe")
SPEECH_MODELS = ("tts-1", "gpt-4o-mini-tts")
VOICES = ("alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse")


class AudioProblem(ValueError):
    """Audio that cannot be transcribed, with a sentence for the person."""


@dataclass(frozen=True)
class AudioFile:
    """What is known about an audio file before it is uploaded."""

    name: str
    format: str  # "wav", "mp3", ...
    size: int
    seconds: float | None  # None: not known without decoding (compressed formats)
    parts: int = 1  # uploads needed (a WAV over the limit is split)

    @property
    def longest_seconds(self) -> float:
        """The duration, or for a compressed file the most it can last (at :data:`MIN_BITRATE`)."""
        return self.seconds if self.seconds is not None else self.size * 8 / MIN_BITRATE


def sniff(data: bytes) -> str | None:
    """The audio format that ``data`` starts like, or None."""
    head = data[:16]
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if head[4:8] == b"ftyp":
        return "m4a"
    if head[:3] == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


@dataclass(frozen=True)
class WavInfo:
    """The PCM layout of a WAV file."""

    rate: int
    channels: int
    sample_width: int
    frames: int
    pcm: bytes

    @property
    def seconds(self) -> float:
        """The duration."""
        return self.frames / self.rate if self.rate else 0.0


def read_wav(data: bytes, name: str = "recording.wav") -> WavInfo:
    """Parse a PCM WAV file; raises :class:`AudioProblem` when it is damaged."""
    try:
        with wave.open(io.BytesIO(data), "rb") as reader:
            rate, channels, width = reader.getframerate(), reader.getnchannels(), reader.getsampwidth()
            frames = reader.getnframes()
            pcm = reader.readframes(frames)
    except (wave.Error, EOFError, ValueError) as exc:
        reason = f" ({exc})" if str(exc) else ""
        raise AudioProblem(f"“{name}” looks damaged and cannot be read as WAV audio{reason}.") from None
    if rate <= 0 or channels <= 0 or width <= 0:
        raise AudioProblem(f"“{name}” looks damaged: its header names no sample rate or channels.")
    frame = channels * width
    return WavInfo(rate, channels, width, len(pcm) // frame, pcm[: len(pcm) // frame * frame])


def wav_bytes(pcm: bytes, rate: int = RECORD_RATE, channels: int = RECORD_CHANNELS, sample_width: int = 2) -> bytes:
    """PCM samples as a WAV file."""
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(sample_width)
        writer.setframerate(rate)
        writer.writeframes(pcm)
    return out.getvalue()


def level(pcm: bytes, sample_width: int = 2) -> float:
    """The root-mean-square level of 16-bit PCM, 0.0 (silence) to 1.0 (full scale); other widths read 0."""
    if sample_width != 2 or len(pcm) < 2:
        return 0.0
    samples = array.array("h")
    samples.frombytes(pcm[: len(pcm) // 2 * 2])
    if sys.byteorder != "little":
        samples.byteswap()
    total = math.fsum(float(s) * s for s in samples)
    return min(1.0, math.sqrt(total / len(samples)) / 32768.0)


METER_FLOOR_DB = -60.0
"""The quietest level the meter shows above empty (a room's hush); full scale fills it."""


def meter_position(rms: float) -> float:
    """Where a level (:func:`level`) puts the recording meter, 0.0 to 1.0, in decibels as ears hear loudness: a
    voice speaking at an ordinary distance (RMS ~0.03-0.1) fills half to two thirds of it, where a linear scale
    moved it by a few pixels."""
    if rms <= 0:
        return 0.0
    return min(1.0, max(0.0, 1.0 - 20 * math.log10(rms) / METER_FLOOR_DB))


def is_silent(pcm: bytes, sample_width: int = 2) -> bool:
    """Whether a recording holds no sound worth transcribing (empty, or quieter than :data:`SILENCE_RMS`)."""
    return level(pcm, sample_width) < SILENCE_RMS


def check_audio(name: str, data: bytes) -> AudioFile:
    """What ``data`` (a file named ``name``) is, or :class:`AudioProblem` with why it cannot be transcribed.

    A WAV over the upload limit is planned as several parts (see :func:`split_wav`); any other format over
    it is refused, since it cannot be cut without decoding it.
    """
    if not data:
        raise AudioProblem(f"“{name}” is empty: there is nothing to transcribe.")
    kind = sniff(data)
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if kind is None:
        if extension in UPLOAD_EXTENSIONS:
            raise AudioProblem(f"“{name}” is named like a {extension.upper()} file but its content is not audio "
                               "that can be read: it may be damaged.")
        raise AudioProblem(f"“{name}” is not an audio file. Voice input takes "
                           f"{', '.join(e.upper() for e in UPLOAD_EXTENSIONS)}.")
    if kind == "wav":
        info = read_wav(data, name)
        if is_silent(info.pcm, info.sample_width) and info.sample_width == 2:
            raise AudioProblem(f"“{name}” is silent: no speech was found to transcribe.")
        parts = len(split_plan(info.frames, info.channels * info.sample_width)) if len(data) > UPLOAD_LIMIT_BYTES \
            else 1
        return AudioFile(name, kind, len(data), info.seconds, parts)
    if len(data) > UPLOAD_LIMIT_BYTES:
        raise AudioProblem(f"“{name}” is {len(data) / 1024 / 1024:.0f} MB; the transcription service takes at most "
                           f"{UPLOAD_LIMIT_BYTES // 1024 // 1024} MB per file. Save it as a shorter file (or as WAV, "
                           "which is split automatically) and try again.")
    return AudioFile(name, kind, len(data), None)


def split_plan(frames: int, frame_bytes: int, target: int = SPLIT_TARGET_BYTES) -> list[tuple[int, int]]:
    """Frame ranges ``[start, end)`` so that each part, with its WAV header, stays under ``target`` bytes."""
    per_part = max(1, (target - 64) // max(1, frame_bytes))
    return [(start, min(frames, start + per_part)) for start in range(0, frames, per_part)] or [(0, 0)]


def split_wav(data: bytes, target: int = SPLIT_TARGET_BYTES) -> list[bytes]:
    """A WAV file as one or more WAV files each under ``target`` bytes (the whole file when it fits)."""
    if len(data) <= target:
        return [data]
    info = read_wav(data)
    frame = info.channels * info.sample_width
    return [wav_bytes(info.pcm[a * frame:b * frame], info.rate, info.channels, info.sample_width)
            for a, b in split_plan(info.frames, frame, target)]


def float32_to_int16(data: bytes) -> bytes:
    """32-bit float samples (what some microphones deliver) as 16-bit PCM, clipped to full scale."""
    floats = array.array("f")
    floats.frombytes(data[: len(data) // 4 * 4])
    if sys.byteorder != "little":
        floats.byteswap()
    ints = array.array("h", (max(-32768, min(32767, round(f * 32767))) for f in floats))
    if sys.byteorder != "little":
        ints.byteswap()
    return ints.tobytes()


def _micros(dollars: Decimal) -> int:
    with localcontext() as context:
        context.prec = 60
        return int((dollars * MICROS_PER_DOLLAR).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _per_million(tokens: int, price: Decimal | None) -> Decimal:
    return Decimal(tokens) * (price or Decimal(0)) / Decimal(1_000_000)


def transcription_estimate_micros(price: AudioPrice | None, seconds: float | None) -> int | None:
    """What transcribing ``seconds`` of audio is expected to cost (an estimate: show it as one); None if
    unknown (no price, or a duration that is not known)."""
    rate = None if price is None else (price.per_minute or price.minute_estimate)
    if rate is None or seconds is None:
        return None
    return _micros(rate * Decimal(str(round(seconds, 3))) / 60)


def transcription_cost_micros(price: AudioPrice | None, usage: Usage, seconds: float | None) -> int | None:
    """The cost of a transcription: per minute of ``seconds`` (the reported duration) for duration-billed
    models, else from the reported tokens (audio input, text input, output); None without a price."""
    if price is None:
        return None
    if price.per_minute is not None:
        return transcription_estimate_micros(price, seconds)
    text_tokens = max(0, usage.input_tokens - usage.audio_input_tokens)
    dollars = (_per_million(usage.audio_input_tokens, price.audio_input or price.text_input)
               + _per_million(text_tokens, price.text_input) + _per_million(usage.output_tokens, price.output))
    return _micros(dollars)


def speech_cost_micros(price: AudioPrice | None, text: str) -> tuple[int | None, bool]:
    """The cost of speaking ``text`` and whether it is an estimate: exact per character (tts-1), else
    estimated from OpenAI's per-minute figure and a speaking pace (the answer reports no usage)."""
    if price is None:
        return None, True
    if price.per_million_characters is not None:
        return _micros(Decimal(len(text)) * price.per_million_characters / Decimal(1_000_000)), False
    if price.minute_estimate is not None:
        return _micros(price.minute_estimate * Decimal(len(text)) / Decimal(str(SPEECH_CHARS_PER_SECOND)) / 60), True
    return None, True


def speech_chunks(text: str, limit: int = SPEECH_INPUT_LIMIT) -> list[str]:
    """``text`` cut into pieces a speech request takes, at paragraph, sentence or word ends where possible."""
    text = text.strip()
    pieces: list[str] = []
    while len(text) > limit:
        window = text[:limit]
        cut = max(window.rfind("\n\n"), window.rfind(". "), window.rfind("! "), window.rfind("? "))
        if cut < limit // 2:
            cut = window.rfind(" ")
        cut = cut + 1 if cut > 0 else limit
        pieces.append(text[:cut].strip())
        text = text[cut:].strip()
    return [*pieces, text] if text else pieces
