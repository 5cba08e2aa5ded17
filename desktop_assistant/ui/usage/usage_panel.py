"""The Usage workspace: today, this month, all time; by feature and by model; daily spend; CSV export."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_assistant.core.pricing import format_usd
from desktop_assistant.core.usage import Breakdown, Totals, UsageReport
from desktop_assistant.ui.usage.spend_chart import SpendChart


def totals_text(t: Totals) -> str:
    """One line under a card: calls and tokens, and what could not be priced."""
    text = f"{t.calls:,} call{'s' if t.calls != 1 else ''} · {t.input_tokens:,} in / {t.output_tokens:,} out"
    if t.unpriced_calls:
        text += f" · {t.unpriced_calls:,} without a price (not counted)"
    return text


class _Card(QFrame):
    def __init__(self, title: str, name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        heading = QLabel(title)
        heading.setProperty("muted", True)
        layout.addWidget(heading)
        self.amount = QLabel("$0.00")
        self.amount.setObjectName(f"{name}_amount")
        font = self.amount.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.amount.setFont(font)
        layout.addWidget(self.amount)
        self.detail = QLabel()
        self.detail.setProperty("muted", True)
        self.detail.setWordWrap(True)
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.detail)

    def show_totals(self, totals: Totals, suffix: str = "") -> None:
        self.amount.setText(format_usd(totals.cost_micros) + suffix)
        self.detail.setText(totals_text(totals))


WIDEST = 900
"""The widest a table of figures grows: its labels stay near their figures."""


def figures_table(name: str, accessible: str, headings: list[str], most: int = 12) -> QTableWidget:
    """An empty read-only table of figures: its first column takes the room left, the others their contents'
    width; as tall as its rows (see :func:`fit_rows`)."""
    table = QTableWidget(0, len(headings))
    table.setObjectName(name)
    table.setAccessibleName(accessible)
    table.setHorizontalHeaderLabels(headings)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setWordWrap(False)  # a figure on two lines is cut off by the row's height: the column widens instead
    table.setMaximumWidth(WIDEST)  # on a wide screen the first column took the width, the figures far from it
    header = table.horizontalHeader()
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    for column in range(1, len(headings)):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    fit_rows(table, most)
    return table


def breakdown_table(name: str, first: str) -> QTableWidget:
    """An empty table of breakdowns (by feature or by model) whose first column is headed ``first``."""
    return figures_table(name, first, [first, "Calls", "Input tokens", "Output tokens", "Cost"])


def figure(text: str) -> QTableWidgetItem:
    """A cell holding a figure: right-aligned, as figures are read."""
    item = QTableWidgetItem(text)
    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def fit_rows(table: QTableWidget, most: int = 12) -> None:
    """Make ``table`` as tall as its rows (one at least, ``most`` at most, then it scrolls): two rows in a table
    sized for ten left a block of empty grid under them."""
    shown = min(table.rowCount(), most)
    height = table.horizontalHeader().sizeHint().height() + 2 * table.frameWidth()
    height += sum(table.rowHeight(i) for i in range(shown)) if shown else table.verticalHeader().defaultSectionSize()
    table.setFixedHeight(height)


DAYS_SHOWN = 7
"""Rows of the by-day table shown at once (it scrolls for more)."""

FEATURE_NAMES = {"chat": "Chat", "tools": "Chat with tools", "titles": "Conversation titles",
                 "extraction": "Extract", "batch": "Extract (Batch API)", "lab": "Lab",
                 "embeddings": "Search by meaning", "audio": "Voice"}
"""What the ledger's feature keys are called on screen (a key not listed is shown as it is)."""


def fill_table(table: QTableWidget, rows: list[Breakdown], names: dict[str, str] | None = None) -> None:
    """Put one breakdown per row (untrusted names shown as plain text items; ``names`` renames known ones)."""
    table.setRowCount(len(rows))
    for i, row in enumerate(rows):
        t = row.totals
        cost = format_usd(t.cost_micros)
        if t.unpriced_calls:
            cost = "price unknown" if t.unpriced_calls == t.calls else f"{cost} + unpriced"
        name = (names or {}).get(row.name, row.name)
        values = [name, f"{t.calls:,}", f"{t.input_tokens:,}", f"{t.output_tokens:,}", cost]
        for j, value in enumerate(values):
            item = figure(value) if j else QTableWidgetItem(value)
            if j == 4 and t.unpriced_calls:
                item.setToolTip(f"{t.unpriced_calls:,} of these calls used a model without a price: their cost is "
                                "not included. Add its price in Settings → Spending and prices.")
            table.setItem(i, j, item)
    fit_rows(table)


