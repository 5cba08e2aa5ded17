"""The history plan: the prompt budget and which oldest turns are left out when a branch does not fit."""

from __future__ import annotations

import pytest

from desktop_assistant.core.catalog import FALLBACK_CONTEXT_WINDOW
from desktop_assistant.core.history import (
    DEFAULT_BUDGET,
    HistoryPlan,
    has_older_turns,
    plan_history,
    prompt_budget,
)
from desktop_assistant.core.requests import TOOL_IMAGES_INTRO, WireMessage
from desktop_assistant.core.tokens import estimate_prompt_tokens

LOCAL = "llama3:8b"  # unknown to the catalog: fallback context window of 8192
MAX_OUT = 1000
LOCAL_BUDGET = int((FALLBACK_CONTEXT_WINDOW - MAX_OUT) * 0.7)  # 5034


def words(n: int, word: str = "word") -> str:
    """About ``n`` tokens of text (one token per repeated word)."""
    return " ".join([word] * n)


WORD = {"system": "rule", "user": "ask", "assistant": "reply"}  # one token each


def wm(role: str, n: int) -> WireMessage:
    return {"role": role, "content": words(n, WORD[role])}


def tokens(messages: list[WireMessage], model: str = LOCAL) -> int:
    return estimate_prompt_tokens(messages, model).tokens


def split_system(messages: list[WireMessage]) -> tuple[list[WireMessage], list[WireMessage]]:
    system = messages[:1] if messages and messages[0]["role"] == "system" else []
    return system, messages[len(system) :]


def newest_question(body: list[WireMessage]) -> int:
    return max((i for i, m in enumerate(body) if m["role"] == "user"), default=len(body) - 1)


def cut_points(body: list[WireMessage]) -> list[int]:
    """Where the kept part of the body may start: its beginning, or the start of a turn up to the newest question."""
    last = newest_question(body)
    return [0, *(i for i, m in enumerate(body) if m["role"] == "user" and 0 < i <= last)]


def expected_dropped(messages: list[WireMessage], budget: int, model: str = LOCAL) -> int:
    """The fewest oldest messages to leave out, a whole turn at a time (the newest question always stays)."""
    system, body = split_system(messages)
    for cut in cut_points(body):
        if tokens(system + body[cut:], model) <= budget:
            return cut
    return max(newest_question(body), 0)


def check_invariants(messages: list[WireMessage], plan: HistoryPlan, model: str = LOCAL) -> None:
    """What every plan must satisfy, whatever the conversation's shape."""
    system, body = split_system(messages)
    kept_system, kept_body = plan.messages[: len(system)], plan.messages[len(system) :]
    # the system prompt is always kept, first
    assert kept_system == system
    # the kept messages are a suffix of the branch, and `dropped` counts what was left out
    assert kept_body == body[plan.dropped :]
    assert plan.dropped + len(kept_body) == len(body)
    # the newest question is always kept
    if any(m["role"] == "user" for m in body):
        assert plan.dropped <= newest_question(body)
        assert body[newest_question(body)] in kept_body
    # the cut is at the start of a turn
    if plan.dropped:
        assert kept_body[0]["role"] == "user"
    # the reported figures are the plan's own
    estimate = estimate_prompt_tokens(plan.messages, model)
    assert plan.prompt_tokens == estimate.tokens
    assert plan.exact == estimate.exact
    assert plan.fits == (plan.prompt_tokens <= plan.limit)
    if plan.prompt_tokens <= plan.budget:
        # minimal: adding back the last dropped turn would not fit
        if plan.dropped:
            points = cut_points(body)
            previous = max(p for p in points if p < plan.dropped)
            assert tokens(system + body[previous:], model) > plan.budget
    else:
        # nothing older could be left out
        assert plan.dropped == max(newest_question(body), 0)
    assert plan.dropped == expected_dropped(messages, plan.budget, model)


# --- prompt_budget --------------------------------------------------------------------------------------


def test_prompt_budget_gpt_4o_mini() -> None:
    assert prompt_budget("gpt-4o-mini", 4096) == int((128_000 - 4096) * 0.7)
    assert prompt_budget("gpt-4o-mini", 4096) == 86_732


def test_prompt_budget_default_fraction() -> None:
    assert DEFAULT_BUDGET == 0.7
    assert prompt_budget("gpt-4o-mini", 4096) == prompt_budget("gpt-4o-mini", 4096, DEFAULT_BUDGET)


