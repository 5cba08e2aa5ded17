"""Editing an earlier question: its words go in the box to change and resend, while the draft being written
waits (Esc or Resend brings it back), and so do the images and files attached to the draft. The question's own
images and files are shown above the box, each of which can be left out of the resend."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from desktop_assistant.core.models import Message, Role, attached_parts, edited_parts, typed_text
from desktop_assistant.ui.chat.composer import Composer
from desktop_assistant.ui.chat.message_view import MessageView

if TYPE_CHECKING:
    from desktop_assistant.controllers.chat import ChatController
    from desktop_assistant.controllers.estimates import EstimateController

Runner = Callable[[str, Coroutine[Any, Any, Any]], None]


def _kept_sentence(attached: list[dict[str, Any]], left_out: int = 0) -> str:
    """What goes with the edited question: its images and files (counted), and how many were left out."""
    images = sum(1 for p in attached if p.get("type") == "image_url")
    files = len(attached) - images
    named = [f"{n} {what}{'s' if n != 1 else ''}" for n, what in ((images, "image"), (files, "file")) if n]
    if not named:
        return f" Nothing attached goes with it ({left_out} left out)." if left_out else ""
    one = len(attached) == 1
    goes = f"{' and '.join(named)} go{'es' if one else ''} with it"
    if left_out:
        return f" Its other {goes}; {left_out} left out."
    return f" Its {goes}, as {'it was' if one else 'they were'} (✕ leaves {'it' if one else 'one'} out)."


class Editing:
    """The edit in progress, if any: which question, and the draft that waits meanwhile."""

    def __init__(self, composer: Composer, chat: ChatController, estimates: EstimateController,
                 run: Runner, views: Callable[[], dict[int, MessageView]] = dict,
                 offer: Callable[[str], None] = lambda words: None,
                 reveal: Callable[[MessageView], None] = lambda view: None) -> None:
        self._composer, self._chat, self._estimates, self._run = composer, chat, estimates, run
        self._views = views  # the transcript's views: the question edited is outlined
        self._offer = offer  # the words of an edit that cannot come back, offered to the person
        self._reveal = reveal  # scrolls the transcript to a view
        self.message_id: int | None = None
        self._waiting = ""  # the draft put aside while an earlier question is edited
        self._original = ""  # the words of the question being edited, as they were
        self._question: Message | None = None
        self.attached: list[dict[str, Any]] = []  # the question's images and files still going with it
        composer.edit_attachments.removed.connect(self._leave_out)

    @property
    def active(self) -> bool:
        """An earlier question is being edited."""
        return self.message_id is not None

    def draft_to_keep(self) -> str:
        """What the person is writing: the box's text, or while editing, the draft that waits."""
        return self._waiting if self.active else self._composer.text

    def start_on_last(self) -> None:
        """Edit the last question of the conversation shown (Up in an empty box)."""
        last = next((m for m in reversed(self._chat.path) if m.role is Role.USER), None)
        if last is not None:
            self.start(last.id)

    def start(self, message_id: int) -> None:
        """Put the question ``message_id`` in the box; the draft being written waits."""
        message = next((m for m in self._chat.path if m.id == message_id), None)
        if message is None:
            return
        if not self.active:
            self._waiting = self._composer.text
        self._outline(False)
        self.message_id = message_id
        self._original = typed_text(message.parts)
        self._question = message
        self.attached = attached_parts(message.parts)
        self._outline(True)
        view = self._views().get(message_id)
        if view is not None:
            self._reveal(view)  # the question edited, in sight (Up from the box left it above the view)
        self._estimates.set_editing(message)
        self._composer.set_text(self._original)
        self._composer.send_button.setText("Resend")
        self._composer.attachments.hide()  # the draft's images wait with it: they are not the question's
        self._show_attached()
        self._composer.edit.setFocus()

    def _show_attached(self) -> None:
        """The question's images and files above the box, and the hint saying what goes with the resend."""
        question = self._question
        if question is None:
            return
        self._composer.edit_attachments.set_parts(self.attached)
        left_out = len(attached_parts(question.parts)) - len(self.attached)
        kept = _kept_sentence(self.attached, left_out)
        waiting = " Your draft waits and comes back after." if self._waiting.strip() else ""
        self._composer.show_edit_hint(f"Editing an earlier message: Resend keeps the old version as an alternative."
                                      f"{kept} Esc cancels.{waiting}")

    def _leave_out(self, index: int) -> None:
        """The person took one of the question's images or files out of the resend."""
        if self._question is None or not 0 <= index < len(self.attached):
            return
        self.attached = [p for i, p in enumerate(self.attached) if i != index]
        question = self._question
        self._estimates.set_editing(replace(question, parts=edited_parts(question.parts, self._original,
                                                                           self.attached)))
        self._show_attached()
        self._composer.edit.setFocus()

    def _outline(self, on: bool) -> None:
        """Mark the question being edited in the transcript (or take the mark off)."""
        view = self._views().get(self.message_id) if self.message_id is not None else None
        if view is not None:
            view.setProperty("editing", on)
            style = view.style()
            style.unpolish(view)
            style.polish(view)

    def end(self) -> None:
        """Leave editing: the box gets back the draft that waited, without the editing hint."""
        self._outline(False)
        self.message_id = None
        self._question = None
        self.attached = []
        self._composer.edit_attachments.set_parts([])
        self._estimates.set_editing(None)
        self._composer.send_button.setText("Send")
        draft, self._waiting = self._waiting, ""
        self._composer.set_text(draft)
        bar = self._composer.attachments
        bar.setVisible(bool(bar.chips or bar.file_chips))
        self._composer.show_edit_hint("")
        self._composer.show_refusal("")

    def cancel(self) -> tuple[int, str] | None:
        """Esc: leave the edit, the draft that waited comes back. Returns the question's id and the words of the
        edit when they were changed (to be offered back: an Esc pressed by reflex loses no words), else None."""
        edit = self.kept()
        self.end()
        return edit if edit is not None and edit[1].strip() else None

    def kept(self) -> tuple[int, str] | None:
        """The edit in progress, to keep with the conversation's draft: the question's id and the words in the box
        (None when no question is edited, or its words are unchanged)."""
        if self.message_id is None or self._composer.text == self._original:
            return None
        return self.message_id, self._composer.text

    def leave(self) -> None:
        """Another conversation is shown: leave the edit (kept with the draft) and give the box its draft back."""
        if self.active:
            self.end()

    def resume(self, message_id: int, text: str) -> None:
        """Take up again an edit kept with the draft of the conversation shown: the question in the box with the
        edit's words, the draft waiting. When the question is no longer shown, its words are offered instead."""
        if any(m.id == message_id for m in self._chat.path):
            self.start(message_id)
            self._composer.set_text(text)
        elif text.strip():
            self._offer(text)

    def leave_if_gone(self) -> str:
        """The question being edited is no longer shown (another conversation, a new chat, another branch):
        leave the edit, and the draft that waited comes back. Returns the words of an edit left unsent, if they
        were changed (else "")."""
        if self.message_id is None or any(m.id == self.message_id for m in self._chat.path):
            return ""
        edited = self._composer.text
        self.end()
        return edited if edited.strip() and edited != self._original else ""

    def resend(self, text: str) -> None:
        """Send the edited question as an alternative to the old one (refused, kept in the box, while a reply
        is still arriving)."""
        if self.message_id is None or not text.strip():
            return
        if self._chat.streaming:
            self._composer.show_refusal("A reply is still arriving: Resend once it has finished, or stop it first "
                                        "with the Stop button.")
            return
        message_id, attached = self.message_id, self.attached
        self.end()
        self._run("edit", self._chat.edit_and_resend(message_id, text, attached))
