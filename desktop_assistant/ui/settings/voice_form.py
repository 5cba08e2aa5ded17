"""The Voice tab of Settings: the transcription model, and the model and voice that read replies aloud."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QWidget

from desktop_assistant.core.audio import SPEECH_MODELS, TRANSCRIPTION_MODELS, VOICES
from desktop_assistant.core.settings import Settings


def _combo(name: str, label: str, items: tuple[str, ...]) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    combo.setAccessibleName(label)
    combo.setEditable(True)  # an endpoint may offer other models or voices
    combo.addItems(list(items))
    return combo


class VoiceForm(QWidget):
    """Picks the models and the voice used for voice input and read aloud."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QFormLayout(self)
        self.transcription = _combo("transcription_model", "Transcription model", TRANSCRIPTION_MODELS)
        self.speech = _combo("speech_model", "Read-aloud model", SPEECH_MODELS)
        self.voice = _combo("speech_voice", "Voice", VOICES)
        layout.addRow("Transcribe speech with", self.transcription)
        layout.addRow("Read replies aloud with", self.speech)
        layout.addRow("Voice", self.voice)
        note = QLabel("whisper-1 is billed per minute of audio, the gpt-4o models per token; tts-1 per character. "
                      "Audio read aloud is kept, so playing a reply again costs nothing.")
        note.setWordWrap(True)
        note.setProperty("muted", True)
        layout.addRow(note)

    def load(self, settings: Settings) -> None:
        """Show ``settings``' choices."""
        self.transcription.setCurrentText(settings.transcription_model)
        self.speech.setCurrentText(settings.speech_model)
        self.voice.setCurrentText(settings.speech_voice)

    def values(self, settings: Settings) -> Settings:
        """``settings`` with the choices made here (an emptied box keeps the earlier choice)."""
        return settings.copy(
            transcription_model=self.transcription.currentText().strip() or settings.transcription_model,
            speech_model=self.speech.currentText().strip() or settings.speech_model,
            speech_voice=self.voice.currentText().strip() or settings.speech_voice)
