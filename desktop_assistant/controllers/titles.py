"""Titles for new conversations, from their first exchange (a cheap model, recorded as ``titles``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from desktop_assistant.controllers.endpoint import EndpointController
from desktop_assistant.controllers.usage import UsageController
from desktop_assistant.core import requests
from desktop_assistant.core.models import Conversation, LedgerEntry, Message, Role, tool_calls
from desktop_assistant.core.tokens import estimate_prompt_tokens
from desktop_assistant.services.store import Store

TITLE_MAX_TOKENS = 24


class TitleMaker:
    """Names a conversation once, unless the person named it (a manual title always wins).

    Args:
        on_titled: awaited with the conversation after its title changed.
    """

    def __init__(self, store: Store, endpoint: EndpointController, usage: UsageController,
                 on_titled: Callable[[Conversation], Awaitable[None]]) -> None:
        self._store, self._endpoint, self._usage, self._on_titled = store, endpoint, usage, on_titled

    def wanted(self, conv: Conversation, reply: Message, path: list[Message]) -> bool:
        """Whether ``reply`` finished the first exchange of a conversation that still has its automatic title."""
        # a reply that called tools is a step of the exchange, not its answer
        answers = [m for m in path if m.role is Role.ASSISTANT and not tool_calls(m.parts)]
        first_exchange = len(answers) == 1
        return (self._endpoint.settings.auto_titles and not conv.title_by_user and first_exchange
                and not tool_calls(reply.parts) and reply.text.strip() != "")

    async def name(self, conv: Conversation, question: str, answer: str) -> None:
        """Ask for a title and apply it (skipped when the spending limit would be passed)."""
        gateway = self._endpoint.gateway
        model = conv.model if gateway.endpoint.is_local else self._endpoint.settings.title_model
        messages = requests.title_messages(question, answer)
        body = requests.chat_body(model, messages, max_output_tokens=TITLE_MAX_TOKENS, temperature=0.2,
                                  legacy_max_tokens=gateway.endpoint.legacy_max_tokens, stream=False)
        prompt = estimate_prompt_tokens(messages, model).tokens
        if not (await self._usage.check(model, prompt, TITLE_MAX_TOKENS)).allowed:
            return  # a title is not worth going over a limit: the first words stay the title
        text, usage = await gateway.complete(body)
        prices = self._usage.prices
        cost = prices.cost_micros(model, usage.input_tokens, usage.cached_input_tokens, usage.output_tokens)
        await self._store.record_usage(LedgerEntry("titles", model, usage, cost, conv.id))
        title = requests.clean_title(text)
        fresh = await self._store.get_conversation(conv.id)
        if title and fresh is not None and not fresh.title_by_user:
            await self._store.update_conversation(conv.id, title=title)
            conv.title = title
            await self._on_titled(conv)
        await self._usage.refresh()
