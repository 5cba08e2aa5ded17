"""The Search tab of Settings: which embeddings model (and how many dimensions) search by meaning uses."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QSpinBox, QWidget

from desktop_assistant.core.settings import Settings

EMBEDDING_MODELS = ("text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002")


class SearchForm(QWidget):
    """Picks the embeddings model and vector size for search by meaning."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QFormLayout(self)
        self.model = QComboBox()
        self.model.setObjectName("embeddings_model")
        self.model.setAccessibleName("Embeddings model")
        self.model.setEditable(True)  # a local server names its own embeddings models
        self.model.addItems(list(EMBEDDING_MODELS))
        layout.addRow("Search by meaning with", self.model)
        self.dimensions = QSpinBox()
        self.dimensions.setObjectName("embeddings_dimensions")
        self.dimensions.setAccessibleName("Vector size")
        self.dimensions.setRange(64, 3072)
        self.dimensions.setSingleStep(64)
        layout.addRow("Vector size", self.dimensions)
        note = QLabel("Smaller vectors take less disk and search faster, with nearly the same results "
                      "(text-embedding-3 models only; other models keep their own size). Changing either means "
                      "indexing your history again: the search panel shows what that costs before it starts.")
        note.setWordWrap(True)
        note.setProperty("muted", True)
        layout.addRow(note)

    def load(self, settings: Settings) -> None:
        """Show ``settings``' choices."""
        self.model.setCurrentText(settings.embeddings_model)
        self.dimensions.setValue(settings.embeddings_dimensions)

    def values(self, settings: Settings) -> Settings:
        """``settings`` with the choices made here (an emptied model box keeps the earlier model)."""
        return settings.copy(embeddings_model=self.model.currentText().strip() or settings.embeddings_model,
                             embeddings_dimensions=self.dimensions.value())
