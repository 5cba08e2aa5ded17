"""``POST /v1/embeddings`` for the fake server: deterministic vectors with a scriptable sense of meaning.

A text's vector is a bag of its words, each word owning one dimension (in the order the server first met it,
wrapping round past the requested number), then normalised: texts sharing words are close, others are not.
``concepts`` maps a concept to words that mean it (``{"vehicle": ["car", "automobile"]}``): each of those words
lands in its concept's dimension, so "automobile" finds "car" by meaning even though the two share no letters,
which is exactly what keyword search cannot do.
"""

from __future__ import annotations

import base64
import math
import re
import struct
from dataclasses import dataclass, field
from typing import Any

from .wire import openai_error

EMBEDDING_MODELS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}
MAX_INPUTS = 2048
MAX_INPUT_TOKENS = 8192
_WORD = re.compile(r"\w+")


@dataclass
class FakeEmbeddings:
    """The embeddings endpoint's state: concepts, whether it exists, and what it was asked."""

    concepts: dict[str, list[str]] = field(default_factory=dict)
    available: bool = True  # False: answer 404 as a server without an embeddings model does
    failing: int | None = None  # a status to answer every request with (500: the server has a problem)
    calls: list[list[str]] = field(default_factory=list)  # the inputs of every request, in order
    _slots: dict[str, int] = field(default_factory=dict)  # word (or concept) -> its dimension, first come first

    def answer(self, body: Any) -> tuple[int, dict[str, Any]]:
        """Status and JSON body for one request."""
        if not isinstance(body, dict):
            return 400, openai_error("We could not parse the JSON body of your request.")
        model = str(body.get("model", ""))
        if self.failing is not None:
            return self.failing, openai_error("The server had an error while processing your request.",
                                              type="server_error")
        if not self.available or model not in EMBEDDING_MODELS:
            return 404, openai_error(f"The model `{model}` does not exist or you do not have access to it.",
                                     code="model_not_found")
        raw = body.get("input")
        inputs = [raw] if isinstance(raw, str) else raw
        if not isinstance(inputs, list) or not inputs or not all(isinstance(t, str) for t in inputs):
            return 400, openai_error("'input' must be a non-empty string or array of strings.", param="input")
        if len(inputs) > MAX_INPUTS:
            return 400, openai_error(f"'input' : maximum {MAX_INPUTS} inputs per request.", param="input")
        tokens = [_tokens(t) for t in inputs]
        if any(not t for t in inputs):
            return 400, openai_error("'input' : input must not be empty.", param="input")
        if max(tokens) > MAX_INPUT_TOKENS:
            return 400, openai_error(f"This model's maximum context length is {MAX_INPUT_TOKENS} tokens, however "
                                     f"you requested {max(tokens)} tokens.", param="input")
        dims = int(body.get("dimensions") or EMBEDDING_MODELS[model])
        self.calls.append(list(inputs))
        as_base64 = body.get("encoding_format") == "base64"
        data = []
        for index, text in enumerate(inputs):
            vector = self.vector(text, dims)
            encoded: Any = (base64.b64encode(struct.pack(f"<{dims}f", *vector)).decode() if as_base64 else vector)
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        total = sum(tokens)
        return 200, {"object": "list", "data": data, "model": model,
                     "usage": {"prompt_tokens": total, "total_tokens": total}}

    def vector(self, text: str, dims: int) -> list[float]:
        """The unit vector of ``text`` in ``dims`` dimensions."""
        meaning = {word: concept for concept, words in self.concepts.items() for word in words}
        vector = [0.0] * dims
        for word in _WORD.findall(text.lower()):
            key = meaning.get(word, word)
            slot = self._slots.setdefault(key, len(self._slots))
            vector[slot % dims] += 1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]


def _tokens(text: str) -> int:
    """A stand-in for the tokenizer: about four characters a token, at least one."""
    return max(1, math.ceil(len(text) / 4))