@pytest.mark.parametrize(
    ("model", "max_out", "fraction", "expected"),
    [
        ("gpt-4o-mini", 0, 1.0, 128_000),
        ("gpt-4o-mini", 16_384, 0.5, (128_000 - 16_384) // 2),
        ("gpt-4o-mini-2024-07-18", 4096, 0.7, int((128_000 - 4096) * 0.7)),
        ("gpt-5", 128_000, 0.7, int(272_000 * 0.7)),
        ("o4-mini", 100_000, 0.7, 70_000),
        ("gpt-4", 1000, 0.7, int(7192 * 0.7)),
        (LOCAL, MAX_OUT, 0.7, LOCAL_BUDGET),
        (LOCAL, 4096, 0.7, int((8192 - 4096) * 0.7)),
    ],
)
def test_prompt_budget_per_model(model: str, max_out: int, fraction: float, expected: int) -> None:
    assert prompt_budget(model, max_out, fraction) == expected


@pytest.mark.parametrize("max_out", [8192, 10_000, 1_000_000])
def test_prompt_budget_never_negative(max_out: int) -> None:
    assert prompt_budget(LOCAL, max_out) == 0


# --- plan_history: everything fits ----------------------------------------------------------------------


SHORT_CHAT: list[WireMessage] = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "What is 2+2?"},
    {"role": "assistant", "content": "4"},
    {"role": "user", "content": "And 3+3?"},
]


def test_plan_keeps_everything_when_it_fits() -> None:
    plan = plan_history("gpt-4o-mini", SHORT_CHAT, max_output_tokens=4096)
    assert plan.messages == SHORT_CHAT
    assert plan.dropped == 0
    assert plan.prompt_tokens == estimate_prompt_tokens(SHORT_CHAT, "gpt-4o-mini").tokens
    assert plan.exact is True
    assert plan.budget == int((128_000 - 4096) * 0.7)
    assert plan.context_window == 128_000
    assert plan.fits is True
    check_invariants(SHORT_CHAT, plan, "gpt-4o-mini")


def test_plan_unknown_model_is_not_exact() -> None:
    plan = plan_history(LOCAL, SHORT_CHAT, max_output_tokens=MAX_OUT)
    assert plan.dropped == 0
    assert plan.exact is False
    assert plan.context_window == FALLBACK_CONTEXT_WINDOW
    assert plan.budget == LOCAL_BUDGET


def test_plan_with_image_is_not_exact() -> None:
    messages: list[WireMessage] = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            ],
        }
    ]
    plan = plan_history("gpt-4o-mini", messages, max_output_tokens=4096)
    assert plan.messages == messages
    assert plan.exact is False
    assert plan.fits is True


def test_plan_empty_conversation() -> None:
    plan = plan_history("gpt-4o-mini", [], max_output_tokens=4096)
    assert plan.messages == []
    assert plan.dropped == 0
    assert plan.fits is True
    assert plan.prompt_tokens == estimate_prompt_tokens([], "gpt-4o-mini").tokens


def test_plan_exactly_at_budget_fits() -> None:
    messages = [wm("user", 300)]
    whole = tokens(messages)
    fraction = whole / (FALLBACK_CONTEXT_WINDOW - MAX_OUT)
    # choose a fraction whose budget is exactly the prompt's tokens
    while int((FALLBACK_CONTEXT_WINDOW - MAX_OUT) * fraction) < whole:
        fraction += 1e-9
    plan = plan_history(LOCAL, messages, max_output_tokens=MAX_OUT, budget_fraction=fraction)
    assert plan.budget == whole
    assert plan.fits is True
    assert plan.dropped == 0


# --- plan_history: leaving out old turns ----------------------------------------------------------------


def long_chat(with_system: bool = True) -> list[WireMessage]:
    """Four long turns (~2,500 tokens each) and a short newest question: ~10,000 tokens, budget 5,034."""
    messages: list[WireMessage] = [{"role": "system", "content": "You are a careful assistant."}] if with_system else []
    for _ in range(4):
        messages += [wm("user", 1000), wm("assistant", 1500)]
    messages.append(wm("user", 200))
    return messages


def test_plan_drops_oldest_whole_turns() -> None:
    messages = long_chat()
    plan = plan_history(LOCAL, messages, max_output_tokens=MAX_OUT)
    assert tokens(messages) > LOCAL_BUDGET
    assert plan.fits is True
    assert plan.dropped == 6  # three turns of two messages: the last turn (~2,500) and the question fit
    assert plan.messages == [messages[0], *messages[7:]]
    assert plan.messages[0]["role"] == "system"
    assert plan.messages[-1] == messages[-1]
    assert plan.prompt_tokens <= plan.budget == LOCAL_BUDGET
    check_invariants(messages, plan)


def test_plan_drops_oldest_whole_turns_without_system() -> None:
    messages = long_chat(with_system=False)
    plan = plan_history(LOCAL, messages, max_output_tokens=MAX_OUT)
    assert plan.dropped == 6
    assert plan.messages == messages[6:]
    assert plan.messages[0]["role"] == "user"
    check_invariants(messages, plan)


