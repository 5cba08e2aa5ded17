"""``{{variables}}`` in a prompt lab's user template: list them, fill them, explain what is wrong.

Syntax:
- A variable is ``{{name}}``; spaces inside the braces are allowed (``{{ name }}``). A name starts with a letter
  or ``_`` and goes on with letters, digits or ``_`` (any script: ``{{größe}}`` is a variable).
- Single braces are ordinary text, so JSON examples in a template need no escaping: ``{"a": 1}`` stays as is.
- **Escaping:** a backslash right before two opening braces makes them literal: ``\\{{name}}`` is sent as
  ``{{name}}`` and is not a variable (``\\{{`` is always sent as ``{{``). A backslash anywhere else is
  ordinary text.
- Filling is one pass: a value that itself contains ``{{x}}`` is inserted as written, never filled again.
- ``{{`` that does not start a well-formed variable (``{{user name}}``, ``{{}}``, ``{{1st}}``) is left as
  written; :func:`template_problems` points it out, since it is almost always a typo.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

# An escape (``\\{{``, group 1) or a variable (its name in group 2), scanned left to right.
_PLACEHOLDER = re.compile(r"(\\\{\{)|\{\{\s*([^\W\d]\w*)\s*\}\}")
# ``{{ ... }}`` on one line with no braces or quotes inside: a would-be variable (used to spot typos).
_LOOKS_LIKE = re.compile(r"(\\)?\{\{([^{}\"\n]{0,64})\}\}")
NAME_PATTERN = re.compile(r"^[^\W\d]\w*$")


class MissingVariablesError(ValueError):
    """The case has no value for some of the template's variables."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = tuple(missing)
        super().__init__(missing_message(missing))


@dataclass(frozen=True)
class Filled:
    """A filled template: the text to send and warnings (values the template does not use)."""

    text: str
    warnings: list[str] = field(default_factory=list)


def _quoted_list(names: list[str]) -> str:
    quoted = [f'"{n}"' for n in names]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def missing_message(missing: list[str]) -> str:
    """The plain sentence for variables without a value."""
    noun = "variable" if len(missing) == 1 else "variables"
    return (f"No value for the template {noun} {_quoted_list(missing)}. "
            "Add a value in the test case, or remove it from the template.")


def extra_message(extra: list[str]) -> str:
    """The plain sentence for values the template never uses (a warning, not an error)."""
    noun = "value" if len(extra) == 1 else "values"
    return (f"The template does not use the {noun} {_quoted_list(extra)}; "
            f"{'it is' if len(extra) == 1 else 'they are'} not sent.")


def variables(template: str) -> list[str]:
    """The template's variable names, in order of first use, each once (escaped ones are not variables)."""
    seen: dict[str, None] = {}
    for match in _PLACEHOLDER.finditer(template):
        if match.group(1) is None:
            seen.setdefault(match.group(2), None)
    return list(seen)


def value_text(value: object) -> str:
    """A case's value as template text: strings as they are, None as empty, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def fill(template: str, values: Mapping[str, object]) -> Filled:
    """The template with every variable replaced by its value (escaped braces made literal).

    Raises :class:`MissingVariablesError` naming every variable without a value (an empty string is a value).
    Values the template does not use are listed in ``Filled.warnings``.
    """
    names = variables(template)
    missing = [n for n in names if n not in values]
    if missing:
        raise MissingVariablesError(missing)

    def replace(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return "{{"  # an escape: the braces as written, without the backslash
        return value_text(values[match.group(2)])

    text = _PLACEHOLDER.sub(replace, template)
    used = set(names)
    extra = [k for k in values if k not in used]
    return Filled(text, [extra_message(extra)] if extra else [])


def template_problems(template: str) -> list[str]:
    """Would-be variables that are not well formed, one plain sentence each (empty: the template is fine)."""
    problems: list[str] = []
    for match in _LOOKS_LIKE.finditer(template):
        if match.group(1) is not None:
            continue
        inner = match.group(2).strip()
        if NAME_PATTERN.match(inner):
            continue
        line = template.count("\n", 0, match.start()) + 1
        shown = match.group(0)
        if not inner:
            problems.append(f"Line {line}: {shown} has no variable name inside the braces.")
        else:
            problems.append(f"Line {line}: {shown} is not a variable: a name uses letters, digits and _ only and "
                            "does not start with a digit. Write \\{{ to send the braces as they are.")
    return problems
