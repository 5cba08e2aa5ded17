"""Versioned prompts of the prompt lab, and the chat request of one test case.

A prompt is a name with a list of immutable :class:`PromptVersion` rows: every save makes the next version
(restoring an old one saves a copy of it as the newest). A version is a system prompt, an optional user
template with ``{{variables}}`` (see :mod:`desktop_assistant.core.prompt_template`), the model, temperature and
max output tokens it was written for, and a note. A blank user template means :data:`DEFAULT_USER_TEMPLATE`:
the case's ``input`` value is the whole user message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from desktop_assistant.core.prompt_template import fill, template_problems
from desktop_assistant.core.requests import WireMessage, chat_body

DEFAULT_USER_TEMPLATE = "{{input}}"
MAX_NAME_CHARS = 100
MIN_TEMPERATURE = 0.0
MAX_TEMPERATURE = 2.0


@dataclass(frozen=True)
class PromptVersion:
    """One saved version of a named prompt (immutable: a change is a new version)."""

    name: str
    version: int
    system_prompt: str
    user_template: str = ""
    model: str = "gpt-4o-mini"
    temperature: float | None = None  # None: the model's default
    max_output_tokens: int = 1024
    note: str = ""
    created_at: float = 0.0  # seconds since the epoch

    @property
    def template(self) -> str:
        """The user template actually used (the default one when blank)."""
        return self.user_template if self.user_template.strip() else DEFAULT_USER_TEMPLATE

    @property
    def label(self) -> str:
        """How a person reads this version: ``Support reply v3``."""
        return f"{self.name} v{self.version}"

    def same_content(self, other: PromptVersion) -> bool:
        """Whether ``other`` has the same prompt and settings (name, number, note and date aside)."""
        return _content(self) == _content(other)


def _content(v: PromptVersion) -> tuple[Any, ...]:
    return (v.system_prompt, v.user_template, v.model, v.temperature, v.max_output_tokens)


def version_problems(v: PromptVersion) -> list[str]:
    """Why a version cannot be saved or run, one plain sentence each (empty: it is fine)."""
    problems: list[str] = []
    if not v.name.strip():
        problems.append("Give the prompt a name.")
    elif len(v.name) > MAX_NAME_CHARS:
        problems.append(f"A prompt name has at most {MAX_NAME_CHARS} characters.")
    if not v.system_prompt.strip() and not v.user_template.strip():
        problems.append("Write a system prompt or a user template.")
    if not v.model.strip():
        problems.append("Choose a model.")
    if v.temperature is not None and not MIN_TEMPERATURE <= v.temperature <= MAX_TEMPERATURE:
        problems.append(f"The temperature must be between {MIN_TEMPERATURE:g} and {MAX_TEMPERATURE:g}.")
    if v.max_output_tokens < 1:
        problems.append("The max output tokens must be at least 1.")
    problems.extend(template_problems(v.user_template))
    return problems


def next_version_number(versions: Iterable[PromptVersion]) -> int:
    """The number the next save of this prompt gets (1 for the first)."""
    return max((v.version for v in versions), default=0) + 1


def new_version(latest: PromptVersion, now: float, **changes: Any) -> PromptVersion:
    """The version a save makes: ``latest`` with ``changes`` applied, numbered after it, dated ``now``.

    The note starts empty unless given in ``changes``.
    """
    changes.setdefault("note", "")
    return replace(latest, version=latest.version + 1, created_at=now, **changes)


def restored(old: PromptVersion, latest_number: int, now: float) -> PromptVersion:
    """A copy of ``old`` saved as the newest version, with a note that says where it came from."""
    return replace(old, version=latest_number + 1, created_at=now, note=f"Restored from version {old.version}.")


def case_messages(version: PromptVersion, values: Mapping[str, object]) -> list[WireMessage]:
    """The chat messages of one test case: the system prompt (when set) and the filled user template.

    Raises :class:`~desktop_assistant.core.prompt_template.MissingVariablesError` when the case lacks a value.
    """
    messages: list[WireMessage] = []
    if version.system_prompt.strip():
        messages.append({"role": "system", "content": version.system_prompt})
    messages.append({"role": "user", "content": fill(version.template, values).text})
    return messages


def case_body(version: PromptVersion, values: Mapping[str, object], *, model: str | None = None,
              stream: bool = False, legacy_max_tokens: bool = False) -> dict[str, Any]:
    """The chat request body of one case, on ``model`` (the version's own when None), with the version's
    temperature and max output tokens (parameters per model family as :func:`chat_body` picks them)."""
    return chat_body(model or version.model, case_messages(version, values),
                     max_output_tokens=version.max_output_tokens, temperature=version.temperature,
                     legacy_max_tokens=legacy_max_tokens, stream=stream)
