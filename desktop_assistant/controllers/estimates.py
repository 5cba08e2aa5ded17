"""The live token count and cost of the draft and of the whole next request, counted off the UI thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from desktop_assistant.controllers.attachments import AttachmentsController
from desktop_assistant.controllers.chat import ChatController
from desktop_assistant.controllers.files import FileAttachment
from desktop_assistant.controllers.images import Attachment
from desktop_assistant.controllers.runner import OperationRunner
from desktop_assistant.core.catalog import lookup, sees_images
from desktop_assistant.core.models import Message, edited_parts
from desktop_assistant.core.tokens import count_text, estimate_tool_definitions

DEBOUNCE_MS = 120


@dataclass(frozen=True)
class DraftEstimate:
    """What the next request would cost, before it is sent."""

    model: str
    draft_tokens: int
    prompt_tokens: int
    exact: bool
    context_window: int
    budget: int
    dropped: int
    fits: bool
    input_cost_micros: int | None
    worst_case_micros: int | None
    max_output_tokens: int
    images: dict[str, tuple[int, int | None]] = field(default_factory=dict)  # hash -> (tokens, cost)
    files: dict[str, tuple[int, int | None]] = field(default_factory=dict)  # file key -> (tokens, cost)
    earlier_images_unseen: int = 0  # images of earlier questions the model cannot see (sent as a short note)


REMEMBER_KEY = "remember token counts"


class EstimateController(QObject):
    """Recounts after typing pauses; the counting (tiktoken) runs on a worker thread.

    Signals:
        estimated(DraftEstimate): a fresh estimate.
    """

    estimated = Signal(object)

    def __init__(self, chat: ChatController, runner: OperationRunner, attachments: AttachmentsController,
                 parent: QObject | None = None, *,
                 remember: Callable[[], Coroutine[Any, Any, None]] | None = None) -> None:
        super().__init__(parent)
        self._remember = remember  # saves the counts just made, so the next start need not make them again
        self._chat = chat
        self._attachments = attachments
        self._runner = runner
        self._draft = ""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._start)
        self.enabled = False
        self.last: DraftEstimate | None = None
        self._editing: Message | None = None

    def set_editing(self, question: Message | None) -> None:
        """Count the request an edited ``question`` would make (the history before it, the files and images in
        ``question``'s parts, the draft as its text), or, with None, the next question again."""
        self._editing = question
        if self.enabled:
            self._timer.start()

    def enable(self) -> None:
        """Start counting (after the first paint, when tiktoken may be loaded)."""
        self.enabled = True
        self._timer.start()

    def draft_changed(self, text: str) -> None:
        """The draft (or the conversation, the model) changed: recount soon."""
        self._draft = text
        if self.enabled:
            self._timer.start()

    def _start(self) -> None:
        if self._runner.closing:
            return
        self._runner.cancel("estimate")
        self._runner.start("estimate", self.compute(), key="estimate")

    async def compute(self) -> DraftEstimate:
        """Count now and publish the result."""
        chat, draft, editing = self._chat, self._draft, self._editing
        model, path, images = chat.model, list(chat.path), list(self._attachments.items)
        files = list(self._attachments.files)
        at = next((i for i, m in enumerate(path) if m.id == editing.id), None) if editing is not None else None
        if at is not None and editing is not None:  # the attachments wait with the draft put aside
            # (``editing`` holds the question's images and files still going with it)
            path = [*path[:at], replace(path[at], parts=edited_parts(editing.parts, draft))]
            images, files = [], []
        estimate = await asyncio.to_thread(self._count, model, draft, path, images, files, at is not None)
        self.last = estimate
        self.estimated.emit(estimate)
        if self._remember is not None and self._runner.find(REMEMBER_KEY) is None and not self._runner.closing:
            # an operation of its own: a newer estimate cancels this one, and a write cancelled on its way to the
            # store could leave the task waiting for ever (closing the app then waited out its time limit)
            self._runner.start("remember token counts", self._remember(), key=REMEMBER_KEY)
        return estimate

    def _count(self, model: str, draft: str, path: list[Message], images: list[Attachment],
               files: list[FileAttachment], asked: bool = False) -> DraftEstimate:
        """``asked``: the question is the last of ``path`` (an edited one), not the draft."""
        chat = self._chat
        question = draft if (draft.strip() or images or files) and not asked else None
        plan = chat.plan(question, path, images, files)
        max_out = chat.max_output_tokens()
        prices = chat.prices
        tools = chat.tools.known_definitions(chat.conversation) if chat.tools is not None else []
        tool_tokens = 0
        if tools:  # the tool definitions go with the request too (an estimate: see core/tokens.py)
            has_system = chat.conversation is not None and bool(chat.conversation.system_prompt.strip())
            tool_tokens = estimate_tool_definitions(tools, model, merged_into_system=has_system).tokens
        prompt_tokens = plan.prompt_tokens + tool_tokens
        input_cost = prices.cost_micros(model, prompt_tokens, 0, 0)
        worst = prices.worst_case_micros(model, prompt_tokens, max_out)
        return DraftEstimate(model=model, draft_tokens=count_text(draft, model) if draft else 0,
                             prompt_tokens=prompt_tokens, exact=plan.exact and lookup(model).known and tools == [],
                             context_window=plan.context_window, budget=plan.budget, dropped=plan.dropped,
                             fits=plan.fits, input_cost_micros=input_cost, worst_case_micros=worst,
                             max_output_tokens=max_out, images=self._image_costs(model, images),
                             files=self._file_costs(model, files),
                             earlier_images_unseen=0 if sees_images(model) else sum(
                                 1 for m in path for p in m.parts if p.get("type") == "image_url"))

    def _file_costs(self, model: str, files: list[FileAttachment]) -> dict[str, tuple[int, int | None]]:
        prices = self._chat.prices
        costs: dict[str, tuple[int, int | None]] = {}
        for f in files:
            tokens = count_text(f.block(), model)
            costs[f.key] = (tokens, prices.cost_micros(model, tokens, 0, 0))
        return costs

    def _image_costs(self, model: str, images: list[Attachment]) -> dict[str, tuple[int, int | None]]:
        prices = self._chat.prices
        costs: dict[str, tuple[int, int | None]] = {}
        for a in images:
            tokens = a.tokens(model)
            costs[a.sha256] = (tokens, prices.cost_micros(model, tokens, 0, 0))
        return costs
