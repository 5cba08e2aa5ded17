"""Tool call arguments as shown to the person (the transcript's tool blocks, the approval prompt)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def pretty_arguments(arguments: Mapping[str, Any]) -> str:
    """Arguments as indented JSON, for the approval prompt and the transcript."""
    return json.dumps(arguments, indent=2, ensure_ascii=False, sort_keys=False)


def describe_arguments(raw: str) -> str:
    """Arguments as pretty JSON when they parse, else the raw text (for display while they stream)."""
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return pretty_arguments(value) if isinstance(value, dict) else raw
