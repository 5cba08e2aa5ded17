"""Search over every conversation: keyword hits at once, hits by meaning once the history is embedded.

Keyword search (SQLite FTS5) is free and offline. Search by meaning needs each message's embedding: the
person sees what embedding the history costs and starts it; afterwards new messages are embedded in the
background. Every embeddings call is checked against the spending limit first and recorded in the ledger
as ``embeddings``. An endpoint without embeddings leaves keyword search, and says so.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from desktop_assistant.controllers.endpoint import EndpointController
from desktop_assistant.controllers.runner import OperationRunner
from desktop_assistant.controllers.usage import UsageController
from desktop_assistant.core import search as core
from desktop_assistant.core.errors import ErrorAction, ErrorKind, UserFacingError
from desktop_assistant.core.models import LedgerEntry, Usage
from desktop_assistant.core.pricing import format_usd
from desktop_assistant.core.search import IndexPlan, SearchHit
from desktop_assistant.core.tokens import count_many, get_encoding
from desktop_assistant.services.search_store import SearchStore
from desktop_assistant.services.store import Store

if TYPE_CHECKING:
    import numpy as np

FEATURE = "embeddings"
EMBEDDING_ENCODING = "cl100k_base"  # the text-embedding-3 and ada-002 tokenizer
MAX_INPUT_TOKENS = 8000  # under the 8,192 an embeddings input may have; longer messages are cut
RESULTS = 50
MEANING_THRESHOLD = 0.25  # cosine below this is unrelated text for text-embedding-3
QUERY_CACHE = 64
_UNAVAILABLE = (ErrorKind.MODEL_UNAVAILABLE, ErrorKind.BAD_REQUEST)


@dataclass(frozen=True)
class MeaningState:
    """Where search by meaning stands, for the search panel."""

    enabled: bool  # the person started it (a setting)
    available: bool  # False once the endpoint refused embeddings
    running: bool  # messages are being embedded now
    indexed: int
    plan: IndexPlan | None  # what is left to embed (None: not counted yet)
    message: str  # one plain sentence


class SearchController(QObject):
    """Runs searches and keeps the embeddings index.

    Signals:
        resultsReady(str, list, str): the query, its :class:`SearchHit` list, and a note (or "").
        meaningChanged(object): a new :class:`MeaningState`.
    """

    resultsReady = Signal(str, list, str)
    meaningChanged = Signal(object)

    def __init__(self, store: Store, endpoint: EndpointController, runner: OperationRunner,
                 usage: UsageController, parent: QObject | None = None, *,
                 remember: Callable[[], Awaitable[None]] | None = None) -> None:
        super().__init__(parent)
        self._store, self._endpoint, self._runner, self._usage = store, endpoint, runner, usage
        self._remember = remember  # saves the counts just made (a long history's are many: not kept in memory)
        self._search = SearchStore(store)
        self._available = True
        self._unavailable_reason = ""
        self._indexed = 0
        self._plan: IndexPlan | None = None
        self._query_vectors: OrderedDict[tuple[str, str, int], np.ndarray] = OrderedDict()
        self._model = self._index_key()
        self.batch_inputs = 256  # messages per embeddings request (the API takes up to 2,048)
        endpoint.settingsChanged.connect(self._on_settings)
        self.state = self._state()

    # -- searching ----------------------------------------------------------------------------------------
    def search(self, text: str, *, meaning: bool = True) -> None:
        """Search for ``text`` (the previous search still running is dropped); results arrive as a signal."""
        self._runner.cancel("search")
        self._runner.start_unless_closing("Search", self.run_search(text, meaning=meaning), key="search")

    async def run_search(self, text: str, *, meaning: bool = True) -> list[SearchHit]:
        """Keyword hits, fused with hits by meaning when the index is in use; publishes and returns them."""
        query = core.fts_query(text)
        by_keyword = await self._search.keyword(query, RESULTS, core.fts_phrase(text)) if query else []
        note = ""
        by_meaning: list[SearchHit] = []
        if meaning and self._meaning_ready() and len(text.strip()) >= 3:
            self.resultsReady.emit(text, core.fuse(by_keyword, [], RESULTS), "")  # words first, meaning next
            try:
                by_meaning = await self._by_meaning(text)
            except UserFacingError as exc:
                if not self._refused(exc):
                    note = f"Search by meaning failed: {exc.message} These are keyword results."
            if not self._available:
                note = self._unavailable_reason
        elif self._endpoint.settings.semantic_search and not self._available:
            note = self._unavailable_reason
        hits = core.fuse(by_keyword, by_meaning, RESULTS)
        self.resultsReady.emit(text, hits, note)
        return hits

    async def _by_meaning(self, text: str) -> list[SearchHit]:
        settings = self._endpoint.settings
        model, dims = settings.embeddings_model, settings.embeddings_dimensions
        key = (text.strip(), model, dims)
        vector = self._query_vectors.get(key)
        if vector is None:
            tokens = count_many(EMBEDDING_ENCODING, [text])[0]
            if not (await self._usage.check(model, tokens, 0)).allowed:
                return []
            raw, usage = await self._endpoint.gateway.embed(model, [text], dims)
            await self._record(model, usage, tokens)
            vector = _unit(raw[0])
            self._query_vectors[key] = vector
            while len(self._query_vectors) > QUERY_CACHE:
                self._query_vectors.popitem(last=False)
        scored = await self._search.nearest(vector, model, RESULTS * 2, MEANING_THRESHOLD)
        found = (await self._search.hits(scored))[:RESULTS]  # hits() drops deleted conversations
        return [replace(hit, snippet=core.passage(full, text)) for hit, full in found]

    def release(self) -> None:
        """Search was put away: free the vectors held in memory for it."""
        self._search.release()

    # -- the index ----------------------------------------------------------------------------------------
    async def refresh_state(self, *, running: bool | None = None) -> MeaningState:
        """Count what is embedded and what is left (and its cost), and publish it."""
        settings = self._endpoint.settings
        model, dims = settings.embeddings_model, settings.embeddings_dimensions
        self._indexed = await self._search.indexed(model, dims)
        pending = await self._search.pending(model, dims)
        # remembered (core/token_counts.py): build_index finds these counts again instead of recounting them
        tokens = await asyncio.to_thread(_count_tokens, [text for _id, text in pending])
        if self._remember is not None:
            await self._remember()
        cost = self._usage.prices.cost_micros(model, sum(tokens), 0, 0)
        self._plan = IndexPlan(len(pending), sum(tokens), cost)
        return self._publish(running=running)

    def start_index(self) -> None:
        """The person agreed to embed the history: turn search by meaning on and embed what is left."""
        self._endpoint.update_settings(semantic_search=True)
        self._available = True
        if self._runner.find("embed") is None:
            self._runner.start("Indexing for search by meaning", self.build_index(), key="embed",
                               context={"what": "Indexing for search by meaning"})
        self._publish()

    def stop_index(self) -> None:
        """Stop embedding (what is embedded stays)."""
        self._runner.cancel("embed")

    def turn_off(self) -> None:
        """Stop using search by meaning (vectors stay on disk, so turning it on again costs only what is new)."""
        self.stop_index()
        self._endpoint.update_settings(semantic_search=False)
        self._publish()

    def top_up(self) -> None:
        """Embed new messages in the background, if search by meaning is on and nothing is embedding now."""
        settings = self._endpoint.settings
        if (settings.semantic_search and self._available and not self._runner.closing
                and self._runner.find("embed") is None and not self._endpoint.needs_onboarding):
            self._runner.start("Indexing new messages", self.build_index(quiet=True), key="embed",
                               context={"what": "Indexing new messages for search by meaning"})

    async def build_index(self, *, quiet: bool = False) -> int:
        """Embed every message not embedded yet, in batched requests; returns how many were embedded.

        The whole remaining cost is checked against the spending limit first. Cancelling keeps what is done.
        """
        settings = self._endpoint.settings
        model, dims = settings.embeddings_model, settings.embeddings_dimensions
        done = 0
        self._publish(running=True)
        try:
            pending = await self._search.pending(model, dims)
            items = await asyncio.to_thread(_prepared, pending)
            total = self._usage.prices.cost_micros(model, sum(i[2] for i in items), 0, 0)
            if items and not (verdict := await self._usage.check_total(total)).allowed:
                if quiet:
                    return 0
                raise UserFacingError(ErrorKind.SPENDING_LIMIT, verdict.message, ErrorAction.OPEN_SETTINGS)
            for batch in core.batches(items, max_inputs=self.batch_inputs):
                try:
                    raw, usage = await self._endpoint.gateway.embed(model, [text for _i, text, _t in batch], dims)
                except UserFacingError as exc:
                    if self._refused(exc) and quiet:
                        return done
                    raise
                if len(raw) != len(batch):
                    raise UserFacingError(ErrorKind.SERVER, "The server answered a different number of embeddings "
                                          "than it was asked for; search by meaning was not updated.",
                                          ErrorAction.RETRY)
                await self._search.save_vectors(model, dims, [(i, _unit(r)) for (i, _x, _t), r in
                                                              zip(batch, raw, strict=True)])
                await self._record(model, usage, sum(t for _i, _x, t in batch))
                done += len(batch)
                self._indexed += len(batch)
                self._publish(running=True)
            return done
        finally:
            if done:
                await self._usage.refresh()
            await self.refresh_state(running=False)

    # -- helpers ------------------------------------------------------------------------------------------
    def _index_key(self) -> tuple[str, int, str]:
        settings = self._endpoint.settings
        return settings.embeddings_model, settings.embeddings_dimensions, settings.endpoint

    def _on_settings(self, _settings: object) -> None:
        """Another embeddings model, vector size or endpoint: search by meaning is off until the person turns it
        on again, having seen what indexing with the new choice costs."""
        key = self._index_key()
        if key == self._model:
            return
        self._model = key
        self.stop_index()
        if self._endpoint.settings.semantic_search:  # a new index has its own cost: the person agrees to it again
            self._endpoint.update_settings(semantic_search=False)
        self._search.release()
        self._available, self._indexed = True, 0
        counted, self._plan = self._plan is not None, None
        self._publish(running=False)
        if counted and not self._runner.closing:
            self._runner.start("count messages for search", self.refresh_state(), key="search-count")

    def _meaning_ready(self) -> bool:
        return self._endpoint.settings.semantic_search and self._available and self._indexed > 0

    def _refused(self, exc: UserFacingError) -> bool:
        """Whether ``exc`` says the endpoint has no embeddings (then keyword search carries on alone)."""
        if exc.kind not in _UNAVAILABLE:
            return False
        self._available = False
        model = self._endpoint.settings.embeddings_model
        self._unavailable_reason = (f"This endpoint does not offer embeddings ({model}), so search finds exact "
                                    "words only.")
        self._publish()
        return True

    async def _record(self, model: str, usage: Usage, counted: int) -> None:
        if usage.estimated and not usage.input_tokens:
            usage = Usage(input_tokens=counted, estimated=True)
        cost = self._usage.prices.cost_micros(model, usage.input_tokens, 0, 0)
        await self._store.record_usage(LedgerEntry(FEATURE, model, usage, cost, created_at=time.time()))

    def _publish(self, *, running: bool | None = None) -> MeaningState:
        self.state = self._state(running)
        self.meaningChanged.emit(self.state)
        return self.state

    def _state(self, running: bool | None = None) -> MeaningState:
        settings = self._endpoint.settings
        busy = self._runner.find("embed") is not None if running is None else running
        plan = self._plan
        if not self._available:
            message = self._unavailable_reason
        elif busy:
            message = f"Indexing for search by meaning… {self._indexed:,} messages done."
        elif plan is None:
            message = "Search by meaning finds messages that say the same thing in other words."
        elif settings.semantic_search:
            message = (f"Search by meaning is on: {self._indexed:,} messages indexed." if plan.empty else
                       f"Search by meaning is on; {plan.messages:,} newer messages are not indexed yet.")
        elif plan.empty:
            message = "Search by meaning is off."
        else:
            cost = "at a price not known" if plan.cost_micros is None else format_usd(plan.cost_micros,
                                                                                        estimate=True)
            message = (f"Search by meaning: indexing {plan.messages:,} messages ({plan.tokens:,} tokens) "
                       f"costs {cost} with {settings.embeddings_model}, once.")
        return MeaningState(settings.semantic_search, self._available, busy, self._indexed, plan, message)


def _count_tokens(texts: list[str]) -> list[int]:
    """Tokens each text will be embedded with (cut at the input limit); counts made before are used again."""
    return [min(n, MAX_INPUT_TOKENS) for n in count_many(EMBEDDING_ENCODING, texts)]


def _prepared(pending: list[tuple[int, str]]) -> list[tuple[int, str, int]]:
    """(id, text cut to the input limit, tokens) for each pending message (off the UI thread). The counts made
    when the index was priced are found again (core/token_counts.py); only a text over the limit is tokenized,
    to cut it."""
    out: list[tuple[int, str, int]] = []
    for (message_id, text), tokens in zip(pending, count_many(EMBEDDING_ENCODING, [t for _i, t in pending]),
                                          strict=True):
        if tokens > MAX_INPUT_TOKENS:
            encoding = get_encoding(EMBEDDING_ENCODING)
            text = encoding.decode(encoding.encode_ordinary(text)[:MAX_INPUT_TOKENS])
        out.append((message_id, text, min(tokens, MAX_INPUT_TOKENS)))
    return out


def _unit(raw: object) -> np.ndarray:
    from desktop_assistant.core.vectors import unit_vector  # numpy: only once search by meaning is used
    return unit_vector(raw)
