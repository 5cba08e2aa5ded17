"""Voice in and read aloud in the window, against the loopback server.

The offscreen test machine has no microphone and no speaker (and may have no audio system at all: Qt's
multimedia backend needs libpulse): the no-microphone path is tested as the person meets it; recording is tested
from the point where the microphone's samples arrive (``transcribe_recording``); playback is tested up to the
player holding the cached file, and only pressing play on a sound device is skipped where no output device
exists. A machine with or without sound is played through the controller's own questions to the audio system
(``load_multimedia``, ``outputs``); the requests still go over HTTP to the loopback server.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QEvent, QIODevice, QMimeData, QObject, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication, QHelpEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QToolTip

from desktop_assistant.app import AppParts
from desktop_assistant.controllers.voice import multimedia_problem
from desktop_assistant.core.audio import speech_chunks, wav_bytes
from desktop_assistant.core.pricing import format_usd
from tests.conftest import ended, next_emission, until
from tests.fake_openai import fixture
from tests.fake_openai.server import FakeOpenAI, Reply
from tests.ui.app_fixture import built_app, start

fake_openai = fixture.fake_openai


def tone_pcm(seconds: float, rate: int = 16_000) -> bytes:
    """A 440 Hz tone, 16-bit mono PCM."""
    return b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
                    for i in range(int(seconds * rate)))


def drop_on_composer(parts: AppParts, path: Path) -> None:
    """Drop ``path`` on the draft box, as a file manager would."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    viewport = parts.window.composer.edit.viewport()
    buttons, keys = Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, buttons, keys)
    QApplication.sendEvent(viewport, enter)  # Qt delivers a drop only after its drag entered
    assert enter.isAccepted()
    QApplication.sendEvent(viewport, QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, buttons, keys))


def chat_requests(server: FakeOpenAI) -> int:
    return sum(1 for r in server.requests if r.path.endswith("/chat/completions"))


def speech_requests(server: FakeOpenAI) -> int:
    return sum(1 for r in server.requests if r.path.endswith("/audio/speech"))


LIBPULSE = "Qt's multimedia support could not be loaded (libpulse.so.0: cannot open shared object file)"


class AudioSystem:
    """What the audio system answers the controller, counting how often it is asked."""

    def __init__(self, problem: str | None, outputs: list[str]) -> None:
        self.problem, self.devices, self.asked = problem, outputs, 0

    def load(self) -> str | None:
        self.asked += 1
        return self.problem

    def outputs(self) -> list[str]:
        return self.devices

    def install(self, parts: AppParts) -> None:
        parts.voice.voice.load_multimedia, parts.voice.voice.outputs = self.load, self.outputs


async def a_reply(parts: AppParts, fake_openai: FakeOpenAI, text: str) -> Any:
    """Send a message, wait for ``text`` as the reply and return its message view."""
    fake_openai.enqueue(Reply(text=text))
    await parts.chat.send("Say hello")
    await until(lambda: len(parts.chat.path) == 2 and not parts.chat.streaming)
    await until(lambda: not parts.runner.operations)  # the reply's operation has ended too
    return parts.window.transcript.views[parts.chat.path[1].id]


async def audio_rows(parts: AppParts) -> list[tuple[str, int | None]]:
    return [(e.model, e.cost_micros) for e in await parts.store.ledger() if e.feature == "audio"]


