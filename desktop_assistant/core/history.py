"""What of a conversation fits the next request.

The budget for the prompt is ``budget_fraction`` (70 % by default) of what the context window leaves after
reserving the reply's max output tokens. When the whole branch does not fit, the oldest turns are left out,
a whole turn (a question and its replies, tool calls and their results included) at a time; the system
prompt and the newest question are always kept, and may pass the budget up to the ``limit`` (the whole
context window after the reply's allowance: a long document still goes to a model that can take it). Past
the limit, the request cannot be sent (``fits`` is False).
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop_assistant.core.catalog import lookup
from desktop_assistant.core.images import parts_image_tokens
from desktop_assistant.core.requests import WireMessage, is_tool_images
from desktop_assistant.core.tokens import PromptEstimate, estimate_prompt_tokens

DEFAULT_BUDGET = 0.7


@dataclass(frozen=True)
class HistoryPlan:
    """The messages to send and how they were chosen."""

    messages: list[WireMessage]
    dropped: int  # messages of the branch left out (oldest first)
    prompt_tokens: int
    exact: bool
    budget: int
    context_window: int
    fits: bool
    limit: int = 0  # the most the prompt may be: the context window after the reply's allowance


def prompt_budget(model: str, max_output_tokens: int, budget_fraction: float = DEFAULT_BUDGET) -> int:
    """Tokens the prompt may use for ``model`` after reserving the reply."""
    info = lookup(model)
    room = max(info.context_window - max_output_tokens, 0)
    return int(room * budget_fraction)


def estimate(messages: list[WireMessage], model: str) -> PromptEstimate:
    """Prompt tokens of ``messages`` as stored: text by the chat rule, images by their size (an estimate)."""
    text = estimate_prompt_tokens(messages, model)
    images = parts_image_tokens(messages, model)
    return PromptEstimate(text.tokens + images, text.exact and not images)


def _is_question(body: list[WireMessage], index: int) -> bool:
    """A user message that starts a turn: not the images that tool results returned (a user message right
    after the ``tool`` messages, which belongs to the turn of the question that led to the calls). A question
    may follow ``tool`` messages too: when the reply to the results failed, or the person stopped it."""
    message = body[index]
    if message.get("role") != "user":
        return False
    return index == 0 or body[index - 1].get("role") != "tool" or not is_tool_images(message)


def has_older_turns(messages: list[WireMessage]) -> bool:
    """Whether a request's ``messages`` (system prompt first if any, newest question last) hold anything before
    the newest question's turn: what a smaller budget could leave out. Without it, only a shorter question, or a
    model with a larger context, makes the request fit."""
    body = messages[1:] if messages and messages[0].get("role") == "system" else messages
    return any(_is_question(body, i) for i in range(1, len(body)))


def plan_history(
    model: str,
    messages: list[WireMessage],
    *,
    max_output_tokens: int,
    budget_fraction: float = DEFAULT_BUDGET,
) -> HistoryPlan:
    """Choose what of ``messages`` (system prompt first if any, newest question last) to send."""
    info = lookup(model)
    budget = prompt_budget(model, max_output_tokens, budget_fraction)
    whole = estimate(messages, model)
    limit = max(info.context_window - max_output_tokens, 0)
    if whole.tokens <= budget:
        return HistoryPlan(messages, 0, whole.tokens, whole.exact, budget, info.context_window, True, limit)

    system = messages[:1] if messages and messages[0].get("role") == "system" else []
    body = messages[len(system):]
    base = estimate([], model).tokens  # the reply priming
    cost = [estimate([m], model).tokens - base for m in body]
    # possible cuts: the start of each turn (a question), up to the newest question, which always stays
    questions = [i for i in range(len(body)) if _is_question(body, i)]
    newest_question = max(questions, default=len(body) - 1)
    cuts = [i for i in questions if 0 < i <= newest_question]
    if newest_question > 0 and newest_question not in cuts:
        cuts.append(newest_question)
    total, cut = whole.tokens, 0
    for point in cuts:
        if total <= budget:
            break
        total -= sum(cost[cut:point])
        cut = point
    kept = system + body[cut:]
    est = estimate(kept, model)
    return HistoryPlan(kept, cut, est.tokens, est.exact, budget, info.context_window, est.tokens <= limit, limit)
