"""Tool calls as they stream in: fragments merged by their position into whole calls.

The chat API streams each call's id and function name first, then its JSON arguments in fragments, and
parallel calls one after another by ``index``. Merging is pure, so a stopped or broken stream still leaves
the calls seen so far, each marked complete or not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ToolCall:
    """One call the model asked for."""

    index: int
    id: str = ""
    name: str = ""
    arguments: str = ""

    def parsed(self) -> dict[str, Any]:
        """The arguments as a JSON object; raises ``ValueError`` with a plain reason when they are not one."""
        try:
            value = json.loads(self.arguments or "{}")
        except json.JSONDecodeError as exc:
            raise ValueError(f"the arguments are not valid JSON ({exc.msg} at character {exc.pos})") from exc
        if not isinstance(value, dict):
            raise ValueError("the arguments are not a JSON object")
        return value

    def wire(self) -> dict[str, Any]:
        """The call as the chat API takes it back in the assistant message."""
        return {"id": self.id, "type": "function", "function": {"name": self.name, "arguments": self.arguments}}


@dataclass
class ToolCallMerger:
    """Collects streamed fragments (``index``, ``id``, ``name``, ``arguments``) into :class:`ToolCall` objects."""

    calls: dict[int, ToolCall] = field(default_factory=dict)

    def add(self, index: int, id: str = "", name: str = "", arguments: str = "") -> ToolCall:
        """Merge one fragment; returns the call it belongs to."""
        call = self.calls.setdefault(index, ToolCall(index))
        if id:
            call.id = id
        if name and name != call.name:  # some servers repeat the whole name in every fragment; others split it
            call.name += name
        call.arguments += arguments
        return call

    def ordered(self) -> list[ToolCall]:
        """The calls in the order the model made them."""
        return [self.calls[i] for i in sorted(self.calls)]