def test_plan_small_budget_fraction_on_known_model() -> None:
    messages = long_chat()
    plan = plan_history("gpt-4o-mini", messages, max_output_tokens=4096, budget_fraction=0.05)
    assert plan.budget == int((128_000 - 4096) * 0.05)  # 6,195
    assert plan.fits is True
    assert plan.dropped == 4
    assert plan.exact is True
    check_invariants(messages, plan, "gpt-4o-mini")


def test_plan_does_not_fit_even_system_and_question() -> None:
    messages: list[WireMessage] = [
        {"role": "system", "content": words(3000, "rule")},
        wm("user", 500),
        wm("assistant", 500),
        wm("user", 5000),
    ]
    plan = plan_history(LOCAL, messages, max_output_tokens=MAX_OUT)
    assert plan.fits is False and plan.prompt_tokens > plan.limit
    assert plan.messages == [messages[0], messages[-1]]
    assert plan.messages[-1] == messages[-1]
    assert plan.dropped == 2
    assert plan.prompt_tokens > plan.budget
    check_invariants(messages, plan)


def tool_turn(question: int, image: bool = True) -> list[WireMessage]:
    """A question answered through a tool whose result carried an image (sent as a user message after it)."""
    call = {"id": "call_1", "type": "function", "function": {"name": "screenshot", "arguments": "{}"}}
    turn: list[WireMessage] = [wm("user", question), {"role": "assistant", "content": None, "tool_calls": [call]},
                               {"role": "tool", "tool_call_id": "call_1", "content": words(50, "result")}]
    if image:
        turn.append({"role": "user", "content": [{"type": "text", "text": "Image returned by the tool screenshot:"},
                                                  {"type": "image_url", "image_url": {"url": PIXEL}}]})
    return turn


PIXEL = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6"
         "kgAAAABJRU5ErkJggg==")


def test_plan_never_starts_at_the_images_a_tool_returned() -> None:
    # the tool loop's next request: the newest question is the one that led to the call, not its images
    messages = [wm("user", 2500), wm("assistant", 2500), *tool_turn(1500)]
    plan = plan_history(LOCAL, messages, max_output_tokens=MAX_OUT)
    assert plan.dropped == 2 and plan.fits is True
    assert plan.messages == messages[2:]  # the question, the call, its result and the images, together
    too_long = [wm("user", 2500), wm("assistant", 2500), *tool_turn(8000)]
    plan = plan_history(LOCAL, too_long, max_output_tokens=MAX_OUT)
    assert plan.fits is False and plan.messages == too_long[2:]  # kept whole even when it cannot be sent
    # an older tool turn is dropped whole as well: the next kept message is a question
    older = [*tool_turn(4000), wm("assistant", 2000), wm("user", 100), wm("assistant", 100), wm("user", 100)]
    plan = plan_history(LOCAL, older, max_output_tokens=MAX_OUT)
    assert plan.dropped == 5 and plan.messages == older[5:]


def test_plan_a_question_right_after_tool_results_starts_a_turn() -> None:
    # the reply to the results failed (left out of the request) or was stopped: the person asks again
    messages = [*tool_turn(6000, image=False), wm("user", 100)]
    plan = plan_history(LOCAL, messages, max_output_tokens=MAX_OUT)
    assert plan.fits is True and plan.dropped == 3 and plan.messages == messages[3:]


def test_plan_single_huge_question_does_not_fit() -> None:
    messages = [wm("user", 8000)]
    plan = plan_history(LOCAL, messages, max_output_tokens=MAX_OUT)
    assert plan.fits is False
    assert plan.messages == messages
    assert plan.dropped == 0
    check_invariants(messages, plan)


def test_plan_a_newest_question_past_the_budget_goes_when_the_model_can_take_it() -> None:
    # the budget bounds the history carried; the newest question alone may use the whole room (the context
    # window after the reply's allowance): a long document still goes to a model that can read it
    messages = [wm("user", 100), wm("assistant", 100), wm("user", 6000)]
    plan = plan_history(LOCAL, messages, max_output_tokens=MAX_OUT)
    assert plan.limit == FALLBACK_CONTEXT_WINDOW - MAX_OUT
    assert plan.budget < plan.prompt_tokens <= plan.limit
    assert plan.fits is True and plan.messages == messages[2:] and plan.dropped == 2
    check_invariants(messages, plan)


def test_plan_zero_budget() -> None:
    messages = [wm("user", 10), wm("assistant", 10), wm("user", 10)]
    plan = plan_history(LOCAL, messages, max_output_tokens=FALLBACK_CONTEXT_WINDOW)
    assert plan.budget == 0
    assert plan.fits is False
    assert plan.messages == messages[2:]
    check_invariants(messages, plan)


def test_plan_does_not_mutate_input() -> None:
    messages = long_chat()
    before = [dict(m) for m in messages]
    plan_history(LOCAL, messages, max_output_tokens=MAX_OUT)
    assert messages == before


