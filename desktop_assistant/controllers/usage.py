"""Usage and money: the price table in force, the spending limit, the usage report and its CSV export."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop_assistant.controllers.endpoint import EndpointController
from desktop_assistant.controllers.notices import NoticeBus
from desktop_assistant.core import budget
from desktop_assistant.core.budget import Limits, Spent, Verdict
from desktop_assistant.core.errors import ErrorKind
from desktop_assistant.core.pricing import PriceTable
from desktop_assistant.core.settings import Settings
from desktop_assistant.core.usage import UsageReport, day_start, ledger_csv, month_start
from desktop_assistant.services import usage_queries
from desktop_assistant.services.atomic import write_atomically
from desktop_assistant.services.store import Store

log = logging.getLogger(__name__)


class UsageController(QObject):
    """Prices, limits and reports.

    Signals:
        reportReady(UsageReport): a fresh usage report.
        monthChanged(int, object, int, object): this month's spend and the monthly limit, today's spend and the
            daily limit (micro-dollars; a limit None: none).
        exported(str): the CSV file written.
    """

    reportReady = Signal(object)
    monthChanged = Signal(int, object, int, object)
    exported = Signal(str)

    def __init__(self, store: Store, endpoint: EndpointController, notices: NoticeBus,
                 base_prices: PriceTable | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._endpoint = endpoint
        self._notices = notices
        self._base = base_prices or PriceTable.load_default()
        self.prices = self._base
        self.breakdown_period = "all"  # "today", "month" or "all"
        self._unreadable_said: set[str] = set()
        self._apply_settings(endpoint.settings)
        endpoint.settingsChanged.connect(self._apply_settings)

    def _apply_settings(self, settings: Settings) -> None:
        try:
            self.prices = self._base.with_overrides({"models": settings.price_overrides})
        except ValueError as exc:
            self.prices = self._base
            self._notices.warning(f"Your own prices could not be used ({exc}); the built-in prices apply.")

    @property
    def limits(self) -> Limits:
        """The spending limits from settings."""
        s = self._endpoint.settings
        return Limits(self._limit(s.monthly_limit_usd, "monthly"), self._limit(s.daily_limit_usd, "daily"))

    def _limit(self, text: str, which: str) -> int | None:
        """A limit in micro-dollars; one that cannot be read (written by an older version) holds everything
        back, and says why once, rather than turning into no limit at all."""
        value = budget.parse_usd(text)
        if value is None and text.strip():
            if text not in self._unreadable_said:
                self._unreadable_said.add(text)
                self._notices.warning(f"Your {which} spending limit “{text}” cannot be read, so nothing is sent "
                                      "until it is corrected in Settings → Spending and prices (write it as 2.50 "
                                      "or 1000).")
            return 0
        return value

    async def spent(self, now: dt.datetime | None = None) -> Spent:
        """What was spent today and this month."""
        now = now or dt.datetime.now()
        today, month = day_start(now), month_start(now)
        return await self._store.read(lambda c: Spent(usage_queries.spent_since(c, today),
                                                      usage_queries.spent_since(c, month)))

    async def check(self, model: str, prompt_tokens: int, max_output_tokens: int, *, batch: bool = False) -> Verdict:
        """Check one request's worst case against the limits; a warning is also posted as a notice."""
        if not self.limits.any:
            return Verdict(True)
        return await self.check_total(self.prices.worst_case_micros(model, prompt_tokens, max_output_tokens,
                                                                    batch=batch))

    async def check_total(self, worst_case_micros: int | None) -> Verdict:
        """Check the worst case of a whole job (a bulk run, a batch: every request summed) against the limits.

        ``None``: some request has no price. A warning is also posted as a notice.
        """
        limits = self.limits
        if not limits.any:
            return Verdict(True)
        free = self._endpoint.gateway.endpoint.is_local
        verdict = budget.check(limits, await self.spent(), worst_case_micros, free=free)
        if verdict.allowed and verdict.warning:
            self._notices.warning(verdict.message, kind=ErrorKind.SPENDING_LIMIT)
        return verdict

    async def refresh(self, now: dt.datetime | None = None) -> UsageReport:
        """Build the usage report (breakdowns over :attr:`breakdown_period`) and publish it."""
        moment = now or dt.datetime.now()
        first = {"month": moment.date().replace(day=1), "today": moment.date()}.get(self.breakdown_period)
        report = await self._store.read(lambda c: usage_queries.report(c, moment, breakdown_from=first))
        self.reportReady.emit(report)
        limits = self.limits
        self.monthChanged.emit(report.month.cost_micros, limits.monthly_micros, report.today.cost_micros,
                               limits.daily_micros)
        return report

    async def export_csv(self, path: str) -> None:
        """Write the whole ledger to ``path`` as CSV (atomically, off the UI thread)."""
        rows = await self._store.read(usage_queries.all_rows)
        await asyncio.to_thread(write_atomically, Path(path), ledger_csv(rows))
        self.exported.emit(path)

