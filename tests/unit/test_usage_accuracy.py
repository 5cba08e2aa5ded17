"""The prompt-token estimate against usage that api.openai.com itself reported.

Reads ``data/openai-usage/cases.json`` from the shared reference folder (``$DA_SHARED_DIR`` or the folder
``shared`` next to the repository); the module skips itself when that file is absent. Reference data, not
part of the project: it is never copied in.

* Text-only cases (no tools, no json_schema, no images or audio; features ``name``/``textparts`` or none):
  the estimate must EQUAL ``usage.prompt_tokens`` and say ``exact=True``.
* Excluded from that: ``o1-mini`` (retired; bills about 7 tokens more than the rule, an undisclosed
  preamble) and the ``*-search-preview`` models (bill fewer tokens than the rule: the web-search wrapper
  rewrites the prompt). The catalog does not know them, so their estimates say ``exact=False``.
* Every other case must say ``exact=False``. Tool and json_schema cases are also held to the error bounds the
  approximations reach today, so a change that makes them worse fails.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from desktop_assistant.core.tokens import estimate_prompt_tokens

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("DA_SHARED_DIR", REPO_ROOT.parent / "shared"))
CASES_FILE = SHARED / "data" / "openai-usage" / "cases.json"

if not CASES_FILE.is_file():
    pytest.skip(f"reference usage data not found at {CASES_FILE}", allow_module_level=True)

CASES: list[dict[str, Any]] = json.loads(CASES_FILE.read_text(encoding="utf-8"))
TEXT_FEATURES = {"name", "textparts"}
APPROXIMATE_MODELS = ("o1-mini", "search-preview")  # see the module docstring


def _case_id(index: int, case: dict[str, Any]) -> str:
    interaction = case["source"].rsplit("/", 1)[-1][:60]
    return f"{index}-{case['model']}-{'+'.join(case['features']) or 'text'}-{interaction}"


def _is_text_only(case: dict[str, Any]) -> bool:
    body = case["body"]
    response_type = (body.get("response_format") or {}).get("type")
    return not body.get("tools") and response_type != "json_schema" and set(case["features"]) <= TEXT_FEATURES


def _rule_holds(case: dict[str, Any]) -> bool:
    return _is_text_only(case) and not any(marker in case["model"] for marker in APPROXIMATE_MODELS)


def _estimate(case: dict[str, Any]) -> tuple[int, bool]:
    body = case["body"]
    estimate = estimate_prompt_tokens(
        body["messages"], case["model"], tools=body.get("tools"), response_format=body.get("response_format")
    )
    return estimate.tokens, estimate.exact


def _params(select: Any) -> list[Any]:
    return [pytest.param(case, id=_case_id(i, case)) for i, case in enumerate(CASES) if select(case)]


@pytest.mark.parametrize("case", _params(_rule_holds))
def test_text_cases_are_exact(case: dict[str, Any]) -> None:
    tokens, exact = _estimate(case)
    assert tokens == case["usage"]["prompt_tokens"], case["source"]
    assert exact, case["source"]


@pytest.mark.parametrize("case", _params(lambda c: not _rule_holds(c)))
def test_other_cases_say_they_are_approximate(case: dict[str, Any]) -> None:
    _, exact = _estimate(case)
    assert not exact, case["source"]


def _has_media(case: dict[str, Any]) -> bool:
    return bool({"image_url", "input_audio"} & set(case["features"]))


@pytest.mark.parametrize("case", _params(lambda c: bool(c["body"].get("tools")) and not _has_media(c)))
def test_tool_cases_stay_close(case: dict[str, Any]) -> None:
    tokens, _ = _estimate(case)
    error = case["usage"]["prompt_tokens"] - tokens
    is_schema = (case["body"].get("response_format") or {}).get("type") == "json_schema"
    low, high = (-42, 2) if is_schema else (-2, 2)  # json_schema: an overestimate on nested schemas
    assert low <= error <= high, f"{case['source']}: billed {case['usage']['prompt_tokens']}, estimated {tokens}"


def test_summary(capsys: pytest.CaptureFixture[str]) -> None:
    """Print every case's error (billed - estimated); run with -s to see it."""
    exact_count = 0
    lines = []
    for index, case in enumerate(CASES):
        tokens, _ = _estimate(case)
        billed = case["usage"]["prompt_tokens"]
        exact_count += billed == tokens and _rule_holds(case)
        lines.append(f"{_case_id(index, case):<90} billed {billed:>5} estimated {tokens:>5} error {billed - tokens:+}")
    with capsys.disabled():
        print(f"\n{exact_count}/{len(CASES)} cases estimated exactly by the text rule")
        print("\n".join(lines))
    assert exact_count == sum(1 for case in CASES if _rule_holds(case))
