"""Spending limits and the person's own prices (per 1M tokens, over the built-in table)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_assistant.core.budget import plain_usd
from desktop_assistant.core.settings import Settings

PRICE_FIELDS = ("input", "cached_input", "output")


class SpendingForm(QWidget):
    """Edits the monthly and daily limits and the price overrides."""

    def __init__(self, pricing_source: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.monthly = QLineEdit()
        self.monthly.setObjectName("monthly_limit")
        self.monthly.setAccessibleName("Monthly spending limit in dollars")
        self.monthly.setPlaceholderText("No limit (e.g. 10)")
        form.addRow("Monthly limit ($)", self.monthly)
        self.daily = QLineEdit()
        self.daily.setObjectName("daily_limit")
        self.daily.setAccessibleName("Daily spending limit in dollars")
        self.daily.setPlaceholderText("No limit")
        form.addRow("Daily limit ($)", self.daily)
        layout.addLayout(form)
        explain = QLabel("Before anything is sent, the most it could cost (its prompt plus the full reply "
                         "allowance) is checked against what is left; over the limit, nothing is sent. At 80 % "
                         "you are warned.")
        explain.setWordWrap(True)
        explain.setProperty("muted", True)
        layout.addWidget(explain)
        self.images_in_history = QCheckBox("Send images from earlier messages again with each question")
        self.images_in_history.setObjectName("images_in_history")
        self.images_in_history.setToolTip("Off: only the newest question's images are sent; earlier ones are left "
                                          "out (and cost nothing)")
        layout.addWidget(self.images_in_history)
        prices_title = QLabel("Your prices (dollars per 1M tokens), used instead of the built-in ones")
        layout.addWidget(prices_title)
        source = QLabel(pricing_source)
        source.setObjectName("pricing_source")
        source.setWordWrap(True)
        source.setProperty("muted", True)
        source.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(source)
        self.prices = QTableWidget(0, 4)
        self.prices.setObjectName("price_overrides")
        self.prices.setAccessibleName("Your prices")
        self.prices.setHorizontalHeaderLabels(["Model", "Input", "Cached input", "Output"])
        self.prices.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.prices.verticalHeader().setVisible(False)
        for column, tip in enumerate(("The model's name as the endpoint knows it (e.g. gpt-4o-mini)",
                                      "Dollars per 1M input tokens (e.g. 0.15)",
                                      "Per 1M cached input tokens (empty: the built-in price, else the input one)",
                                      "Dollars per 1M output tokens (e.g. 0.60)")):
            header = self.prices.horizontalHeaderItem(column)
            if header is not None:
                header.setToolTip(tip)
        self.prices.itemChanged.connect(self._forget_problem)
        layout.addWidget(self.prices, 1)
        row = QHBoxLayout()
        add = QPushButton("Add model")
        add.setObjectName("add_price_button")
        add.clicked.connect(self._add_new_row)
        remove = QPushButton("Remove selected")
        remove.setObjectName("remove_price_button")
        remove.clicked.connect(self._remove_selected)
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        layout.addLayout(row)
        self.problem = QLabel()
        self.problem.setObjectName("spending_problem")
        self.problem.setWordWrap(True)
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.problem)
        for field in (self.monthly, self.daily):
            field.textEdited.connect(self._forget_problem)

    def load(self, settings: Settings) -> None:
        """Show the limits and overrides of ``settings``."""
        self.monthly.setText(settings.monthly_limit_usd)
        self.daily.setText(settings.daily_limit_usd)
        self.images_in_history.setChecked(settings.images_in_history)
        self.prices.setRowCount(0)
        for model, row in sorted(settings.price_overrides.items()):
            self._add_row(model, row)
        self.problem.clear()

    def _add_row(self, model: str, row: dict[str, str]) -> None:
        i = self.prices.rowCount()
        self.prices.insertRow(i)
        self.prices.setItem(i, 0, QTableWidgetItem(model))
        for j, name in enumerate(PRICE_FIELDS, start=1):
            self.prices.setItem(i, j, QTableWidgetItem(row.get(name, "")))

    def _forget_problem(self, *_changed: object) -> None:
        """What was said about a value goes once it is being corrected."""
        self.problem.clear()

    def _add_new_row(self) -> None:
        """A new row, its model name being typed (a blank row did not say what goes where)."""
        self._add_row("", {})
        row = self.prices.rowCount() - 1
        self.prices.setCurrentCell(row, 0)
        item = self.prices.item(row, 0)
        if item is not None:
            self.prices.editItem(item)

    def _remove_selected(self) -> None:
        for index in sorted({i.row() for i in self.prices.selectedIndexes()}, reverse=True):
            self.prices.removeRow(index)

    def _cell(self, row: int, column: int) -> str:
        item = self.prices.item(row, column)
        return item.text().strip() if item is not None else ""

    def values(self, base: Settings) -> Settings | None:
        """``base`` with the typed limits and prices, or None (with :attr:`problem` set) if something is off."""
        problems: list[str] = []
        monthly, daily = self.monthly.text().strip(), self.daily.text().strip()
        for label, text in (("monthly limit", monthly), ("daily limit", daily)):
            if text and plain_usd(text) is None:
                problems.append(f"The {label} “{text}” is not an amount in dollars (write it as 2.50 or 1000).")
        monthly, daily = plain_usd(monthly) or "", plain_usd(daily) or ""
        overrides: dict[str, dict[str, str]] = {}
        for i in range(self.prices.rowCount()):
            cells = [self._cell(i, j) for j in range(4)]
            model, values = cells[0], cells[1:]
            if not model and not any(values):
                continue
            typed = {name: v for name, v in zip(PRICE_FIELDS, values, strict=True) if v}
            row = {name: plain_usd(v) or "" for name, v in typed.items()}
            if not model or "input" not in row or "output" not in row or not all(row.values()):
                problems.append(f"Row {i + 1}: give a model name and input and output prices as numbers "
                                "(such as 0.15).")
                continue
            overrides[model] = row
        self.problem.setText(" ".join(problems))
        if problems:
            return None
        return base.copy(monthly_limit_usd=monthly, daily_limit_usd=daily, price_overrides=overrides,
                         images_in_history=self.images_in_history.isChecked())
