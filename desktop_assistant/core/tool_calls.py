"""Tool calls as they stream in: fragments merged by their position into whole calls.

The chat API streams each call's id and function name first, then its JSON arguments in fragments, and
parallel calls one after another by ``index``. Merging is pure, so a stopped or broken stream still leaves
the calls seen so far. Their arguments are checked by ``core.tools.parse_arguments`` when they run.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ToolCall:
    """One call the model asked for."""

    index: int
    id: str = ""
    name: str = ""
    arguments: str = ""


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
