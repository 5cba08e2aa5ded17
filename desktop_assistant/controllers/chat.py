"""The chat workflow: conversations, sending, streaming, stop, regenerate, edit and resend, continue.

Persist first, show second: the question is stored before the request leaves; the reply row exists from the
first delta (``streaming``) and is flushed at least every 500 ms; a stopped or failed reply keeps what arrived.
Stream deltas are coalesced to one ``replyProgress`` per frame.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from desktop_assistant.controllers.attachments import AttachmentsController
from desktop_assistant.controllers.endpoint import EndpointController
from desktop_assistant.controllers.files import FileAttachment
from desktop_assistant.controllers.images import Attachment, with_image_data
from desktop_assistant.controllers.runner import OperationRunner
from desktop_assistant.controllers.titles import TitleMaker
from desktop_assistant.controllers.tools import ToolLoop, ToolStep
from desktop_assistant.controllers.usage import UsageController
from desktop_assistant.core import requests
from desktop_assistant.core.branches import active_path, alternative_position, newest_leaf_under, siblings
from desktop_assistant.core.catalog import lookup, sees_images
from desktop_assistant.core.errors import ErrorAction, ErrorKind, UserFacingError
from desktop_assistant.core.history import HistoryPlan, has_older_turns, plan_history
from desktop_assistant.core.models import (
    Conversation,
    LedgerEntry,
    Message,
    Role,
    Status,
    Usage,
    added_usage,
    edited_parts,
    text_part,
)
from desktop_assistant.core.pricing import PriceTable
from desktop_assistant.core.tokens import count_text, estimate_completion_tokens
from desktop_assistant.services.drafts import NEW_CHAT
from desktop_assistant.services.gateway import Finished, RefusalDelta, TextDelta, ToolCallDelta, UsageReport
from desktop_assistant.services.store import Store

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 0.5
VISION_FALLBACK = "gpt-4o-mini"
VISION_CHOICES = ("gpt-4o-mini", "gpt-4.1-mini", "gpt-4o", "gpt-4.1")
"""The models "Switch" picks among for images: good at them, and no reasoning model (their hidden reasoning is
billed too) nor a nano one (too weak to be the one chosen for a person)."""
TYPICAL_REPLY_TOKENS = 500
FRAME_MS = 16
STOP_KEY = "chat"


@dataclass(frozen=True)
class NewOptions:
    """What a new conversation starts with (the default system prompt, or a preset's options)."""

    system_prompt: str = ""
    temperature: float | None = None
    max_output_tokens: int | None = None

    @classmethod
    def from_preset(cls, preset: dict[str, str] | None, default_system_prompt: str) -> NewOptions:
        """The options of ``preset`` (None: the defaults)."""
        if not preset:
            return cls(default_system_prompt)

        def number(key: str) -> float | None:
            try:
                return float(preset.get(key, ""))
            except ValueError:
                return None
        tokens = number("max_output_tokens")
        return cls(preset.get("system_prompt", default_system_prompt), number("temperature"),
                   int(tokens) if tokens else None)


def question_parts(text: str, images: list[Attachment], files: list[FileAttachment] | None = None
                   ) -> list[dict[str, Any]]:
    """A question's stored content: its text, its files' delimited text, then its images."""
    files = files or []
    head = [text_part(text)] if text or not (images or files) else []
    return head + [f.part() for f in files] + [a.part() for a in images]


def _too_long_advice(images: list[Attachment]) -> str:
    """What makes a message that is too long fit, what helps most first: its images' detail, when it has images."""
    rest = "send only part of a long file (its “Send part” button), or choose a model with a larger context."
    if any(a.detail != "low" for a in images):
        return ("Set its images to low detail (the detail box under each image: low costs a small, fixed amount) "
                f"or remove some; or shorten it, {rest}")
    if images:
        return f"Remove some of its images; or shorten it, {rest}"
    return f"Shorten it, {rest}"


def _if_its_image(error: UserFacingError, question: Message) -> UserFacingError:
    """``error``, or when the server refused an image of the question, the way to ask without it: editing the
    question, where each image has a ✕ that leaves it out (the question's words are kept)."""
    if error.kind is not ErrorKind.BAD_REQUEST or "image" not in error.message.lower() or not any(
            p.get("type") == "image_url" for p in question.parts):
        return error
    return UserFacingError(error.kind, f"{error.message} To ask without it, edit the question: the ✕ on an image "
                           "leaves it out.", ErrorAction.EDIT_QUESTION, request_id=error.request_id,
                           detail=error.detail)


def _estimated_usage(model: str, wire: list[dict[str, Any]], text: str) -> Usage:
    """What a reply of ``text`` to the request ``wire`` cost, estimated (its usage never arrived)."""
    prompt = plan_history(model, wire, max_output_tokens=1).prompt_tokens
    return Usage(prompt, 0, estimate_completion_tokens(text, model), estimated=True)


class ChatController(QObject):
    """Drives one chat window.

    Signals:
        conversationsChanged(list): the sidebar's conversations (``Conversation``), newest first.
        conversationOpened(object): the conversation now shown (``Conversation`` or None for a new chat).
        conversationStored(object): the new chat shown was stored (its first message is on its way); followed by
            ``conversationOpened`` with it.
        transcriptChanged(list): the messages of the current branch, oldest first.
        messageChanged(object): one message changed (status, usage, text after streaming).
        replyProgress(int, str): the streaming reply's id and full text so far (at most once per frame).
        streamingChanged(bool): a reply is streaming.
        sendAccepted(): the draft was taken (the composer may clear).
        sendRefused(object): the draft could not be sent (``UserFacingError``); it stays in the composer.
        historyCut(int): messages of the branch left out of the last request.
        deletedUndoable(int, str): a conversation was deleted; it can be restored until the next purge.
        thinking(int): seconds waited with no text yet (each second while a model thinks); -1 when it ends.
    """

    conversationsChanged = Signal(list)
    conversationOpened = Signal(object)
    conversationStored = Signal(object)
    transcriptChanged = Signal(list)
    messageChanged = Signal(object)
    replyProgress = Signal(int, str)
    thinking = Signal(int)
    presetsChanged = Signal(list)
    streamingChanged = Signal(bool)
    sendAccepted = Signal()
    sendRefused = Signal(object)
    historyCut = Signal(int)
    deletedUndoable = Signal(int, str)

    def __init__(self, store: Store, endpoint: EndpointController, runner: OperationRunner,
                 usage: UsageController, attachments: AttachmentsController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._attachments = attachments
        self._titles = TitleMaker(store, endpoint, usage, self._on_titled)
        self._store = store
        self._endpoint = endpoint
        self._runner = runner
        self._usage = usage
        self.conversation: Conversation | None = None
        self.messages: list[Message] = []
        self.path: list[Message] = []
        self.model = endpoint.settings.default_model
        endpoint.modelsChanged.connect(self._on_models)
        self._deleted_shown: int | None = None  # the conversation deleted while shown (Undo shows it again)
        self._model_chosen = False  # the new chat's model was chosen by the person, not given by default
        self._pending_text: tuple[int, str, list[str], list[str]] | None = None
        self._trim = 1.0  # shrinks the history budget after the server said the conversation was too long
        self._frame = QTimer(self)
        self._frame.setSingleShot(True)
        self._frame.setInterval(FRAME_MS)
        self._frame.timeout.connect(self._emit_progress)
        self._thinking_since = 0.0
        self._streaming = False
        self._streaming_in: int | None = None  # the conversation the reply on its way belongs to
        self._reply_seq = 0  # which reply is the latest: an older one finishing must not touch the state
        self._new_options = NewOptions.from_preset(None, endpoint.settings.default_system_prompt)
        self._thinking_timer = QTimer(self)
        self._thinking_timer.setInterval(1000)
        self._thinking_timer.timeout.connect(self._tick_thinking)
        self.tools: ToolLoop | None = None  # set by the app when MCP tools are available

    @property
    def prices(self) -> PriceTable:
        """The prices in force (built-in, with the person's overrides)."""
        return self._usage.prices

    # -- state -----------------------------------------------------------------------------------------------

    @property
    def streaming(self) -> bool:
        """A reply is on its way (false as soon as it is final, before the bookkeeping that follows)."""
        return self._streaming

    @property
    def streaming_in(self) -> int | None:
        """The conversation a reply is on its way in (None: none is)."""
        return self._streaming_in if self._streaming else None

    @property
    def streaming_here(self) -> bool:
        """A reply is on its way in the conversation shown (not in another one, left while it streams)."""
        return self._streaming and self.conversation is not None and self.conversation.id == self._streaming_in

    def show_initial(self, conversation: Conversation | None, messages: list[Message]) -> None:
        """Show what was read before the window appeared (no await: this is the first paint)."""
        self._set_current(conversation, messages)

    def _set_current(self, conversation: Conversation | None, messages: list[Message]) -> None:
        self._trim = 1.0
        self.conversation = conversation
        self.messages = messages
        self.path = active_path(messages, conversation.current_leaf_id) if conversation else []
        if conversation is not None:
            self.model = conversation.model
        self.conversationOpened.emit(conversation)
        self.transcriptChanged.emit(self.path)

    async def count_interrupted(self, replies: list[tuple[int, int]]) -> None:
        """Record what the replies a crash cut short cost (``replies``: (reply, conversation) ids): the API billed
        what was streamed, and only a reply that ended in the app was counted. Estimated, as for a stopped reply."""
        counted = 0
        for reply_id, conversation_id in replies:
            conversation = await self._store.get_conversation(conversation_id)
            messages = await self._store.messages(conversation_id)
            path = active_path(messages, reply_id)
            reply = path[-1] if path and path[-1].id == reply_id else None
            if conversation is None or reply is None or not reply.text or reply.usage is not None:
                continue
            model = reply.model or conversation.model
            wire = requests.wire_messages(conversation.system_prompt, path[:-1], tool_images=sees_images(model))
            usage = await asyncio.to_thread(_estimated_usage, model, wire, reply.text)
            cost = self.prices.cost_micros(model, usage.input_tokens, 0, usage.output_tokens)
            await self._store.record_usage(LedgerEntry("chat", model, usage, cost, conversation_id, reply_id))
            await self._store.update_message(reply_id, usage=usage, cost_micros=cost)
            reply.usage, reply.cost_micros = usage, cost
            if self.conversation is not None and self.conversation.id == conversation_id:
                self._take_in(reply)
                self.messageChanged.emit(reply)
            counted += 1
        if counted:
            await self.refresh_conversations()
            await self._usage.refresh()

    def _on_models(self, models: list[str]) -> None:
        """A new chat on a default model the endpoint does not offer takes the default model it has now (one the
        person chose is theirs: the request says if the endpoint lacks it)."""
        default = self._endpoint.settings.default_model
        if self.conversation is None and not self._model_chosen and self.model not in models and default in models:
            self.model = default

    async def refresh_conversations(self) -> None:
        """Re-read the sidebar list."""
        self.conversationsChanged.emit(await self._store.list_conversations())

    async def open_conversation(self, conversation_id: int) -> None:
        """Show a stored conversation."""
        conv = await self._store.get_conversation(conversation_id)
        if conv is None:
            return
        self._set_current(conv, await self._store.messages(conversation_id))
        self._endpoint.update_settings(last_conversation_id=conversation_id)

    def new_conversation(self, preset: str | None = None) -> None:
        """Start a new chat (stored when the first message is sent), from a named preset if given."""
        settings = self._endpoint.settings
        chosen = settings.presets.get(preset or "")
        self._new_options = NewOptions.from_preset(chosen, settings.default_system_prompt)
        self._set_current(None, [])
        self.model = (chosen or {}).get("model") or settings.default_model
        self._model_chosen = bool((chosen or {}).get("model"))
        if settings.last_conversation_id != NEW_CHAT:
            self._endpoint.update_settings(last_conversation_id=NEW_CHAT)  # the next start shows a new chat, too
        self.conversationOpened.emit(None)

    def save_preset(self, name: str, system_prompt: str, temperature: float | None,
                    max_output_tokens: int | None) -> None:
        """Keep the current model and these options as a named preset for new chats."""
        name = " ".join(name.split())[:60]
        if not name:
            return
        presets = dict(self._endpoint.settings.presets)
        presets[name] = {"system_prompt": system_prompt, "model": self.model,
                         "temperature": "" if temperature is None else str(temperature),
                         "max_output_tokens": "" if max_output_tokens is None else str(max_output_tokens)}
        self._endpoint.update_settings(presets=presets)
        self.presetsChanged.emit(sorted(presets))

    def delete_preset(self, name: str) -> None:
        """Forget a preset."""
        presets = {k: v for k, v in self._endpoint.settings.presets.items() if k != name}
        self._endpoint.update_settings(presets=presets)
        self.presetsChanged.emit(sorted(presets))

    def set_default_system_prompt(self, text: str) -> None:
        """The system prompt every new chat starts with."""
        self._endpoint.update_settings(default_system_prompt=text)

    async def rename(self, conversation_id: int, title: str) -> None:
        """Rename a conversation by hand (a manual title always wins)."""
        title = " ".join(title.split())[:200]
        if not title:
            return
        await self._store.update_conversation(conversation_id, title=title, title_by_user=True)
        if self.conversation and self.conversation.id == conversation_id:
            self.conversation.title, self.conversation.title_by_user = title, True
            self.conversationOpened.emit(self.conversation)
        await self.refresh_conversations()

    async def delete(self, conversation_id: int) -> None:
        """Delete a conversation; ``deletedUndoable`` offers an undo."""
        conv = await self._store.get_conversation(conversation_id)
        if conv is None:
            return
        if self.conversation is not None and self.conversation.id == conversation_id:
            self.stop()
            self.new_conversation()
            self._deleted_shown = conversation_id
        await self._store.delete_conversation(conversation_id)
        await self.refresh_conversations()
        self.deletedUndoable.emit(conversation_id, conv.title or "Untitled")

    async def undo_delete(self, conversation_id: int) -> None:
        """Bring a deleted conversation back (shown again if it was shown when deleted and nothing else is)."""
        await self._store.restore_conversation(conversation_id)
        await self.refresh_conversations()
        if self._deleted_shown == conversation_id:
            self._deleted_shown = None
            if self.conversation is None and not self.path:
                await self.open_conversation(conversation_id)

    async def set_model(self, model: str) -> None:
        """Use ``model`` for this conversation from the next request on."""
        model = model.strip()
        if not model or model == self.model:
            return
        self.model = model
        self._model_chosen = True
        if self.conversation is not None:
            self.conversation.model = model
            await self._store.update_conversation(self.conversation.id, model=model)

    async def ensure_conversation(self) -> Conversation:
        """The current conversation, stored now if it is a new chat (options set before the first message)."""
        if self.conversation is None:
            self.conversation = await self._store.create_conversation(
                self.model, title="New chat", system_prompt=self._new_options.system_prompt,
                temperature=self._new_options.temperature, max_output_tokens=self._new_options.max_output_tokens)
            self.conversationStored.emit(self.conversation)
            self.conversationOpened.emit(self.conversation)
        return self.conversation

    def options(self) -> NewOptions:
        """The system prompt, temperature and max output tokens the next request uses (a new chat's too)."""
        c = self.conversation
        return NewOptions(c.system_prompt, c.temperature, c.max_output_tokens) if c else self._new_options

    def set_options(self, system_prompt: str, temperature: float | None, max_output_tokens: int | None) -> None:
        """Change the system prompt, temperature and max output tokens of the conversation shown, from its next
        request on (a new chat keeps them until its first message stores it); written to the store meanwhile."""
        c = self.conversation
        if c is None:
            self._new_options = NewOptions(system_prompt, temperature, max_output_tokens)
            return
        c.system_prompt, c.temperature, c.max_output_tokens = system_prompt, temperature, max_output_tokens
        self._runner.start("save options", self._store.update_conversation(
            c.id, system_prompt=system_prompt, temperature=temperature, max_output_tokens=max_output_tokens))

    def max_output_tokens(self) -> int:
        """The max output tokens of the next request (always sent)."""
        info = lookup(self.model)
        wanted = (self.conversation.max_output_tokens if self.conversation else self._new_options.max_output_tokens) \
            or self._endpoint.settings.default_max_output_tokens  # (a new chat's own, from a preset or the Lab)
        return max(1, min(wanted, info.max_output))

    def plan(self, draft: str | None, path: list[Message] | None = None,
             images: list[Attachment] | None = None, files: list[FileAttachment] | None = None) -> HistoryPlan:
        """What the next request would send: system prompt, the kept history and ``draft`` (CPU work)."""
        system = self.conversation.system_prompt if self.conversation else self._new_options.system_prompt
        wire = requests.wire_messages(system, self.path if path is None else path,
                                      tool_images=sees_images(self.model))
        if draft is not None:
            parts = question_parts(draft, images or [], files)
            content: Any = "".join(p["text"] for p in parts) if all(p["type"] == "text" for p in parts) else parts
            wire.append({"role": "user", "content": content})
        if not sees_images(self.model):
            wire = requests.drop_images(wire, keep_last_question=False)
        elif not self._endpoint.settings.images_in_history:
            wire = requests.drop_images(wire, keep_last_question=True)
        return plan_history(self.model, wire, max_output_tokens=self.max_output_tokens(),
                            budget_fraction=self._endpoint.settings.history_budget * self._trim)

    # -- intents ---------------------------------------------------------------------------------------------

    async def send(self, text: str) -> None:
        """Send ``text`` as the next question. Refusals keep the draft (``sendRefused``)."""
        text = text.strip()
        images, files = list(self._attachments.items), list(self._attachments.files)
        if not (text or images or files):
            return
        if self.streaming_here:  # one reply at a time: the draft stays for when this one is over
            self.sendRefused.emit(UserFacingError(
                ErrorKind.BAD_INPUT, "A reply is still arriving: send this once it has finished, or after Stop (Esc).",
                ErrorAction.NONE))
            return
        if self.streaming:  # in another conversation: one reply at a time, and the draft stays
            other = await self._store.get_conversation(self._streaming_in) if self._streaming_in else None
            named = f", “{other.title or 'Untitled'}”" if other is not None else ""
            self.sendRefused.emit(UserFacingError(
                ErrorKind.BAD_INPUT, f"A reply is still arriving in another conversation{named}: send once it has "
                "finished, or open that conversation and stop it.", ErrorAction.NONE))
            return
        try:
            self._check_ready()
            if images:
                self._check_vision()
            plan = await asyncio.to_thread(self.plan, text, None, images, files)
            if not plan.fits:
                raise UserFacingError(ErrorKind.CONTEXT_TOO_LONG, f"This message is too long for {self.model}: "
                                      f"it needs {plan.prompt_tokens:,} tokens and {plan.limit:,} are available. "
                                      + _too_long_advice(images))
            await self._check_budget(plan)
            question = await self._store_question(text, images, files)
        except UserFacingError as exc:
            self.sendRefused.emit(exc)
            return
        self._endpoint.update_settings(last_conversation_id=question.conversation_id)
        self._attachments.take()
        self.sendAccepted.emit()
        self._append(question)
        await self.refresh_conversations()
        self._start_reply(question, budget_checked=True)

    async def _store_question(self, text: str, images: list[Attachment], files: list[FileAttachment]) -> Message:
        """Persist first: the question is on disk before the request leaves."""
        if self.conversation is None:
            title = " ".join(text.split())[:60] or (files[0].name if files else "Image")
            self.conversation = await self._store.create_conversation(
                self.model, title=title, system_prompt=self._new_options.system_prompt,
                temperature=self._new_options.temperature, max_output_tokens=self._new_options.max_output_tokens)
            self.conversationStored.emit(self.conversation)
            self.conversationOpened.emit(self.conversation)
        elif not self.conversation.title_by_user and self.conversation.title in ("", "New chat"):
            self.conversation.title = " ".join(text.split())[:60]
            await self._store.update_conversation(self.conversation.id, title=self.conversation.title)
            self.conversationOpened.emit(self.conversation)  # the header shows the title too, not "New chat"
        parent = self.path[-1].id if self.path else None
        return await self._store.add_message(self.conversation.id, parent, Role.USER,
                                             question_parts(text, images, files))

    def vision_choice(self, text_tokens: int) -> str:
        """The model that can see the attached images and makes this message cheapest (its text, its images and
        a typical reply), among those the endpoint offers; the usual one when none of them is priced."""
        from desktop_assistant.core.images import image_tokens

        offered = [m for m in VISION_CHOICES if m in self._endpoint.models] or [VISION_FALLBACK]

        def cost(model: str) -> float:
            pictures = sum(image_tokens(a.width, a.height, a.detail, model) for a in self._attachments.items)
            micros = self.prices.cost_micros(model, text_tokens + pictures, 0, TYPICAL_REPLY_TOKENS)
            return float("inf") if micros is None else micros
        return min(offered, key=cost)

    def _check_vision(self) -> None:
        if not sees_images(self.model):
            raise UserFacingError(ErrorKind.NO_VISION, f"{self.model} cannot see images. Switch picks the model that "
                                  "can and makes this message cheapest; your text and images are kept.",
                                  ErrorAction.SWITCH_TO_VISION)

    async def _check_budget(self, plan: HistoryPlan, extra_prompt_tokens: int = 0) -> None:
        prompt = plan.prompt_tokens + extra_prompt_tokens
        verdict = await self._usage.check(self.model, prompt, self.max_output_tokens())
        if not verdict.allowed:
            raise UserFacingError(ErrorKind.SPENDING_LIMIT, verdict.message, ErrorAction.OPEN_SETTINGS)

    def _check_ready(self) -> None:
        if self._endpoint.needs_onboarding:
            raise UserFacingError(ErrorKind.NO_KEY, "Add your API key in Settings to start chatting.",
                                  ErrorAction.OPEN_SETTINGS)

    def stop(self) -> None:
        """Stop the streaming reply; what arrived is kept, marked stopped."""
        self._runner.cancel(STOP_KEY)

    async def regenerate(self, reply_id: int | None = None) -> None:
        """Ask again for the reply ``reply_id`` (None: the last one). The old reply stays as an alternative; for
        an earlier reply, the new one starts a branch there (what followed stays on the old branch)."""
        if self.streaming or not self.path:
            return
        question = self._question_of(reply_id)
        if question is None:
            return
        if reply_id is None or reply_id == self.path[-1].id:
            await self._drop_empty_failure()
        self.path = self.path[: self.path.index(question) + 1]
        self.transcriptChanged.emit(self.path)
        self._start_reply(question)

    def _question_of(self, reply_id: int | None) -> Message | None:
        """The question a reply answers: the last question before it on the path (``None``: the last one)."""
        end = len(self.path)
        if reply_id is not None:
            end = next((i for i, m in enumerate(self.path) if m.id == reply_id), -1)
            if end < 0:
                return None
        return next((m for m in reversed(self.path[:end]) if m.role is Role.USER), None)

    async def retry(self, reply_id: int | None = None) -> None:
        """Try the failed reply ``reply_id`` (None: the last one) again; after "too long" errors, with half as
        much history each time."""
        failed = next((m for m in self.path if m.id == reply_id), None) if reply_id is not None else \
            (self.path[-1] if self.path else None)
        if failed is not None and failed.error_action == ErrorAction.TRIM_AND_RETRY.value:
            self._trim = max(self._trim / 2, 0.02)
        await self.regenerate(reply_id)

    async def edit_and_resend(self, message_id: int, text: str, attached: list[dict[str, Any]] | None = None
                              ) -> None:
        """Replace a question's typed text by ``text`` as a new branch and ask again (the old branch is kept; the
        question's files and images go with the new one, or only ``attached`` when some were left out)."""
        text = text.strip()
        old = next((m for m in self.path if m.id == message_id and m.role is Role.USER), None)
        if old is None or not text or self.streaming or self.conversation is None:
            return
        question = await self._store.add_message(self.conversation.id, old.parent_id, Role.USER,
                                                 edited_parts(old.parts, text, attached))
        self.messages.append(question)
        self.path = [*self.path[: self.path.index(old)], question]
        self.transcriptChanged.emit(self.path)
        self._start_reply(question)

    async def switch_branch(self, message_id: int, step: int) -> None:
        """Show the previous (-1) or next (+1) alternative of a message."""
        current = next((m for m in self.path if m.id == message_id), None)
        if current is None or self.conversation is None or self.streaming:
            return
        alts = siblings(self.messages, current)
        index = alts.index(current) + step
        if not 0 <= index < len(alts):
            return
        leaf = newest_leaf_under(self.messages, alts[index].id)
        self.conversation.current_leaf_id = leaf
        await self._store.update_conversation(self.conversation.id, current_leaf_id=leaf)
        self.path = active_path(self.messages, leaf)
        self.transcriptChanged.emit(self.path)

    async def show_message(self, conversation_id: int, message_id: int) -> bool:
        """Open a conversation at one of its messages, switching to the branch that holds it (a search hit).

        False when the message is gone, or lives on another branch while a reply streams.
        """
        if self.conversation is None or self.conversation.id != conversation_id:
            await self.open_conversation(conversation_id)
        conv = self.conversation
        if conv is None or conv.id != conversation_id:
            return False
        if any(m.id == message_id for m in self.path):
            return True
        if self.streaming or not any(m.id == message_id for m in self.messages):
            return False
        leaf = newest_leaf_under(self.messages, message_id)
        conv.current_leaf_id = leaf
        await self._store.update_conversation(conv.id, current_leaf_id=leaf)
        self.path = active_path(self.messages, leaf)
        self.transcriptChanged.emit(self.path)
        return True

    def alternatives(self, message: Message) -> tuple[int, int]:
        """(position, count) of ``message`` among its alternatives, 1-based."""
        return alternative_position(self.messages, message)

    async def continue_reply(self) -> None:
        """Ask for the rest of a reply cut off by the output limit."""
        if self.streaming or not self.path or self.path[-1].role is not Role.ASSISTANT:
            return
        last = self.path[-1]
        if last.status is not Status.TRUNCATED:
            return
        self._start_reply(self.path[-2] if len(self.path) > 1 else last, continuing=last)

    async def _drop_empty_failure(self) -> None:
        """A failed reply with no text is replaced rather than kept as an alternative."""
        last = self.path[-1] if self.path else None
        if last and last.role is Role.ASSISTANT and last.status is Status.ERROR and not last.text:
            await self._store.delete_message(last.id)
            self.messages = [m for m in self.messages if m.id != last.id]
            self.path = self.path[:-1]

    # -- streaming -------------------------------------------------------------------------------------------

    def _take_in(self, message: Message) -> None:
        """``message`` as it now is, in place of the copy read from the store when its conversation was opened
        again while it streamed (that copy, cut short, would otherwise be shown and sent with the next question)."""
        for shown in (self.messages, self.path):
            for i, m in enumerate(shown):
                if m.id == message.id and m is not message:
                    shown[i] = message

    def _append(self, message: Message) -> None:
        if self.conversation is None or message.conversation_id != self.conversation.id:
            return  # a reply to a conversation left while it streams: stored there, shown when it is opened again
        self.messages.append(message)
        self.path.append(message)
        self.transcriptChanged.emit(self.path)

    def _start_reply(self, question: Message, continuing: Message | None = None, *,
                     budget_checked: bool = False) -> None:
        assert self.conversation is not None
        context = {"conversation_id": self.conversation.id}
        op = self._runner.start("chat reply", self._reply_steps(self.conversation, question, continuing,
                                                                  budget_checked), key=STOP_KEY, context=context)
        self._streaming = True
        self._streaming_in = self.conversation.id
        self._reply_seq += 1
        # Stop at once, before the task's first step, ends it without running it (nor its finally): the reply is
        # over all the same
        op.task.add_done_callback(functools.partial(self._reply_done, self._reply_seq))
        self._thinking_since = time.monotonic()
        self._thinking_timer.start()
        self.thinking.emit(0)
        self.streamingChanged.emit(True)

    async def _reply_steps(self, conv: Conversation, question: Message, continuing: Message | None,
                           budget_checked: bool) -> None:
        """The reply, and while it calls tools, the calls and the next step (controllers/tools.py)."""
        seq = self._reply_seq
        try:
            reply = await self._stream_reply(conv, question, continuing, budget_checked)
            if self.tools is not None:
                await self.tools.follow(conv, reply, lambda q: self._next_step(conv, q),
                                        self._append, self.messageChanged.emit, lambda: self.conversation)
        finally:
            self._end_streaming(seq)

    async def _stream_reply(self, conv: Conversation, question: Message, continuing: Message | None,
                            budget_checked: bool) -> Message | None:
        seq = self._reply_seq
        model = self.model
        path = self.path if continuing is None else self.path[:-1]
        plan = await asyncio.to_thread(self.plan, None, path)
        messages = plan.messages
        if requests.has_images(messages):
            messages = await asyncio.to_thread(with_image_data, messages, model, self._attachments.images)
        if continuing is not None:
            messages = requests.continue_messages(messages, continuing.text)
        self.historyCut.emit(plan.dropped)
        body = requests.chat_body(model, messages, max_output_tokens=self.max_output_tokens(),
                                  temperature=conv.temperature,
                                  legacy_max_tokens=self._endpoint.gateway.endpoint.legacy_max_tokens,
                                  reasoning_effort=self._endpoint.settings.reasoning_effort)
        reply: Message | None = continuing
        prefix = continuing.text if continuing else ""
        earlier = (continuing.usage, continuing.cost_micros) if continuing else None  # the reply's first part
        chunks: list[str] = []
        refusal: list[str] = []
        usage: Usage | None = None
        finish: str | None = None
        last_flush = time.monotonic()
        status = Status.INTERRUPTED
        error: UserFacingError | None = None
        step = ToolStep()
        try:
            if self.tools is not None:
                step = await self.tools.prepare(conv, model, lambda: reply.id if reply else None)
                body.update(step.body())
            if not budget_checked or step.extra_tokens:
                extra = count_text(continuing.text, model) + 20 if continuing else 0  # the partial reply + ask
                await self._check_budget(plan, extra + step.extra_tokens)
            async for event in self._endpoint.gateway.stream_chat(body):
                if reply is None:
                    reply = await self._store.add_message(conv.id, question.id, Role.ASSISTANT, [text_part("")],
                                                          status=Status.STREAMING, model=model)
                    self._append(reply)
                if isinstance(event, TextDelta):
                    chunks.append(event.text)
                elif isinstance(event, RefusalDelta):
                    refusal.append(event.text)
                elif isinstance(event, Finished):
                    finish = event.reason
                elif isinstance(event, UsageReport):
                    usage = event.usage
                elif isinstance(event, ToolCallDelta):
                    step.add(event)
                if isinstance(event, TextDelta | RefusalDelta | ToolCallDelta) and self._thinking_timer.isActive():
                    self._stop_thinking()  # the model is answering (a tool call is an answer too)
                if isinstance(event, TextDelta | RefusalDelta):
                    self._queue_progress(reply.id, prefix, chunks, refusal)
                    if time.monotonic() - last_flush >= FLUSH_INTERVAL:
                        last_flush = time.monotonic()
                        await self._store.update_message(reply.id, parts=[text_part(prefix + "".join(chunks))])
            status = {"length": Status.TRUNCATED}.get(finish or "stop", Status.COMPLETE)
            if finish is None:
                status = Status.INTERRUPTED
                error = UserFacingError(ErrorKind.STREAM_BROKEN, "The reply ended early. What arrived is kept.",
                                        ErrorAction.RETRY)
            elif finish == "content_filter":
                error = UserFacingError(ErrorKind.BAD_REQUEST, "The reply was stopped by the provider's content "
                                        "filter.", ErrorAction.NONE)
            elif refusal:
                error = UserFacingError(ErrorKind.BAD_REQUEST, "The model declined to answer.", ErrorAction.NONE)
        except asyncio.CancelledError:
            status = Status.STOPPED
            if self._runner.closing:  # not the person's Stop: the app closed while the reply was arriving
                status = Status.INTERRUPTED
                error = UserFacingError(ErrorKind.STREAM_BROKEN, "The app was closed while this reply was "
                                        "arriving. What arrived is kept; Retry asks for the whole reply again.",
                                        ErrorAction.RETRY)
            raise
        except UserFacingError as exc:
            status, error = Status.ERROR, _if_its_image(self._unless_nothing_to_leave_out(exc, plan, model), question)
        finally:
            self._frame.stop()
            self._pending_text = None
            reply = await asyncio.shield(self._finish_reply(conv, question, reply, model, plan,
                                                            prefix + "".join(chunks), "".join(refusal), status,
                                                            finish, usage, error, seq, step, earlier))
        return reply

    @staticmethod
    def _unless_nothing_to_leave_out(error: UserFacingError, plan: HistoryPlan, model: str) -> UserFacingError:
        """``error``, unless it offers to leave out older messages where there are none (a first, long question):
        leaving out nothing would fail the same way, so the question itself is what must change, or the model."""
        if error.action is not ErrorAction.TRIM_AND_RETRY or has_older_turns(plan.messages):
            return error
        return UserFacingError(error.kind, f"This question is too long for {model} by itself: there are no older "
                               "messages to leave out. Shorten it, send only part of it, or choose a model with a "
                               "larger context.", ErrorAction.CHOOSE_MODEL, request_id=error.request_id,
                               detail=error.detail)

    async def _finish_reply(self, conv: Conversation, question: Message, reply: Message | None, model: str,
                            plan: HistoryPlan, text: str, refusal: str, status: Status, finish: str | None,
                            usage: Usage | None, error: UserFacingError | None, seq: int, step: ToolStep,
                            earlier: tuple[Usage | None, int | None] | None = None) -> Message:
        """Save the reply as it ended and record what it cost. A continuation (``earlier``: the usage and cost of
        the reply's first part) shows both parts' tokens and cost on the reply; the ledger has one row each."""
        calls = step.parts() if finish == "tool_calls" else []
        carry_on = bool(calls) and status is Status.COMPLETE  # the tools run next: the reply is not over
        try:
            if reply is None:
                reply = await self._store.add_message(conv.id, question.id, Role.ASSISTANT, [text_part("")],
                                                      status=status, model=model)
                self._append(reply)
            if usage is None and status in (Status.STOPPED, Status.INTERRUPTED, Status.ERROR) and text:
                # the API bills a stopped stream too; without its usage chunk, estimate and say so
                usage = Usage(plan.prompt_tokens, 0, estimate_completion_tokens(text, model), estimated=True)
            cost = None
            if usage is not None:
                cost = self.prices.cost_micros(model, usage.input_tokens, usage.cached_input_tokens,
                                               usage.output_tokens)
                await self._store.record_usage(LedgerEntry(step.feature, model, usage, cost, conv.id, reply.id))
            if earlier is not None:
                earlier_usage, earlier_cost = earlier
                if usage is None:
                    cost = earlier_cost
                elif earlier_usage is not None:
                    cost = None if cost is None or earlier_cost is None else cost + earlier_cost
                usage = added_usage(earlier_usage, usage)
            parts = [text_part(text)] if not refusal else [text_part(text), {"type": "refusal", "refusal": refusal}]
            parts += calls
            error_text = error.message if error else None
            action = error.action.value if error else None
            await self._store.update_message(reply.id, parts=parts, status=status, usage=usage,
                                             cost_micros=cost, finish_reason=finish, error=error_text,
                                             error_action=action)
            reply.parts, reply.status, reply.usage, reply.cost_micros = parts, status, usage, cost
            reply.finish_reason, reply.error, reply.error_action = finish, error_text, action
            self._take_in(reply)
            self._endpoint.remember_legacy_max_tokens()
            self.messageChanged.emit(reply)
            if not carry_on:
                self._end_streaming(seq)
            await self.refresh_conversations()
            if usage is not None:
                await self._usage.refresh()
            if status is Status.COMPLETE and self._titles.wanted(conv, reply, self.path):
                asked = next((m.text for m in self.path if m.role is Role.USER), question.text)  # not a tool result
                self._runner.start("title", self._titles.name(conv, asked, reply.text), key="title")
            return reply
        finally:
            if not carry_on:
                self._end_streaming(seq)  # also when saving failed

    def _reply_done(self, seq: int, _task: object) -> None:
        self._end_streaming(seq)

    def _end_streaming(self, seq: int) -> None:
        """The reply ``seq`` is final: intents (send, regenerate, ...) are possible again, Stop becomes Send."""
        if seq == self._reply_seq and self._streaming:
            self._streaming = False
            self._stop_thinking()
            self.streamingChanged.emit(False)

    async def _next_step(self, conv: Conversation, question: Message) -> Message | None:
        """The model's answer to tool results: the thinking timer counts this step alone."""
        self._thinking_since = time.monotonic()
        self._thinking_timer.start()
        self.thinking.emit(0)
        return await self._stream_reply(conv, question, None, False)

    def _tick_thinking(self) -> None:
        self.thinking.emit(round(time.monotonic() - self._thinking_since))

    def _stop_thinking(self) -> None:
        self._thinking_timer.stop()
        self.thinking.emit(-1)

    async def _on_titled(self, conv: Conversation) -> None:
        if self.conversation is not None and self.conversation.id == conv.id:
            self.conversation.title = conv.title
            self.conversationOpened.emit(self.conversation)
        await self.refresh_conversations()

    def _queue_progress(self, message_id: int, prefix: str, chunks: list[str], refusal: list[str]) -> None:
        # the lists keep growing in place; they are joined once per frame, not once per delta
        self._pending_text = (message_id, prefix, chunks, refusal)
        if not self._frame.isActive():
            self._frame.start()

    def _emit_progress(self) -> None:
        if self._pending_text is not None:
            message_id, prefix, chunks, refusal = self._pending_text
            self.replyProgress.emit(message_id, prefix + "".join(chunks) + "".join(refusal))
            self._pending_text = None
