"""Token counts: the bundled tiktoken vocabularies, and what a chat request will cost in prompt tokens.

Encodings are built from ``resources/tiktoken/*.tiktoken`` (OpenAI's public BPE files, verified by their
sha256) with the same split pattern and special tokens as ``tiktoken_ext.openai_public``: no network, no
tiktoken cache folder, and nothing a frozen app can lose (tiktoken's own plugin lookup is never used).

Prompt tokens of a chat-completions request (the cookbook rule, "How to count tokens with tiktoken",
openai/openai-cookbook examples/How_to_count_tokens_with_tiktoken.ipynb, checked against the real usage in
``shared/data/openai-usage/cases.json``)::

    3 per message
    + the tokens of every string value of a message (the role too; a content given as a list of parts
      counts its text parts' texts concatenated)
    + 1 per message that has a ``name``
    + 3 to prime the reply (2 for reasoning models: o-series, gpt-5 family)

This is exact on every real text-only case we have (gpt-3.5/4/4o/4o-mini/4.1-mini/4.5, o3-mini, gpt-5), so
for a known OpenAI model with text-only messages the estimate says ``exact=True``. Everything else is
``exact=False``, with an approximation:

* **tools**: OpenAI renders function definitions into the system message as a TypeScript-like namespace
  (``# Tools / ## functions / namespace functions { // description / type name = (_: {...}) => any; }``);
  we render the same text, merge it into the first system message (or add one) and subtract 1 per request
  and 1 per function that has parameters (fitted). On the 13 real tool cases without images or
  json_schema (gpt-3.5/4/4o/4o-mini/4.1-mini) billed minus estimated is 0 or +1, where the cookbook's own
  per-field rule (func_init 7/10, prop_key 3, func_end 12, ...) is off by -10..+2. gpt-5-family tool
  requests carry a fixed preamble of about 82 tokens on top (then 0 or -1 on the 4 gpt-5-mini cases).
* **tool calls** in the history: function name + arguments + 7 per call (fitted on two cases);
  ``tool_call_id`` values are not counted.
* **response_format json_schema** (no published rule): ``# Response Formats / ## name / // description``
  and the compact JSON of the schema, appended to the system message. Exact on a 2-field schema, an
  overestimate (about 40 tokens) on a nested anyOf schema. ``json_object`` adds nothing.
* **images / audio / files**: counted as 0 here and marked approximate (image math lives elsewhere).
* **unknown models** (local servers): counted with o200k_base, approximate.
"""

from __future__ import annotations

import base64
import functools
import gc
import gzip
import hashlib
import json
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from desktop_assistant import RESOURCES
from desktop_assistant.core.catalog import family, lookup
from desktop_assistant.core.memory import malloc_trim as _malloc_trim
from desktop_assistant.core.token_counts import MEMO, digest

if TYPE_CHECKING:  # imported on first use: the first paint does not wait for tiktoken
    import tiktoken

# --- encodings ----------------------------------------------------------------------------------------

ENDOFTEXT = "<|endoftext|>"
FIM_PREFIX = "<|fim_prefix|>"
FIM_MIDDLE = "<|fim_middle|>"
FIM_SUFFIX = "<|fim_suffix|>"
ENDOFPROMPT = "<|endofprompt|>"


@dataclass(frozen=True, slots=True)
class _EncodingSpec:
    sha256: str
    pat_str: str
    special_tokens: dict[str, int]