# --- invariants over many shapes ------------------------------------------------------------------------

S = ("system", 50)
BIG_S = ("system", 2000)

SHAPES: dict[str, list[tuple[str, int]]] = {
    "one question": [("user", 100)],
    "one turn": [("user", 100), ("assistant", 100), ("user", 100)],
    "short replies": [S, *[("user", 800), ("assistant", 5)] * 8, ("user", 50)],
    "long replies": [S, *[("user", 20), ("assistant", 1500)] * 5, ("user", 50)],
    "mixed replies": [
        S,
        ("user", 300),
        ("assistant", 2500),
        ("user", 40),
        ("assistant", 10),
        ("user", 900),
        ("assistant", 1200),
        ("user", 60),
        ("assistant", 3000),
        ("user", 100),
    ],
    "consecutive users": [
        ("user", 1200),
        ("user", 1300),
        ("assistant", 1000),
        ("user", 700),
        ("user", 800),
        ("user", 900),
        ("user", 100),
    ],
    "consecutive users with system": [
        BIG_S,
        ("user", 1500),
        ("user", 1500),
        ("assistant", 100),
        ("user", 1500),
        ("user", 200),
    ],
    "several replies per turn": [
        S,
        ("user", 100),
        ("assistant", 2000),
        ("assistant", 2000),
        ("user", 100),
        ("assistant", 1500),
        ("assistant", 1500),
        ("user", 500),
    ],
    "starts with a reply": [("assistant", 3000), ("user", 2000), ("assistant", 2000), ("user", 100)],
    "huge newest question": [S, ("user", 100), ("assistant", 100), ("user", 8000)],
    "long newest question": [S, ("user", 100), ("assistant", 100), ("user", 6000)],
    "huge system": [BIG_S, *[("user", 400), ("assistant", 600)] * 4, ("user", 300)],
    "system only": [BIG_S],
}
FRACTIONS = [0.02, 0.1, 0.25, 0.5, 0.7, 1.0]


def build(shape: list[tuple[str, int]]) -> list[WireMessage]:
    return [wm(role, n) for role, n in shape]


@pytest.mark.parametrize("fraction", FRACTIONS)
@pytest.mark.parametrize("shape", list(SHAPES.values()), ids=list(SHAPES))
def test_plan_invariants(shape: list[tuple[str, int]], fraction: float) -> None:
    messages = build(shape)
    plan = plan_history(LOCAL, messages, max_output_tokens=MAX_OUT, budget_fraction=fraction)
    assert plan.budget == prompt_budget(LOCAL, MAX_OUT, fraction)
    assert plan.context_window == FALLBACK_CONTEXT_WINDOW
    check_invariants(messages, plan)
    if tokens(messages) <= plan.budget:
        assert plan.dropped == 0
        assert plan.messages == messages


@pytest.mark.parametrize("shape", list(SHAPES.values()), ids=list(SHAPES))
def test_plan_drops_more_as_budget_shrinks(shape: list[tuple[str, int]]) -> None:
    messages = build(shape)
    dropped = [plan_history(LOCAL, messages, max_output_tokens=MAX_OUT, budget_fraction=f).dropped for f in FRACTIONS]
    assert dropped == sorted(dropped, reverse=True)


def test_shapes_cover_all_outcomes() -> None:
    """The parametrized shapes reach every branch of the plan: all kept, some dropped, and not fitting."""
    outcomes: set[str] = set()
    for shape in SHAPES.values():
        for fraction in FRACTIONS:
            plan = plan_history(LOCAL, build(shape), max_output_tokens=MAX_OUT, budget_fraction=fraction)
            outcomes.add("no fit" if not plan.fits else "dropped" if plan.dropped else "all")
    assert outcomes == {"all", "dropped", "no fit"}


def test_older_turns_are_what_comes_before_the_newest_question() -> None:
    system: WireMessage = {"role": "system", "content": "Be brief."}
    assert not has_older_turns([wm("user", 50)])
    assert not has_older_turns([system, wm("user", 50)])  # the system prompt is always sent
    assert has_older_turns([system, wm("user", 50), wm("assistant", 50), wm("user", 50)])
    # the images a tool returned belong to the turn of the question that led to the call
    call: WireMessage = {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "shot", "arguments": "{}"}}]}
    result: WireMessage = {"role": "tool", "tool_call_id": "c1", "content": "done"}
    images: WireMessage = {"role": "user", "content": [
        {"type": "text", "text": TOOL_IMAGES_INTRO},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}
    assert not has_older_turns([system, wm("user", 50), call, result, images])
    plan = plan_history(LOCAL, long_chat(), max_output_tokens=MAX_OUT)
    assert has_older_turns(plan.messages)  # one older turn still fits
