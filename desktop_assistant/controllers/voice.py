"""Voice in and read aloud: record or take an audio file, transcribe it into the draft; speak a reply.

QtMultimedia is imported only when voice is first used (never on the start path). Recording uses
``QAudioSource`` in push mode: 16 kHz mono 16-bit PCM kept in memory, its level published for a meter, and on
stop written as WAV and transcribed. Spoken replies are cached on disk under ``<data>/speech`` by the hash of
(model, voice, text), so a second play costs nothing; before one is fetched, the audio system is asked (once,
again only when the outputs change) whether it can be played at all, so nothing is bought that cannot be heard.
Every API call writes a ledger row with feature ``audio``.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QUrl, Signal

from desktop_assistant.controllers.endpoint import EndpointController
from desktop_assistant.controllers.runner import OperationRunner
from desktop_assistant.controllers.usage import UsageController
from desktop_assistant.core import audio
from desktop_assistant.core.errors import UserFacingError
from desktop_assistant.core.models import LedgerEntry, Usage
from desktop_assistant.core.pricing import format_usd
from desktop_assistant.core.speakable import speakable
from desktop_assistant.services.atomic import write_atomically
from desktop_assistant.services.store import Store

log = logging.getLogger(__name__)
FEATURE = "audio"


NO_AUDIO_SYSTEM = "no audio system was found"
NO_SPEAKER = "no speaker or headphones were found"
NO_PLAYER = "the app's sound player could not be started"


def speech_unavailable(why: str) -> str:
    """What a person is told when a reply cannot be read aloud (said before anything is sent)."""
    return (f"Read aloud needs sound output, and none could be started on this computer ({why}). "
            "Nothing was sent or charged.")


MIC_UNAVAILABLE = ("Recording needs the computer's audio system, and none could be started here "
                   f"({NO_AUDIO_SYSTEM}). You can drop an audio file into the message box (or choose one with "
                   "the + button) to have it transcribed instead.")


@dataclass(frozen=True)
class SoundProblem:
    """Why sound cannot be played: ``why`` in plain words for the person, ``detail`` (technical) for the log."""

    why: str
    detail: str

    @property
    def message(self) -> str:
        """What the person is told when Read aloud is refused (before anything is sent)."""
        return speech_unavailable(self.why)


@functools.cache
def multimedia_problem() -> str | None:
    """Why QtMultimedia cannot be loaded here (its module or a system library such as libpulse is missing), in
    technical words for the log, or None. Tried once: a failed load does not mend itself while the app runs."""
    try:
        import PySide6.QtMultimedia  # noqa: F401
    except ImportError as exc:
        log.warning("Qt's multimedia support could not be loaded: %s", exc)
        return f"Qt's multimedia support could not be loaded ({exc})"
    return None


def audio_outputs() -> Sequence[Any]:
    """The sound output devices (speakers, headphones) the audio system knows (imports QtMultimedia)."""
    from PySide6.QtMultimedia import QMediaDevices

    return list(QMediaDevices.audioOutputs())


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


class VoiceController(QObject):
    """Records, transcribes and speaks.

    Signals:
        transcribed(str): text for the draft (never sent by itself).
        problem(str): a sentence for the person (bad input, silence, no device); nothing is lost.
        busyChanged(bool): a transcription is running.
        recordingChanged(bool): the microphone is recording.
        level(float): the input level while recording, 0.0 to 1.0.
        microphoneChanged(object): None when a microphone can be used, else why not (str).
        playingChanged(bool): a reply is being played.
        estimated(str): the estimated cost of the upload about to be made (labelled as an estimate).
    """

    transcribed = Signal(str)
    problem = Signal(str)
    busyChanged = Signal(bool)
    recordingChanged = Signal(bool)
    level = Signal(float)
    microphoneChanged = Signal(object)
    playingChanged = Signal(bool)
    estimated = Signal(str)
    recordingKept = Signal(str)  # a recording not transcribed (why, or "" when said already): it can be again

    def __init__(self, store: Store, endpoint: EndpointController, runner: OperationRunner, usage: UsageController,
                 cache_dir: Path, conversation: Callable[[], int | None] = lambda: None,
                 parent: QObject | None = None, *,
                 load_multimedia: Callable[[], str | None] = multimedia_problem,
                 outputs: Callable[[], Sequence[Any]] = audio_outputs) -> None:
        """``load_multimedia`` and ``outputs`` are how the audio system is asked (why QtMultimedia cannot load;
        the output devices); tests pass their own to play a machine with or without sound."""
        super().__init__(parent)
        self.load_multimedia, self.outputs = load_multimedia, outputs
        # the answer of sound_output_problem(), once asked: (problem,); forgotten when the outputs change
        self._output_answer: tuple[SoundProblem | None] | None = None
        self._store, self._endpoint, self._runner, self._usage = store, endpoint, runner, usage
        self.cache_dir = cache_dir
        self._conversation = conversation  # the open conversation's id, for the ledger
        self.kept_recording: tuple[bytes, int, int] | None = None  # the last recording, until it is transcribed
        self.origin: int | None = None  # the conversation open when the last transcription was asked for
        # None until the devices are looked at: the first press of the microphone button does that (asking the
        # audio system at start costs ~15 MB and a fraction of a second for something most sessions never use)
        self.mic_problem: str | None = None
        self._source: Any = None
        self._device: Any = None
        self._pcm = bytearray()
        self._format: tuple[int, int, bool] = (audio.RECORD_RATE, audio.RECORD_CHANNELS, False)  # rate, ch, float
        self._devices: Any = None
        self.player: Any = None
        self._output: Any = None
        self._playing_asked = False  # play() was called for the source set: its load errors are the person's news

    # -- devices ---------------------------------------------------------------------------------------------

    def refresh_devices(self) -> str | None:
        """Look for a microphone (imports QtMultimedia and starts the audio system, so it is called on the first
        recording, not at start); publishes and returns why recording is unavailable, or None. Once looked at,
        plugging a microphone in or out publishes again."""
        problem: str | None = None
        detail = self.load_multimedia()
        if detail is not None or not self._watch_devices():
            problem = MIC_UNAVAILABLE
        else:
            from PySide6.QtMultimedia import QMediaDevices

            if not QMediaDevices.audioInputs():
                problem = ("No microphone was found. Connect one (or allow this app to use it in your system's "
                           "privacy settings), or drop an audio file on the window (or choose one with the + "
                           "button) instead.")
        self.mic_problem = problem
        self.microphoneChanged.emit(problem)
        return problem

    def _watch_devices(self) -> bool:
        """Follow devices being plugged in or out (once QtMultimedia is loaded); False when it cannot load."""
        if self._devices is None:
            try:
                from PySide6.QtMultimedia import QMediaDevices
            except ImportError:
                return False
            self._devices = QMediaDevices(self)
            self._devices.audioInputsChanged.connect(self.refresh_devices)
            self._devices.audioOutputsChanged.connect(self.forget_sound_output)
        return True

    def sound_output_problem(self) -> SoundProblem | None:
        """Why a reply cannot be played here (no audio system, no speaker), or None. Asked before a reply is
        fetched, so nothing is paid for that cannot be heard; the answer is kept until the outputs change."""
        if self._output_answer is None:
            problem: SoundProblem | None = None
            detail = self.load_multimedia()
            if detail is not None:
                problem = SoundProblem(NO_AUDIO_SYSTEM, detail)
            else:
                self._watch_devices()
                if not self.outputs():
                    problem = SoundProblem(NO_SPEAKER, "the audio system lists no output device")
            if problem is not None:
                log.warning("Read aloud is unavailable: %s", problem.detail)
            self._output_answer = (problem,)
        return self._output_answer[0]

    def forget_sound_output(self) -> None:
        """Ask the audio system again on the next read aloud (a speaker was plugged in or out)."""
        self._output_answer = None

    # -- recording -------------------------------------------------------------------------------------------

    @property
    def recording(self) -> bool:
        """The microphone is recording."""
        return self._source is not None

    def start_recording(self) -> None:
        """Start recording from the default microphone (a problem is published when there is none)."""
        if self.recording:
            return
        if self.refresh_devices() is not None:
            self.problem.emit(self.mic_problem or "")
            return
        from PySide6.QtMultimedia import QAudioFormat, QAudioSource, QMediaDevices

        device = QMediaDevices.defaultAudioInput()
        fmt = QAudioFormat()
        fmt.setSampleRate(audio.RECORD_RATE)
        fmt.setChannelCount(audio.RECORD_CHANNELS)
        fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        if not device.isFormatSupported(fmt):
            fmt = device.preferredFormat()
        is_float = fmt.sampleFormat() == QAudioFormat.SampleFormat.Float
        self._format = (fmt.sampleRate(), fmt.channelCount(), is_float)
        self._pcm = bytearray()
        self._source = QAudioSource(device, fmt, self)
        self._device = self._source.start()
        if self._device is None:
            self._source = None
            self.problem.emit("The microphone could not be opened; another app may be using it.")
            return
        self._device.readyRead.connect(self._read)
        self.recordingChanged.emit(True)

    def _read(self) -> None:
        if self._device is None:
            return
        chunk = self.to_int16(bytes(self._device.readAll().data()))
        self._pcm.extend(chunk)
        self.level.emit(audio.level(chunk))

    def to_int16(self, data: bytes) -> bytes:
        """Samples in the recording's format as 16-bit PCM."""
        return audio.float32_to_int16(data) if self._format[2] else data

    def stop_recording(self) -> None:
        """Stop recording and transcribe what was heard."""
        if self._end_recording():
            rate, channels, _ = self._format
            pcm, self._pcm = bytes(self._pcm), bytearray()
            self.transcribe_recording(pcm, rate, channels)

    def cancel_recording(self) -> None:
        """Stop recording and forget what was heard (nothing is transcribed)."""
        if self._end_recording():
            self._pcm = bytearray()

    def _end_recording(self) -> bool:
        source = self._source
        if source is None:
            return False
        self._read()
        source.stop()
        self._source = self._device = None
        self.recordingChanged.emit(False)
        self.level.emit(0.0)
        return True

    def transcribe_recording(self, pcm: bytes, rate: int = audio.RECORD_RATE,
                             channels: int = audio.RECORD_CHANNELS) -> None:
        """Transcribe recorded 16-bit PCM (a silent recording is refused with a message)."""
        if audio.is_silent(pcm):
            self.problem.emit("Nothing was heard: the recording is silent. Check that the microphone is not "
                              "muted and try again.")
            return
        self.kept_recording = (pcm, rate, channels)  # until it is transcribed: a failure does not lose the words
        self.origin = self._conversation()  # where the words were spoken (the person may go elsewhere meanwhile)

        async def work() -> None:
            try:
                text = await self.transcribe("recording.wav", audio.wav_bytes(pcm, rate, channels))
            except UserFacingError as exc:
                self.recordingKept.emit(exc.message)
                return
            if text is None:
                self.recordingKept.emit("")
            elif self.kept_recording is not None and self.kept_recording[0] is pcm:
                self.kept_recording = None
        self._runner.start("transcribe", work(), key="transcribe")

    def transcribe_again(self) -> None:
        """Transcribe again the last recording that was not (a server error, a limit since raised)."""
        kept = self.kept_recording
        if kept is not None and self._runner.find("transcribe") is None:
            self.transcribe_recording(*kept)

    def conversation_now(self) -> int | None:
        """The conversation open now (a transcription is for the one open when it started)."""
        return self._conversation()

    # -- transcription ---------------------------------------------------------------------------------------

    def transcribe_file(self, path: Path) -> None:
        """Transcribe an audio file (dropped or chosen) into the draft."""
        self.origin = self._conversation()
        async def work() -> None:
            try:
                data = await asyncio.to_thread(path.read_bytes)
            except OSError as exc:
                self.problem.emit(f"“{path.name}” could not be read: {exc.strerror or exc}.")
                return
            await self.transcribe(path.name, data)
        self._runner.start("transcribe", work(), key="transcribe")

    async def transcribe(self, name: str, data: bytes) -> str | None:
        """Check, upload (in parts when a WAV is over the limit) and transcribe ``data``; the text goes out
        through :attr:`transcribed`, each upload into the ledger. None when refused or failed."""
        try:
            found = audio.check_audio(name, data)
        except audio.AudioProblem as exc:
            self.problem.emit(str(exc))
            return None
        model = self._endpoint.settings.transcription_model
        price = self._usage.prices.audio.get(model)
        estimate = audio.transcription_estimate_micros(price, found.longest_seconds)
        if estimate is not None:
            length = f"about {found.seconds:.0f} s" if found.seconds is not None else \
                f"at most about {found.longest_seconds / 60:.0f} min"
            self.estimated.emit(f"Transcribing {length} of audio: estimated {format_usd(estimate, estimate=True)}")
        verdict = await self._usage.check_total(estimate)
        if not verdict.allowed:
            self.problem.emit(verdict.message)
            return None
        parts = audio.split_wav(data) if found.parts > 1 else [data]
        texts: list[str] = []
        self.busyChanged.emit(True)
        try:
            for index, part in enumerate(parts):
                part_name = name if len(parts) == 1 else f"{name.rsplit('.', 1)[0]} part {index + 1}.wav"
                result = await self._endpoint.gateway.transcribe(model, part_name, part)
                seconds = result.seconds
                if seconds is None and found.format == "wav":
                    seconds = audio.read_wav(part).seconds
                cost = audio.transcription_cost_micros(price, result.usage, seconds)
                await self._store.record_usage(LedgerEntry(FEATURE, model, result.usage, cost, self._conversation()))
                texts.append(result.text.strip())
        finally:
            self.busyChanged.emit(False)
            await self._usage.refresh()
        text = " ".join(t for t in texts if t)
        if not text:
            self.problem.emit(f"No speech was recognised in “{name}”.")
            return None
        self.transcribed.emit(text)
        return text

    # -- read aloud ------------------------------------------------------------------------------------------

    def cache_path(self, text: str) -> Path:
        """Where the audio of ``text`` in the current model and voice is (or would be) kept."""
        settings = self._endpoint.settings
        key = hashlib.sha256("\x00".join((settings.speech_model, settings.speech_voice, text)).encode()).hexdigest()
        return self.cache_dir / f"{key}.mp3"

    def _pieces(self, text: str) -> list[tuple[str, Path, bool]]:
        """``text`` in the pieces a speech request takes: each piece, where its audio is kept, and whether it is
        there (a reading stopped half-way kept what it had paid for) (file system: off the UI thread to fetch)."""
        chunks = audio.speech_chunks(text)
        return [(chunk, path, len(chunks) > 1 and path.is_file())
                for chunk, path in ((chunk, self.cache_path(chunk)) for chunk in chunks)]

    def _price_left(self, pieces: list[tuple[str, Path, bool]]) -> tuple[int | None, bool]:
        """What the pieces not kept cost to fetch (None: no price known) and whether that is an estimate."""
        price = self._usage.prices.audio.get(self._endpoint.settings.speech_model)
        costs = [audio.speech_cost_micros(price, chunk) for chunk, _path, kept in pieces if not kept]
        if any(cost is None for cost, _estimated in costs):
            return None, True
        return sum(cost or 0 for cost, _estimated in costs), any(estimated for _cost, estimated in costs)

    async def speech_file(self, text: str, message_id: int | None = None) -> Path | None:
        """The spoken audio of ``text``: from the cache, or fetched (in pieces of 4,096 characters), recorded in
        the ledger and cached. Each piece is kept as it arrives, so a reading stopped or failed half-way pays for
        no piece twice. None when a spending limit refuses it (the reason is published)."""
        path = self.cache_path(text)
        if await asyncio.to_thread(path.is_file):
            return path
        settings = self._endpoint.settings
        model, voice = settings.speech_model, settings.speech_voice
        pieces = await asyncio.to_thread(self._pieces, text)
        price = self._usage.prices.audio.get(model)
        verdict = await self._usage.check_total(self._price_left(pieces)[0])
        if not verdict.allowed:
            self.problem.emit(verdict.message)
            return None
        data = b""
        try:
            for chunk, piece, kept in pieces:
                if kept:
                    data += await asyncio.to_thread(piece.read_bytes)
                    continue
                spoken = await self._endpoint.gateway.speak(model, voice, chunk)
                cost, estimated = audio.speech_cost_micros(price, chunk)
                await self._store.record_usage(LedgerEntry(FEATURE, model, Usage(estimated=estimated), cost,
                                                           self._conversation(), message_id))
                if len(pieces) > 1:  # paid for: kept until the whole is
                    await asyncio.to_thread(self._write_cache, piece, spoken)
                data += spoken
            await asyncio.to_thread(self._write_cache, path, data)
            if len(pieces) > 1:
                await asyncio.to_thread(_remove, [piece for _chunk, piece, _kept in pieces])
        finally:
            await self._usage.refresh()
        return path

    def _write_cache(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, data)

    @property
    def playing(self) -> bool:
        """A reply is being fetched or played."""
        if self._runner.find("read aloud") is not None:
            return True
        if self.player is None:
            return False
        from PySide6.QtMultimedia import QMediaPlayer

        return bool(self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState)

    def read_aloud_price(self, text: str) -> str:
        """What reading ``text`` (a reply) aloud costs, as said beside the button: nothing when its audio was
        fetched before, the price with ``~`` when it is an estimate."""
        words = speakable(text)
        if not words:
            return "nothing to read"
        if self.cache_path(words).is_file():
            return "fetched before: free"
        cost, estimated = self._price_left(self._pieces(words))  # (the pieces kept are free)
        if cost is None:
            return f"no price known for {self._endpoint.settings.speech_model}"
        return format_usd(cost, estimate=estimated)

    def read_aloud(self, text: str, message_id: int | None = None, *, instead: bool = False) -> None:
        """Speak ``text`` (a reply, in markdown: its words are read, code blocks and URLs are not): fetch or reuse
        its audio, then play it. While one is fetched or plays, stop it instead; with ``instead`` (another reply's
        button), stop it and speak this one."""
        if self.playing:
            self.stop_playback()
            if not instead:
                return
        text = speakable(text)
        if not text:
            self.problem.emit("This reply has no text to read aloud.")
            return
        problem = self.sound_output_problem()
        if problem is not None:  # checked before the speech is bought: nothing is sent, nothing is paid
            self.problem.emit(problem.message)
            return

        async def work() -> None:
            path = await self.speech_file(text, message_id)
            if path is not None:
                self.play(path)
        self._runner.start("read aloud", work(), key="read aloud")

    def play(self, path: Path) -> None:
        """Play an audio file (a problem is published when there is nothing to play it on)."""
        problem = self.sound_output_problem()
        if problem is not None:  # it went away while the reply was fetched
            self.problem.emit(f"The reply could not be played: {problem.why}. The audio is kept, so playing it "
                              "later costs nothing.")
            return
        try:
            from PySide6.QtMultimedia import QAudioOutput, QMediaDevices, QMediaPlayer
        except ImportError as exc:  # only where a test said sound works on a machine without it
            log.warning("Qt's multimedia support could not be loaded: %s", exc)
            self.problem.emit(f"The reply could not be played: {NO_AUDIO_SYSTEM}.")
            return
        if self.player is None:
            self.player = QMediaPlayer(self)
            self._output = QAudioOutput(self)
            self.player.setAudioOutput(self._output)
            self.player.playbackStateChanged.connect(
                lambda state: self.playingChanged.emit(state == QMediaPlayer.PlaybackState.PlayingState))
            self.player.errorOccurred.connect(self._on_player_error)
        self._playing_asked = False
        self.player.setSource(QUrl.fromLocalFile(str(path)))
        if not QMediaDevices.audioOutputs():
            # the file is not played, so an error loading it (reported later, asynchronously) is not news: it
            # would replace this message with a less useful one
            self.problem.emit("No speaker or headphones were found to play the reply on. The audio is kept, so "
                              "playing it later costs nothing.")
            return
        if not self.player.isAvailable():
            log.warning("QMediaPlayer is not available on this platform")
            self.problem.emit(f"The reply could not be played: {NO_PLAYER}. The audio is kept, so playing it "
                              "later costs nothing.")
            return
        self._playing_asked = True
        self.player.play()

    def _on_player_error(self, _error: object, text: str) -> None:
        if self._playing_asked:
            self.problem.emit(f"The audio could not be played: {text}")

    def stop_playback(self) -> None:
        """Stop reading aloud (and a fetch in progress)."""
        self._runner.cancel("read aloud")
        if self.player is not None:
            self.player.stop()