# Constants copied from tiktoken_ext/openai_public.py (tiktoken 0.14); the hashes are its expected_hash.
_SPECS: dict[str, _EncodingSpec] = {
    "o200k_base": _EncodingSpec(
        sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        pat_str="|".join(
            [
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""\p{N}{1,3}""",
                r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
                r"""\s*[\r\n]+""",
                r"""\s+(?!\S)""",
                r"""\s+""",
            ]
        ),
        special_tokens={ENDOFTEXT: 199999, ENDOFPROMPT: 200018},
    ),
    "cl100k_base": _EncodingSpec(
        sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        pat_str=(
            r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
            r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
        ),
        special_tokens={
            ENDOFTEXT: 100257,
            FIM_PREFIX: 100258,
            FIM_MIDDLE: 100259,
            FIM_SUFFIX: 100260,
            ENDOFPROMPT: 100276,
        },
    ),
}

_lock = threading.Lock()
_encodings: dict[str, tiktoken.Encoding] = {}


def _read_vocabulary(name: str) -> bytes:
    folder = RESOURCES / "tiktoken"
    plain = folder / f"{name}.tiktoken"
    if plain.is_file():
        return plain.read_bytes()
    packed = folder / f"{name}.tiktoken.gz"
    if packed.is_file():
        return gzip.decompress(packed.read_bytes())
    raise FileNotFoundError(f"bundled vocabulary {name}.tiktoken is missing from desktop_assistant/resources")


def _load(name: str) -> tiktoken.Encoding:
    import tiktoken

    spec = _SPECS[name]
    data = _read_vocabulary(name)
    digest = hashlib.sha256(data).hexdigest()
    if digest != spec.sha256:
        raise ValueError(f"bundled vocabulary {name} is corrupt (sha256 {digest}, expected {spec.sha256})")
    ranks = {base64.b64decode(token): int(rank) for token, rank in (line.split() for line in data.splitlines() if line)}
    del data
    encoding = tiktoken.Encoding(
        name, pat_str=spec.pat_str, mergeable_ranks=ranks, special_tokens=dict(spec.special_tokens)
    )
    del ranks
    _drop_python_ranks(encoding)
    return encoding


def _drop_python_ranks(encoding: tiktoken.Encoding) -> None:
    """Free the Python copy of the vocabulary (~30 MB for o200k): the Rust ``CoreBPE`` keeps its own.

    In tiktoken 0.14 ``Encoding._mergeable_ranks`` is read only by ``__getstate__`` (pickling, unused here)
    and the educational module; ``encode*``/``decode*`` go through ``_core_bpe``. The attribute is deleted
    rather than emptied so that a future use fails loudly instead of silently misbehaving. Then the freed
    heap is handed back to the system (``malloc_trim`` on glibc).
    """
    if hasattr(encoding, "_core_bpe") and hasattr(encoding, "_mergeable_ranks"):
        del encoding._mergeable_ranks
    gc.collect()
    _malloc_trim()


def get_encoding(name: str) -> tiktoken.Encoding:
    """The encoding ``name`` (``o200k_base`` or ``cl100k_base``), loaded once from the bundled files.

    Thread-safe; the first call for a name parses its vocabulary (a fraction of a second), so call it off
    the UI thread.
    """
    encoding = _encodings.get(name)
    if encoding is not None:
        return encoding
    if name not in _SPECS:
        raise ValueError(f"no bundled encoding named {name!r} (have: {', '.join(sorted(_SPECS))})")
    with _lock:
        encoding = _encodings.get(name)
        if encoding is None:
            encoding = _encodings[name] = _load(name)
        return encoding


def encoding_for(model_id: str) -> tiktoken.Encoding:
    """The tokenizer of ``model_id`` per the catalog (o200k_base for models it does not know)."""
    return get_encoding(lookup(model_id).encoding)


def is_loaded(name: str) -> bool:
    """Whether the encoding ``name`` has been built in this process (for tests and the benchmarks)."""
    return name in _encodings


_BATCH = 32
"""New texts counted one by one up to this many; more on :data:`_THREADS` threads (tiktoken releases the GIL)."""
_THREADS = 2


@functools.cache
def _fingerprinted(name: str) -> str:
    """``name`` with a fingerprint of its vocabulary and split pattern: a remembered count is only ever reused
    with exactly the tokenizer that made it (a changed pattern or vocabulary starts afresh)."""
    spec = _SPECS.get(name)
    if spec is None:
        return name
    return f"{name}/{hashlib.sha256((spec.sha256 + spec.pat_str).encode()).hexdigest()[:16]}"


def count_key(encoding: str, text: str) -> bytes:
    """The key under which the count of ``text`` in ``encoding`` is remembered."""
    return digest(_fingerprinted(encoding), text)


def count_many(encoding: str, texts: Sequence[str]) -> list[int]:
    """Tokens of each of ``texts`` in ``encoding``; special-token strings count as ordinary text.

    Counts made before (in this session or, through the memo's loader, an earlier one) are reused; the
    tokenizer is loaded only for a text never counted before (see :mod:`desktop_assistant.core.token_counts`).
    """
    keys = [count_key(encoding, text) if text else b"" for text in texts]
    wanted = [key for key in keys if key]
    known = MEMO.lookup(wanted) if wanted else {}
    todo = {key: text for key, text in zip(keys, texts, strict=True) if key and key not in known}
    fresh: dict[bytes, int] = {}
    if len(todo) > _BATCH:  # many new texts (a long history): counted on a few threads, as tiktoken's batch
        # encoder would, but keeping only each length (its token lists for 2M tokens would be ~70 MB at once)
        encode = get_encoding(encoding).encode_ordinary
        with ThreadPoolExecutor(max_workers=_THREADS) as pool:
            lengths = list(pool.map(lambda text: len(encode(text)), todo.values()))
        fresh = dict(zip(todo, lengths, strict=True))
    elif todo:
        fresh = {key: len(get_encoding(encoding).encode_ordinary(text)) for key, text in todo.items()}
    MEMO.remember(fresh)
    return [known[key] if key in known else fresh.get(key, 0) for key in keys]


def count_text(text: str, model_id: str) -> int:
    """Tokens of ``text`` for ``model_id``; special-token strings in it count as ordinary text."""
    return count_many(lookup(model_id).encoding, [text])[0]


def estimate_completion_tokens(text: str, model_id: str) -> int:
    """Completion tokens of a reply known only by its text (a stopped stream whose usage never arrived).

    Reasoning tokens a reasoning model spent are invisible, so this is a lower bound for those models.
    """
    return count_text(text, model_id)


# --- prompt estimates ---------------------------------------------------------------------------------

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3
REPLY_PRIMING_REASONING = 2
TOOL_CALL_TOKENS = 7  # per call in an assistant message, beyond its name and arguments (fitted)
TOOLS_REQUEST_ADJUST = -1  # rendered tool namespace vs billed (fitted)
TOOLS_PER_FUNCTION_WITH_PARAMS_ADJUST = -1  # (fitted)
GPT5_TOOLS_PREAMBLE = 82  # gpt-5 family: fixed extra system text whenever tools are sent (observed 81-82)
RESPONSE_FORMAT_ADJUST = -7  # json_schema section vs billed (fitted on the 2-field case)
_SECTION_SEPARATOR = "\n\n"


@dataclass(frozen=True, slots=True)
class PromptEstimate:
    """Prompt tokens a request will be billed; ``exact`` says whether the rule is known to be exact."""

    tokens: int
    exact: bool


def _literal(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _ts_type(schema: Any) -> str:
    """A JSON schema as the TypeScript-like type OpenAI shows the model (approximate for rare shapes)."""
    if not isinstance(schema, Mapping):
        return "any"
    if "enum" in schema and isinstance(schema["enum"], list):
        return " | ".join(_literal(v) for v in schema["enum"]) or "any"
    if "const" in schema:
        return _literal(schema["const"])
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            return " | ".join(_ts_type(s) for s in schema[key]) or "any"
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(_ts_type({**schema, "type": k}) for k in kind) or "any"
    if kind in ("integer", "number"):
        return "number"
    if kind in ("string", "boolean", "null"):
        return str(kind)
    if kind == "array":
        item = _ts_type(schema.get("items"))
        return f"({item})[]" if " | " in item else f"{item}[]"
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties")
        if not isinstance(properties, Mapping) or not properties:
            return "object"
        return "{\n" + _ts_members(properties, schema.get("required")) + "}"
    return "any"


def _ts_members(properties: Mapping[str, Any], required: Any) -> str:
    needed = set(required) if isinstance(required, list) else set()
    lines = []
    for key, prop in properties.items():
        description = prop.get("description") if isinstance(prop, Mapping) else None
        if isinstance(description, str) and description:
            lines.append(f"// {description}\n")
        lines.append(f"{key}{'' if key in needed else '?'}: {_ts_type(prop)},\n")
    return "".join(lines)


def render_tools(tools: Sequence[Mapping[str, Any]]) -> tuple[str, int]:
    """The tools section OpenAI adds to the system message, and how many functions take parameters."""
    parts = ["# Tools\n\n## functions\n\nnamespace functions {\n\n"]
    with_params = 0
    for tool in tools:
        function = tool.get("function")
        if tool.get("type", "function") != "function" or not isinstance(function, Mapping):
            parts.append(json.dumps(tool, separators=(",", ":"), ensure_ascii=False) + "\n\n")
            continue
        description = function.get("description")
        if isinstance(description, str) and description:
            parts.append(f"// {description}\n")
        name = function.get("name", "")
        parameters = function.get("parameters")
        properties = parameters.get("properties") if isinstance(parameters, Mapping) else None
        if isinstance(properties, Mapping) and properties:
            with_params += 1
            members = _ts_members(properties, parameters.get("required") if parameters else None)
            parts.append(f"type {name} = (_: {{\n{members}}}) => any;\n\n")
        else:
            parts.append(f"type {name} = () => any;\n\n")
    parts.append("} // namespace functions")
    return "".join(parts), with_params


def render_response_format(response_format: Mapping[str, Any]) -> str | None:
    """The section a ``json_schema`` response format adds to the system message (None for other types)."""
    if response_format.get("type") != "json_schema":
        return None
    spec = response_format.get("json_schema")
    spec = spec if isinstance(spec, Mapping) else {}
    text = f"# Response Formats\n\n## {spec.get('name', 'response')}\n\n"
    description = spec.get("description")
    if isinstance(description, str) and description:
        text += f"// {description}\n"
    return text + json.dumps(spec.get("schema", {}), separators=(",", ":"), ensure_ascii=False)


def _content_text(content: Any) -> tuple[str, bool]:
    """The countable text of a message content, and whether it was text only."""
    if isinstance(content, str):
        return content, True
    if not isinstance(content, list):
        return "", content is None
    texts: list[str] = []
    text_only = True
    for part in content:
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "refusal" and isinstance(part.get("refusal"), str):
            texts.append(part["refusal"])
        else:  # image_url, input_audio, file, ...: not counted here
            text_only = False
    return "".join(texts), text_only


def _tool_call_text(call: Any) -> str:
    function = call.get("function") if isinstance(call, Mapping) else None
    if not isinstance(function, Mapping):
        return ""
    name, arguments = function.get("name"), function.get("arguments")
    return (name if isinstance(name, str) else "") + (arguments if isinstance(arguments, str) else "")


def _message_parts(message: Mapping[str, Any], extra: str) -> tuple[int, list[str], bool]:
    """One message by the rule: its fixed tokens, the texts whose tokens add to them, and whether the rule is
    exact for it (``extra`` is appended to its content)."""
    tokens = TOKENS_PER_MESSAGE
    texts: list[str] = []
    exact = True
    for key, value in message.items():
        if key == "content":
            text, text_only = _content_text(value)
            exact = exact and text_only
            if extra:
                text = text + _SECTION_SEPARATOR + extra if text else extra
            texts.append(text)
        elif key == "tool_call_id":
            exact = False
        elif key == "tool_calls" and isinstance(value, list):
            tokens += TOOL_CALL_TOKENS * len(value)
            texts.extend(_tool_call_text(call) for call in value)
            exact = False
        elif key == "function_call" and isinstance(value, Mapping):
            tokens += TOOL_CALL_TOKENS
            texts.append(_tool_call_text({"function": value}))
            exact = False
        elif isinstance(value, str):
            texts.append(value)
            if key == "name":
                tokens += TOKENS_PER_NAME
        elif value is not None:
            exact = False
    if message.get("role") in ("tool", "function"):
        exact = False
    if extra and "content" not in message:
        texts.append(extra)
    return tokens, texts, exact


def estimate_prompt_tokens(
    messages: list[dict[str, Any]],
    model_id: str,
    *,
    tools: list[dict[str, Any]] | None = None,
    response_format: dict[str, Any] | None = None,
) -> PromptEstimate:
    """Prompt tokens that ``model_id`` will bill for this request (see the module docstring for the rule)."""
    info = lookup(model_id)
    exact = info.known
    adjust = 0
    sections: list[str] = []
    if tools:
        text, with_params = render_tools(tools)
        sections.append(text)
        adjust += TOOLS_REQUEST_ADJUST + TOOLS_PER_FUNCTION_WITH_PARAMS_ADJUST * with_params
        if (family(model_id) or "").startswith("gpt-5"):
            adjust += GPT5_TOOLS_PREAMBLE
        exact = False
    if response_format:
        section = render_response_format(response_format)
        if section is not None:
            sections.append(section)
            adjust += RESPONSE_FORMAT_ADJUST
            exact = False
    extra = _SECTION_SEPARATOR.join(sections)

    total = 0
    texts: list[str] = []
    merge_into_first = bool(messages) and messages[0].get("role") in ("system", "developer")
    if extra and not merge_into_first:
        fixed, own, _exact = _message_parts({"role": "system", "content": extra}, "")
        total += fixed
        texts += own
    for index, message in enumerate(messages):
        fixed, own, message_exact = _message_parts(message, extra if index == 0 and merge_into_first else "")
        total += fixed
        texts += own
        exact = exact and message_exact
    total += sum(count_many(info.encoding, texts))  # one look-up of the remembered counts for the whole request
    total += REPLY_PRIMING_REASONING if info.reasoning else REPLY_PRIMING
    return PromptEstimate(tokens=max(total + adjust, 0), exact=exact)


def estimate_tool_definitions(
    tools: Sequence[Mapping[str, Any]], model_id: str, *, merged_into_system: bool = True
) -> PromptEstimate:
    """Prompt tokens the function definitions ``tools`` add to a request, on their own (always an estimate).

    The same rule as :func:`estimate_prompt_tokens` (the rendered ``namespace functions`` section, the fitted
    adjustments, the gpt-5 preamble): ``merged_into_system`` when the request starts with a system or
    developer message (the section is appended to it after a blank line), else the section is a system
    message of its own. Measured against the real tool cases in ``shared/data/openai-usage`` (see
    tests/unit/test_tools.py): within 2 tokens of the billed difference, so it is labelled approximate.
    """
    if not tools:
        return PromptEstimate(tokens=0, exact=True)
    encoding = lookup(model_id).encoding
    text, with_params = render_tools(tools)
    if merged_into_system:
        tokens = count_many(encoding, [_SECTION_SEPARATOR + text])[0]
    else:
        fixed, texts, _exact = _message_parts({"role": "system", "content": text}, "")
        tokens = fixed + sum(count_many(encoding, texts))
    tokens += TOOLS_REQUEST_ADJUST + TOOLS_PER_FUNCTION_WITH_PARAMS_ADJUST * with_params
    if (family(model_id) or "").startswith("gpt-5"):
        tokens += GPT5_TOOLS_PREAMBLE
    return PromptEstimate(tokens=max(tokens, 0), exact=False)
