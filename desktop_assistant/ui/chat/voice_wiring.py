"""Connects the composer's microphone button, audio files dropped on the window and each reply's "Read aloud"
to :class:`VoiceController`. A transcription lands in the draft for review; it is never sent by itself."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QMimeData, QObject
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QWidget

from desktop_assistant.controllers.voice import VoiceController
from desktop_assistant.core.audio import UPLOAD_EXTENSIONS, meter_position
from desktop_assistant.ui import icons
from desktop_assistant.ui.chat.composer import Composer
from desktop_assistant.ui.chat.message_view import copy_to_clipboard

MIC_TIP = "Speak your message (or drop an audio file, or choose one with +)"
STOP_TIP = "Stop recording and transcribe"
RECORDING_HINT = "Recording… press the stop button when you are done, or Esc to throw it away."
THROWN_AWAY = "The recording was thrown away: nothing was sent."


def audio_files(mime: QMimeData) -> list[Path]:
    """Local files in ``mime`` named like audio (their content is checked later)."""
    if not mime.hasUrls():
        return []
    paths = [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]
    return [p for p in paths if p.suffix.lower().lstrip(".") in UPLOAD_EXTENSIONS]


class VoiceWiring(QObject):
    """The glue between the chat window's voice affordances and :class:`VoiceController`.

    Args:
        status: shows a passing line (the estimated cost of an upload).
        offer: says a text with a button that does something (the window's banner: text, label, action).
    """

    def __init__(self, window: QWidget, composer: Composer, transcript: Any, voice: VoiceController,
                 status: Callable[[str], None], offer: Callable[[str, str, Callable[[], None]], None]) -> None:
        super().__init__(window)
        self._composer, self.voice, self._status, self._offer = composer, voice, status, offer
        composer.voiceRequested.connect(self.toggle_recording)
        transcript.viewCreated.connect(self._connect_view)
        for view in list(transcript.views.values()):  # shown before the voice was wired (the first paint)
            self._connect_view(view)
        voice.transcribed.connect(self._on_transcribed)
        voice.recordingKept.connect(self._on_recording_kept)
        voice.problem.connect(composer.show_refusal)
        voice.problem.connect(self._forget_left_out)
        voice.recordingChanged.connect(self._on_recording)
        voice.level.connect(lambda value: composer.level_meter.setValue(round(meter_position(value) * 100)))
        voice.microphoneChanged.connect(self._on_microphone)
        voice.busyChanged.connect(self._on_busy)
        voice.estimated.connect(status)
        voice.playingChanged.connect(self._on_playing)
        self._speaking: Any = None  # the message view whose reply is read aloud
        self._left_out = ""  # the audio files dropped with the one transcribed, said with its transcription
        self._on_microphone(voice.mic_problem)
        for target in (window, composer.edit.viewport()):
            target.installEventFilter(self)

    def toggle_recording(self) -> None:
        """Start recording, or stop and transcribe."""
        if self.voice.recording:
            self.voice.stop_recording()
        else:
            self.voice.start_recording()

    def throw_away_recording(self) -> bool:
        """Esc while recording: stop without transcribing (nothing is sent or paid). False when not recording (Esc
        then does what it does otherwise)."""
        if not self.voice.recording:
            return False
        self.voice.cancel_recording()
        self._composer.show_refusal(THROWN_AWAY)
        return True

    def take_files(self, paths: list[Path]) -> bool:
        """Transcribe dropped audio files into the draft; False when none of ``paths`` is named like audio."""
        audio = [p for p in paths if p.suffix.lower().lstrip(".") in UPLOAD_EXTENSIONS]
        self._left_out = ""
        if len(audio) > 1:  # said now, and again with the transcription (which would cover it)
            left = ", ".join(f"“{p.name}”" for p in audio[1:])
            self._left_out = f" One audio file at a time: {left} {'was' if len(audio) == 2 else 'were'} not."
            self._composer.show_refusal(f"One audio file at a time: “{audio[0].name}” is being transcribed.")
        for path in audio[:1]:
            self.voice.transcribe_file(path)
        return bool(audio)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Take drags and drops of audio files (images and other files go on to the window and composer)."""
        if isinstance(event, QDragEnterEvent | QDropEvent) and audio_files(event.mimeData()):
            event.acceptProposedAction()
            if event.type() == QEvent.Type.Drop:
                self.take_files(audio_files(event.mimeData()))
            return True
        return super().eventFilter(watched, event)

    def _connect_view(self, view: Any) -> None:
        button = getattr(view, "read_aloud_button", None)  # (a reply's view: a question has none)
        if button is not None:
            view.readAloudRequested.connect(lambda text: self._read_aloud(view, text))
            _PriceTip(button, lambda: self._read_aloud_tip(view))

    def _read_aloud_tip(self, view: Any) -> str | None:
        """The tip of a reply's "Read aloud" with what reading it costs (None while it is being read: "Stop")."""
        if view is self._speaking and self.voice.playing:
            return None
        return f"Read aloud ({self.voice.read_aloud_price(view.text)})"

    def _read_aloud(self, view: Any, text: str) -> None:
        """A reply's "Read aloud": the reply being read stops; another one is read instead of it at once."""
        another = view is not self._speaking
        if another and self.voice.playing:
            self.voice.stop_playback()  # (while this view is still the one speaking: its button turns back)
        self._speaking = view
        self.voice.read_aloud(text, view.message.id, instead=another)

    def _on_playing(self, playing: bool) -> None:
        """The reply being read shows a stop button on its "Read aloud" while it plays."""
        button = getattr(self._speaking, "read_aloud_button", None)
        if button is None:
            return
        tip = "Stop reading aloud" if playing else "Read aloud"
        button.setToolTip(tip)
        button.setAccessibleName(tip)
        icons.set_icon(button, "stop" if playing else "speaker")

    def _forget_left_out(self, *_why: object) -> None:
        """The transcription that would have said which dropped files were left out will not come."""
        self._left_out = ""

    def _on_transcribed(self, text: str) -> None:
        left_out, self._left_out = self._left_out, ""  # (said with this transcription, or not at all)
        if self.voice.origin != self.voice.conversation_now():
            # spoken in another conversation, left meanwhile: not put in this one's draft, and not lost either
            self._offer("Your dictation arrived after you left the conversation it was spoken in: it was not "
                        "put in this one.", "Copy it", lambda: copy_to_clipboard(text))
            return
        self._composer.append_text(text)  # (one Ctrl+Z takes it out again)
        self._composer.show_refusal(f"Transcribed: check the text, then press Enter to send.{left_out}")
        self._composer.edit.setFocus()

    def _on_recording_kept(self, why: str) -> None:
        """A recording was not transcribed: it is kept, and one click transcribes it again."""
        self._left_out = ""
        said = f"{why} " if why else ""
        self._offer(f"{said}Your recording is kept: transcribe it again when that is sorted out.",
                    "Transcribe again", self.voice.transcribe_again)

    def _on_recording(self, recording: bool) -> None:
        button = self._composer.mic_button
        tip = STOP_TIP if recording else MIC_TIP
        button.setToolTip(tip)
        button.setAccessibleName(tip)
        icons.set_icon(button, "stop" if recording else "mic")
        self._composer.level_meter.setVisible(recording)
        if recording:
            self._left_out = ""  # (a dictation says nothing of files dropped before)
            self._composer.show_refusal(RECORDING_HINT)
        elif self._composer.refusal.text() == RECORDING_HINT:
            self._composer.show_refusal("")  # (it stayed beside "Transcribing…" and the errors after)

    def _on_microphone(self, problem: object) -> None:
        button = self._composer.mic_button
        if self.voice.recording:
            return
        button.setEnabled(problem is None)
        tip = MIC_TIP if problem is None else str(problem)
        button.setToolTip(tip)
        button.setAccessibleDescription(tip)

    def _on_busy(self, busy: bool) -> None:
        self._composer.mic_button.setEnabled(not busy and self.voice.mic_problem is None)
        self._composer.thinking.setText("Transcribing…")
        self._composer.thinking.setVisible(busy)


class _PriceTip(QObject):
    """Sets a button's tooltip when it is about to show (the price of what it does, worked out then)."""

    def __init__(self, button: QWidget, tip: Callable[[], str | None]) -> None:
        super().__init__(button)
        self._tip = tip
        button.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Before the tooltip shows, put the price in it; the tooltip is then shown as usual."""
        if event.type() == QEvent.Type.ToolTip and isinstance(watched, QWidget) and (tip := self._tip()) is not None:
            watched.setToolTip(tip)
        return False