async def test_without_a_microphone_the_button_says_why(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        button = parts.window.composer.mic_button
        await start(parts)
        assert parts.voice.voice._devices is None  # the audio system is not asked at start
        assert button.isEnabled()  # the devices are looked at on the first press, not at start
        if multimedia_problem() is not None:
            pytest.skip("this machine has no audio system at all (see the test that simulates it)")
        from PySide6.QtMultimedia import QMediaDevices

        if QMediaDevices.audioInputs():
            pytest.skip("this machine has a microphone; the no-microphone path needs one without")
        parts.window.composer.set_text("my draft")
        button.click()
        refusal = parts.window.composer.refusal
        assert refusal.isVisibleTo(parts.window) and refusal.text().startswith("No microphone was found")
        assert not parts.voice.voice.recording and parts.window.composer.text == "my draft"
        assert not button.isEnabled()
        assert button.toolTip().startswith("No microphone was found") and "drop an audio file" in button.toolTip()


async def test_a_dropped_recording_lands_in_the_draft_for_review(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    clip = tmp_path / "memo.wav"
    clip.write_bytes(wav_bytes(tone_pcm(2.0)))
    fake_openai.audio.enqueue_transcript("Remind me to water the plants.")
    async with built_app(tmp_path / "home", fake_openai.base_url) as parts:
        await start(parts)
        composer = parts.window.composer
        composer.set_text("Note:")
        drop_on_composer(parts, clip)
        await until(lambda: "plants" in composer.text)
        assert composer.text == "Note: Remind me to water the plants."
        assert "press Enter to send" in composer.refusal.text()
        composer.edit.undo()  # one undo takes the dictation out; what was typed before stays, and can be undone
        assert composer.text == "Note:"
        composer.edit.redo()
        assert composer.text == "Note: Remind me to water the plants."
        await until(lambda: ended(parts.runner, "transcribe"))
        assert chat_requests(fake_openai) == 0 and parts.chat.path == []  # reviewed first, never sent by itself
        assert fake_openai.audio.uploads[-1]["filename"] == "memo.wav"
        assert await audio_rows(parts) == [("whisper-1", 200)]  # 2 s at $0.006 a minute


async def test_two_audio_files_at_once_say_which_one_was_left_out(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    first, second = tmp_path / "monday.wav", tmp_path / "tuesday.wav"
    for clip in (first, second):
        clip.write_bytes(wav_bytes(tone_pcm(1.0)))
    fake_openai.audio.enqueue_transcript("Monday's notes.")
    async with built_app(tmp_path / "home", fake_openai.base_url) as parts:
        await start(parts)
        composer = parts.window.composer
        parts.voice.take_files([first, second])
        assert composer.refusal.text() == "One audio file at a time: “monday.wav” is being transcribed."
        await until(lambda: composer.text == "Monday's notes.")
        assert composer.refusal.text() == ("Transcribed: check the text, then press Enter to send. One audio file "
                                           "at a time: “tuesday.wav” was not.")
        assert [u["filename"] for u in fake_openai.audio.uploads] == ["monday.wav"]
        broken = tmp_path / "broken.wav"
        broken.write_bytes(b"not audio at all")
        parts.voice.take_files([broken, second])  # the first cannot be transcribed: nothing more is said of it
        await until(lambda: "broken.wav" in composer.refusal.text() and "being transcribed" not in
                    composer.refusal.text())
        fake_openai.audio.enqueue_transcript("Dictated.")
        parts.voice.voice.transcribe_recording(tone_pcm(1.0))
        await until(lambda: composer.text.endswith("Dictated."))
        assert composer.refusal.text() == "Transcribed: check the text, then press Enter to send."


async def test_an_audio_file_picked_with_the_attach_button_is_transcribed(tmp_path: Path,
                                                                          fake_openai: FakeOpenAI) -> None:
    clip = tmp_path / "memo.wav"
    clip.write_bytes(wav_bytes(tone_pcm(2.0)))
    notes = tmp_path / "notes.txt"
    notes.write_text("Plants: basil, mint.")
    fake_openai.audio.enqueue_transcript("Remind me to water the plants.")
    async with built_app(tmp_path / "home", fake_openai.base_url) as parts:
        await start(parts)
        composer = parts.window.composer
        # without a mouse to drag with: "+" and the file chosen (it was refused as a binary file)
        parts.window.attach_wiring.picked([clip, notes])
        await until(lambda: "plants" in composer.text and len(parts.attachments.files) == 1)
        assert composer.text == "Remind me to water the plants."
        assert [f.name for f in parts.attachments.files] == ["notes.txt"]  # the text file attached as before
        assert "binary" not in composer.refusal.text()


async def test_a_recording_is_transcribed_by_tokens_and_silence_is_refused(tmp_path: Path,
                                                                          fake_openai: FakeOpenAI) -> None:
    fake_openai.audio.enqueue_transcript("Hello.")
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        parts.endpoint.update_settings(transcription_model="gpt-4o-transcribe")
        voice, composer = parts.voice.voice, parts.window.composer
        composer.set_text("kept")
        voice.transcribe_recording(bytes(32_000))  # one second of silence
        assert "silent" in composer.refusal.text() and composer.text == "kept"
        assert fake_openai.audio.uploads == []
        voice.transcribe_recording(tone_pcm(3.0))
        await until(lambda: composer.text == "kept Hello.")
        await until(lambda: ended(parts.runner, "transcribe"))
        # 30 audio tokens at $6 and 1 output token at $10 per million
        assert await audio_rows(parts) == [("gpt-4o-transcribe", 190)]
        assert fake_openai.audio.uploads[-1]["model"] == "gpt-4o-transcribe"


async def test_bad_audio_files_give_clear_messages_and_keep_the_draft(tmp_path: Path,
                                                                      fake_openai: FakeOpenAI) -> None:
    fake = tmp_path / "song.mp3"
    fake.write_text("<html>this is a web page saved as mp3</html>")
    broken = tmp_path / "broken.wav"
    broken.write_bytes(wav_bytes(tone_pcm(0.5))[:30])
    huge = tmp_path / "lecture.m4a"
    huge.write_bytes(b"\x00\x00\x00\x20ftypM4A " + bytes(26 * 1024 * 1024))
    text = tmp_path / "notes.txt"
    text.write_text("shopping list")
    async with built_app(tmp_path / "home", fake_openai.base_url) as parts:
        await start(parts)
        composer, voice = parts.window.composer, parts.voice.voice
        composer.set_text("draft stays")
        for path, words in ((fake, "may be damaged"), (broken, "looks damaged"), (huge, "at most 25 MB")):
            composer.show_refusal("")
            drop_on_composer(parts, path)
            await until(lambda: composer.refusal.text() != "")
            assert words in composer.refusal.text() and path.name in composer.refusal.text()
        composer.show_refusal("")
        voice.transcribe_file(text)
        await until(lambda: composer.refusal.text() != "")
        assert "is not an audio file" in composer.refusal.text()
        assert composer.text == "draft stays"
        assert fake_openai.audio.uploads == [] and await audio_rows(parts) == []


async def test_a_thirty_minute_recording_is_split_under_the_upload_limit(tmp_path: Path,
                                                                         fake_openai: FakeOpenAI) -> None:
    meeting = tmp_path / "meeting.wav"
    meeting.write_bytes(wav_bytes(tone_pcm(1.0) * 1800))  # 30 minutes, about 58 MB
    fake_openai.audio.enqueue_transcript("First part.", "Second part.", "Third part.")
    async with built_app(tmp_path / "home", fake_openai.base_url) as parts:
        await start(parts)
        status: list[str] = []
        parts.voice.voice.estimated.connect(status.append)
        parts.voice.take_files([meeting])
        await until(lambda: "Third part." in parts.window.composer.text, timeout=30)
        assert parts.window.composer.text == "First part. Second part. Third part."
        assert status == ["Transcribing about 1800 s of audio: estimated ~$0.18"]
        assert [u["size"] < 25 * 1024 * 1024 for u in fake_openai.audio.uploads] == [True] * 3
        await until(lambda: ended(parts.runner, "transcribe"))
        rows = await audio_rows(parts)
        # 30 minutes at $0.006 a minute, each part's reported seconds rounded up (786.4 s is billed as 787 s)
        assert rows == [("whisper-1", 78_700), ("whisper-1", 78_700), ("whisper-1", 22_800)]


async def test_without_an_audio_system_the_microphone_says_so_in_plain_words(tmp_path: Path,
                                                                             fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        AudioSystem(LIBPULSE, []).install(parts)  # what the user's machine (Xvfb, no libpulse) answers
        button, composer = parts.window.composer.mic_button, parts.window.composer
        button.click()
        assert composer.refusal.isVisibleTo(parts.window)
        message = composer.refusal.text()
        assert message.startswith("Recording needs the computer's audio system") and "no audio system" in message
        assert "drop an audio file into the message box" in message
        assert "libpulse" not in message and "Qt" not in message  # the technical reason is for the log
        assert not parts.voice.voice.recording
        assert not button.isEnabled() and button.toolTip() == message


@pytest.mark.parametrize(("problem", "outputs", "why"), [
    (LIBPULSE, [], "no audio system was found"),
    (None, [], "no speaker or headphones were found"),
], ids=["no audio system", "no speaker"])
async def test_read_aloud_without_sound_output_sends_nothing_and_charges_nothing(
        tmp_path: Path, fake_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture, problem: str | None,
        outputs: list[str], why: str) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        view = await a_reply(parts, fake_openai, "Hello aloud.")
        system = AudioSystem(problem, outputs)
        system.install(parts)
        ledger = len(await parts.store.ledger())
        composer = parts.window.composer
        for _ in range(2):
            composer.show_refusal("")
            view.read_aloud_button.click()
            await until(lambda: composer.refusal.text() != "")
            await until(lambda: ended(parts.runner, "read aloud"))
            assert composer.refusal.text() == (
                f"Read aloud needs sound output, and none could be started on this computer ({why}). "
                "Nothing was sent or charged.")
        assert speech_requests(fake_openai) == 0 and fake_openai.audio.spoken == []
        assert len(await parts.store.ledger()) == ledger and await audio_rows(parts) == []
        assert not parts.voice.voice.cache_path("Hello aloud.").exists()
        assert system.asked == 1  # asked once, the answer kept
        assert (problem or "lists no output device") in caplog.text  # the technical reason is in the log


async def test_read_aloud_fetches_once_and_a_second_play_costs_nothing(tmp_path: Path,
                                                                       fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        view = await a_reply(parts, fake_openai, "Hello aloud.")
        voice = parts.voice.voice
        # the audio system says sound can be played (playing itself is tried for real below, where it can be)
        AudioSystem(None, ["speakers"]).install(parts)
        for _ in range(2):
            voice.stop_playback()  # where a sound device plays it, a click while playing would stop it
            finished = next_emission(parts.runner.finished.connect)
            view.read_aloud_button.click()
            assert (await finished) == ("read aloud",)
        assert [b["input"] for b in fake_openai.audio.spoken] == ["Hello aloud."]  # fetched once
        cached = voice.cache_path("Hello aloud.")
        assert cached.parent == tmp_path / "data" / "speech"
        assert cached.read_bytes().endswith(b"tts-1|alloy|Hello aloud.")
        assert await audio_rows(parts) == [("tts-1", 180)]  # 12 characters at $15 per million, once
        if multimedia_problem() is not None:  # no audio system here after all: the reply is kept for later
            assert voice.player is None and "could not be played" in parts.window.composer.refusal.text()
            return
        assert voice.player is not None and Path(voice.player.source().toLocalFile()) == cached
        from PySide6.QtMultimedia import QMediaDevices, QMediaPlayer

        voice.stop_playback()
        assert voice.player.playbackState() == QMediaPlayer.PlaybackState.StoppedState
        if not QMediaDevices.audioOutputs():
            assert "No speaker or headphones" in parts.window.composer.refusal.text()
            return  # pressing play needs a sound device; the rest above does not
        view.read_aloud_button.click()
        await until(lambda: voice.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState)
        assert view.read_aloud_button.toolTip() == "Stop reading aloud"
        view.read_aloud_button.click()  # the same button stops it
        assert voice.player.playbackState() == QMediaPlayer.PlaybackState.StoppedState
        assert len(fake_openai.audio.spoken) == 1


async def test_read_aloud_reads_the_words_not_the_markdown_and_its_tip_says_the_price(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    reply = ("## Steps\n\nRun **this** with `pip`, see [the guide](https://example.com/guide/long/path).\n\n"
             "```py\nprint('x' * 4000)\n```\n")
    spoken = ("Steps.\n\nRun this with pip, see the guide.\n\nHere the reply shows some Python code.")
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        view = await a_reply(parts, fake_openai, reply)
        AudioSystem(None, ["speakers"]).install(parts)
        button = view.read_aloud_button

        def hover_tip() -> str:
            point = QPoint(2, 2)
            QApplication.sendEvent(button, QHelpEvent(QEvent.Type.ToolTip, point, button.mapToGlobal(point)))
            QToolTip.hideText()
            return button.toolTip()

        # tts-1 at $15 per million characters: the price of what will be read, before anything is bought
        assert hover_tip() == f"Read aloud ({format_usd(len(spoken) * 15)})"
        finished = next_emission(parts.runner.finished.connect)
        button.click()
        assert (await finished) == ("read aloud",)
        assert [b["input"] for b in fake_openai.audio.spoken] == [spoken]
        assert await audio_rows(parts) == [("tts-1", len(spoken) * 15)]
        parts.voice.voice.stop_playback()
        assert hover_tip() == "Read aloud (fetched before: free)"
        parts.endpoint.update_settings(speech_model="gpt-4o-mini-tts")
        assert hover_tip().startswith("Read aloud (~$")  # priced by the minute: an estimate


async def test_another_reply_s_read_aloud_reads_it_at_once(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        first = await a_reply(parts, fake_openai, "The first reply.")
        fake_openai.enqueue(Reply(text="The second reply."))
        await parts.chat.send("Again")
        await until(lambda: len(parts.chat.path) == 4 and not parts.runner.operations)
        second = parts.window.transcript.views[parts.chat.path[3].id]
        AudioSystem(None, ["speakers"]).install(parts)
        voice = parts.voice.voice
        fake_openai.speech_delay = 0.5
        first.read_aloud_button.click()
        await until(lambda: voice.playing)  # the first reply's audio is being fetched
        second.read_aloud_button.click()  # one click: the first stops, the second is read
        await until(lambda: voice.cache_path("The second reply.").exists())
        await until(lambda: ended(parts.runner, "read aloud"))
        assert not voice.cache_path("The first reply.").exists()  # stopped before it came: not kept, not played
        assert await audio_rows(parts) == [("tts-1", len("The second reply.") * 15)]


async def test_a_long_reading_that_fails_half_way_pays_for_no_piece_twice(tmp_path: Path,
                                                                          fake_openai: FakeOpenAI) -> None:
    paragraph = "A sentence to read aloud, long enough to fill the pieces of a speech request quickly. " * 30
    reply = f"{paragraph.strip()}\n\n{paragraph.strip()}"  # two pieces of at most 4,096 characters
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        view = await a_reply(parts, fake_openai, reply)
        AudioSystem(None, ["speakers"]).install(parts)
        voice = parts.voice.voice
        fake_openai.audio.speech_failures = {2: 400}  # the second piece fails (not retried)
        finished = next_emission(parts.runner.finished.connect)
        view.read_aloud_button.click()
        await finished
        assert len(fake_openai.audio.spoken) == 1 and not voice.cache_path(reply).exists()
        assert len(await audio_rows(parts)) == 1  # the first piece was paid for
        first, second = speech_chunks(reply)
        assert voice.read_aloud_price(reply) == format_usd(len(second) * 15)  # only what is left to fetch
        voice.stop_playback()
        finished = next_emission(parts.runner.finished.connect)
        view.read_aloud_button.click()  # again: only the piece that failed is asked for
        await finished
        assert [b["input"] for b in fake_openai.audio.spoken] == [first, second]
        assert len(await audio_rows(parts)) == 2  # one row a piece: none twice
        assert voice.cache_path(reply).exists()
        assert sorted(p.name for p in voice.cache_dir.iterdir()) == [voice.cache_path(reply).name]  # pieces gone


class Microphone(QObject):
    """What the audio system hands over once a recording starts (no microphone here): the samples as they come."""

    def __init__(self, pcm: bytes) -> None:
        super().__init__()
        self.samples = QBuffer()
        self.samples.setData(QByteArray(pcm))
        self.samples.open(QIODevice.OpenModeFlag.ReadOnly)
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True

    def begin(self, voice: Any) -> None:
        voice._source, voice._device = self, self.samples
        voice.recordingChanged.emit(True)


async def test_esc_throws_a_recording_away_without_sending_it(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        voice, composer = parts.voice.voice, parts.window.composer
        composer.set_text("my draft")
        parts.window.activateWindow()
        await until(parts.window.isActiveWindow)
        microphone = Microphone(tone_pcm(2.0))
        microphone.begin(voice)
        assert "Esc to throw it away" in composer.refusal.text()
        QTest.keyClick(composer.edit, Qt.Key.Key_Escape)
        assert microphone.stopped and not voice.recording
        assert composer.refusal.text() == "The recording was thrown away: nothing was sent."
        assert composer.text == "my draft" and voice.kept_recording is None
        await until(lambda: not parts.runner.operations)
        assert fake_openai.audio.uploads == []
        assert not parts.voice.throw_away_recording()  # not recording: Esc does what it does otherwise


def test_settings_pick_the_models_and_the_voice(qtbot: Any) -> None:
    from desktop_assistant.core.settings import Settings
    from desktop_assistant.ui.settings.settings_dialog import SettingsDialog

    dialog = SettingsDialog()
    qtbot.addWidget(dialog)
    dialog.load(Settings(), "none")
    assert dialog.voice.transcription.currentText() == "whisper-1" and dialog.voice.voice.currentText() == "alloy"
    dialog.voice.transcription.setCurrentText("gpt-4o-transcribe")
    dialog.voice.speech.setCurrentText("gpt-4o-mini-tts")
    dialog.voice.voice.setCurrentText("nova")
    saved: list[Settings] = []
    dialog.saveRequested.connect(lambda settings, _key: saved.append(settings))
    dialog._save()
    assert [(s.transcription_model, s.speech_model, s.speech_voice) for s in saved] == [
        ("gpt-4o-transcribe", "gpt-4o-mini-tts", "nova")]


async def test_a_spending_limit_stops_an_upload_and_says_why(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    clip = tmp_path / "memo.wav"
    clip.write_bytes(wav_bytes(tone_pcm(60.0)))  # a minute: $0.006 with whisper-1
    async with built_app(tmp_path / "home", fake_openai.base_url) as parts:
        await start(parts)
        parts.endpoint.update_settings(monthly_limit_usd="0.005")
        composer = parts.window.composer
        composer.set_text("draft")
        parts.voice.take_files([clip])
        await until(lambda: composer.refusal.text().startswith("Not sent"))
        assert "$0.005" in composer.refusal.text() and composer.text == "draft"
        assert fake_openai.audio.uploads == []


async def test_a_recording_that_failed_to_transcribe_is_kept_and_its_words_go_where_they_were_spoken(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    """A server error does not make the person say it all again; dictation finished after they went to another
    conversation is not put in that one's draft (one click copies it)."""
    fake_openai.audio.enqueue_failure(500)
    fake_openai.audio.enqueue_transcript("Book the train for Friday.", "And the hotel.")
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        parts.endpoint.update_settings(max_retries=0)
        voice, window, composer = parts.voice.voice, parts.window, parts.window.composer
        composer.set_text("Keep these words.")
        voice.transcribe_recording(tone_pcm(2.0))
        banner = window.banner
        await until(lambda: banner.isVisible() and banner.action.text() == "Transcribe again")
        assert "(500)" in banner.label.text() and "Your recording is kept" in banner.label.text()
        assert composer.text == "Keep these words." and voice.kept_recording is not None
        await until(lambda: ended(parts.runner, "transcribe"))

        banner.action.click()  # the same recording, not a new one
        await until(lambda: composer.text == "Keep these words. Book the train for Friday.")
        assert voice.kept_recording is None
        (upload,) = fake_openai.audio.uploads  # (the failed one is not counted by the fake server)
        assert upload["size"] == 44 + 2 * 16_000 * 2  # the two seconds recorded
        await until(lambda: ended(parts.runner, "transcribe"))

        await parts.chat.send("A question to make a conversation")
        await until(lambda: parts.chat.conversation is not None and not parts.chat.streaming)
        voice.transcribe_recording(tone_pcm(1.0))  # spoken here...
        window.new_chat()  # ...and the person went on before it came back
        await until(lambda: banner.isVisible() and banner.action.text() == "Copy it")
        assert composer.text == ""  # not put in the new chat's draft
        banner.action.click()
        assert QGuiApplication.clipboard().text() == "And the hotel."