class UsagePanel(QScrollArea):
    """Shows a :class:`UsageReport`.

    Signals:
        refreshRequested(): build the report again.
        exportRequested(): export the ledger as CSV.
    """

    refreshRequested = Signal()
    exportRequested = Signal()
    periodChosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("usage")
        self.setAccessibleName("Usage")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(24, 16, 24, 16)
        layout.setSpacing(16)
        top = QHBoxLayout()
        title = QLabel("Usage")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        title.setFont(font)
        top.addWidget(title)
        top.addStretch(1)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("usage_refresh_button")
        self.refresh_button.clicked.connect(self.refreshRequested)
        top.addWidget(self.refresh_button)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setObjectName("export_csv_button")
        self.export_button.clicked.connect(self.exportRequested)
        top.addWidget(self.export_button)
        layout.addLayout(top)
        cards = QGridLayout()
        self.today = _Card("Today", "usage_today")
        self.month = _Card("This month", "usage_month")
        self.all_time = _Card("All time", "usage_all_time")
        for i, card in enumerate((self.today, self.month, self.all_time)):
            cards.addWidget(card, 0, i)
        layout.addLayout(cards)
        self.limit_label = QLabel()
        self.limit_label.setObjectName("usage_limit")
        self._today_spent = 0
        self.limit_label.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.limit_label)
        chart_title = QLabel("Daily spend, last 30 days")
        chart_title.setProperty("muted", True)
        layout.addWidget(chart_title)
        self.chart = SpendChart()
        layout.addWidget(self.chart)
        # the chart's figures, to read (and for a screen reader or a keyboard)
        self.by_day = figures_table("usage_by_day", "Spend by day, last 30 days", ["Day", "Cost"], DAYS_SHOWN)
        layout.addWidget(self.by_day)
        period_row = QHBoxLayout()
        period_label = QLabel("Breakdowns for")
        self.period = QComboBox()
        self.period.setObjectName("usage_period")
        self.period.setAccessibleName("Period of the breakdowns")
        for text, key in (("All time", "all"), ("This month", "month"), ("Today", "today")):
            self.period.addItem(text, key)
        self.period.currentIndexChanged.connect(lambda _i: self.periodChosen.emit(self.period.currentData()))
        period_label.setBuddy(self.period)
        period_row.addWidget(period_label)
        period_row.addWidget(self.period)
        period_row.addStretch(1)
        layout.addLayout(period_row)
        self.by_feature = breakdown_table("usage_by_feature", "Feature")
        self.by_model = breakdown_table("usage_by_model", "Model")
        layout.addWidget(QLabel("By feature"))
        layout.addWidget(self.by_feature)
        layout.addWidget(QLabel("By model"))
        layout.addWidget(self.by_model)
        self.note = QLabel("Costs are computed from the tokens the API reports and the prices in Settings → "
                           "Spending and prices; amounts marked ~ elsewhere are estimates (a stopped reply, an "
                           "unknown model).")
        self.note.setWordWrap(True)
        self.note.setProperty("muted", True)
        layout.addWidget(self.note)
        layout.addStretch(1)
        self.setWidget(body)

    def show_report(self, report: UsageReport) -> None:
        """Show ``report``."""
        self._today_spent = report.today.cost_micros
        self.today.show_totals(report.today)
        self.month.show_totals(report.month)
        self.all_time.show_totals(report.all_time)
        self.chart.set_days(report.daily)
        spent_days = [(day, cost) for day, cost in reversed(report.daily) if cost]  # newest first
        self.by_day.setRowCount(len(spent_days))
        for row, (day, cost) in enumerate(spent_days):
            self.by_day.setItem(row, 0, QTableWidgetItem(day.strftime("%a %d %b %Y")))
            self.by_day.setItem(row, 1, figure(format_usd(cost)))
        fit_rows(self.by_day, DAYS_SHOWN)
        fill_table(self.by_feature, report.by_feature, FEATURE_NAMES)
        fill_table(self.by_model, report.by_model)

    def show_limit(self, spent: int, limit: int | None, daily: int | None = None) -> None:
        """Say how much of the monthly limit is used, and of the daily one when there is one."""
        if limit is None:
            text = "No monthly spending limit is set" + (
                "." if daily is not None else " (Settings → Spending and prices).")
        else:
            share = spent / limit * 100 if limit else 100.0
            text = f"This month {format_usd(spent)} of your {format_usd(limit)} limit ({share:.0f} %)."
        if daily is not None:
            today = self._today_spent
            share = today / daily * 100 if daily else 100.0
            text += f" Today {format_usd(today)} of your {format_usd(daily)} daily limit ({share:.0f} %)."
        self.limit_label.setText(text)
