"""Look: Fusion with a tuned palette that follows the system's light or dark scheme, live."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QToolTip

ACCENT = "#2f6fdf"


@dataclass(frozen=True)
class Colors:
    """The few colours the window uses besides the palette."""

    dark: bool
    window: str
    base: str
    text: str
    muted: str
    user_bubble: str
    border: str
    error: str
    disabled: str  # text of a control that cannot be used now
    accent: str = ACCENT


LIGHT = Colors(False, "#f7f7f8", "#ffffff", "#1f2328", "#5c6370", "#eef2f8", "#dde1e6", "#b42318", "#80868f")
DARK = Colors(True, "#1e1f22", "#26272b", "#e6e6e6", "#a4a9b3", "#2e3340", "#3a3d44", "#ff8a80", "#7a7f88")

APPEARANCES = ("system", "light", "dark")
"""What the person may choose in Settings: follow the system's scheme, or always light, or always dark."""

_appearance = "system"


def set_appearance(appearance: str) -> bool:
    """Follow the system's scheme (``"system"``) or keep to ``"light"`` or ``"dark"``; an unknown value is
    ``"system"``. Returns whether the scheme shown changes (then apply it: see ``MainWindow.follow_scheme``)."""
    global _appearance
    was = is_dark()
    _appearance = appearance if appearance in APPEARANCES else "system"
    return is_dark() != was


def is_dark() -> bool:
    """Whether the window is dark: the person's choice, or else the system's scheme."""
    if _appearance != "system":
        return _appearance == "dark"
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


def follows_system() -> bool:
    """Whether a change of the system's scheme changes the window's."""
    return _appearance == "system"


def colors() -> Colors:
    """The colours for the current scheme."""
    return DARK if is_dark() else LIGHT


STYLE_ARGUMENTS = ["-style", "Fusion"]
"""For ``QApplication``'s arguments: Fusion from the start. ``setStyle`` hands Python a ``QStyle``, and creating
that class costs ~7 ms before the first paint."""


def apply(app: QApplication) -> Colors:
    """Apply Fusion, the palette and the style sheet for the current scheme; returns the colours used."""
    app.setStyle("Fusion")
    c = apply_palette(app)
    apply_style_sheet(app, c)
    return c


def apply_palette(app: QApplication) -> Colors:
    """Apply the palette for the current scheme (not the style, not the style sheet); returns the colours used."""
    c = colors()
    pal = QPalette()
    pal.setColor(QPalette.ColorRole.Window, QColor(c.window))
    pal.setColor(QPalette.ColorRole.Base, QColor(c.base))
    pal.setColor(QPalette.ColorRole.AlternateBase, QColor(c.user_bubble))
    pal.setColor(QPalette.ColorRole.Text, QColor(c.text))
    pal.setColor(QPalette.ColorRole.WindowText, QColor(c.text))
    pal.setColor(QPalette.ColorRole.ButtonText, QColor(c.text))
    pal.setColor(QPalette.ColorRole.Button, QColor(c.base))
    pal.setColor(QPalette.ColorRole.PlaceholderText, QColor(c.muted))
    pal.setColor(QPalette.ColorRole.Highlight, QColor(c.accent))
    pal.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    pal.setColor(QPalette.ColorRole.Link, QColor("#8ab4f8" if c.dark else "#1a56c4"))
    pal.setColor(QPalette.ColorRole.ToolTipBase, QColor(c.base))
    pal.setColor(QPalette.ColorRole.ToolTipText, QColor(c.text))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(c.disabled))  # greyed out, in both schemes
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Base, QColor(c.window))  # a field that is off
    app.setPalette(pal)
    QToolTip.setPalette(pal)  # tooltips keep the platform theme's own palette (pale yellow) otherwise
    return c


def apply_style_sheet(app: QApplication, c: Colors) -> None:
    """Apply the style sheet for ``c``.

    With an application style sheet set, every widget moved into a window is polished again with its whole
    subtree, so the window is built first and the sheet applied once, before it shows.
    """
    app.setStyleSheet(_stylesheet(c))


def _stylesheet(c: Colors) -> str:
    return f"""
    QWidget#sidebar {{ background: {c.window}; }}
    QWidget#chat_area, QScrollArea#transcript, QWidget#transcript_body {{ background: {c.base}; }}
    QFrame#message_user {{ background: {c.user_bubble}; border-radius: 12px; }}
    QFrame#message_user[editing="true"] {{ border: 2px solid {c.accent}; }}
    QLabel#message_footer, QLabel[muted="true"] {{ color: {c.muted}; }}
    QLabel#message_error {{ color: {c.error}; }}
    QPlainTextEdit#composer {{ border: 1px solid {c.border}; border-radius: 12px; padding: 8px;
                               background: {c.base}; }}
    QPushButton#send_button {{ background: {c.accent}; color: white; border: none; border-radius: 8px;
                               padding: 6px 16px; font-weight: 600; }}
    QPushButton#send_button:disabled {{ background: {c.border}; color: {c.muted}; }}
    QPushButton#stop_button {{ border: 1px solid {c.border}; border-radius: 8px; padding: 6px 16px; }}
    QProgressBar#context_gauge {{ border: none; background: {c.border}; border-radius: 2px; max-height: 4px; }}
    QProgressBar#context_gauge::chunk {{ background: {c.accent}; border-radius: 2px; }}
    QListWidget#conversation_list {{ border: none; background: {c.window}; }}  /* transparent: a black scroll track */
    QListWidget#conversation_list::item {{ padding: 6px 8px; border-radius: 6px; }}
    QListWidget#conversation_list::item:selected {{ background: {c.user_bubble}; color: {c.text}; }}
    QListWidget#search_hits {{ border: none; background: {c.window}; }}
    QListWidget#search_hits::item {{ border-radius: 6px; }}
    QListWidget#search_hits::item:selected, QListWidget#search_hits::item:hover {{ background: {c.user_bubble}; }}
    QFrame#notice_banner {{ border: 1px solid {c.border}; border-radius: 8px; background: {c.window}; }}
    QToolButton {{ border: none; padding: 4px; border-radius: 6px; }}
    QToolButton#presets_button::menu-indicator, QToolButton#batch_earlier::menu-indicator,
    QPushButton#lab_add_check::menu-indicator {{ image: none; width: 0; }}
    QDialogButtonBox {{ dialogbuttonbox-buttons-have-icons: 0; }}
    QToolButton:hover {{ background: {c.user_bubble}; }}
    QToolButton:checked {{ background: {c.user_bubble}; border: 1px solid {c.border}; }}
    QToolButton:focus {{ border: 2px solid {c.accent}; padding: 2px; }}
    QPlainTextEdit#composer:focus {{ border: 1px solid {c.accent}; }}
    QPushButton#send_button:focus {{ border: 2px solid {c.text}; padding: 4px 14px; }}
    QPushButton#stop_button:focus {{ border: 2px solid {c.accent}; padding: 5px 15px; }}
    {_unchecked_indicators(c)}
    """


def _unchecked_indicators(c: Colors) -> str:
    """Fusion outlines an unchecked box or radio in a shade of the window, too faint to find (1.7:1 on the light
    window, 1.2:1 on the dark). A clear edge for the unchecked state; the checked state keeps Fusion's own mark."""
    box = f"border: 1px solid {c.muted}; background: {c.base}; width: 12px; height: 12px;"
    return (f"QCheckBox::indicator:unchecked, QAbstractItemView::indicator:unchecked {{ {box} border-radius: 3px; }} "
            f"QRadioButton::indicator:unchecked {{ {box} border-radius: 7px; }} "
            f"QCheckBox::indicator:unchecked:disabled, QRadioButton::indicator:unchecked:disabled, "
            f"QAbstractItemView::indicator:unchecked:disabled "
            f"{{ border-color: {c.border}; }}")
