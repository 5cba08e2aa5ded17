"""The built-in extraction templates: Task, Product review, Contact, Invoice (with line items)."""

from __future__ import annotations

from desktop_assistant.core.schemas import ExtractionSchema, FieldType, SchemaField

F = FieldType

TASK = ExtractionSchema("task", (
    SchemaField("title", F.STRING, "A short title for the task"),
    SchemaField("priority", F.ENUM, "How urgent the task is", choices=("low", "medium", "high", "critical")),
    SchemaField("due_date", F.DATE, "When it is due, as YYYY-MM-DD", required=False),
    SchemaField("assignee", F.STRING, "Who should do it", required=False),
    SchemaField("tags", F.LIST, "Short keywords", item=SchemaField("item", F.STRING)),
), "A task described in the text")

PRODUCT_REVIEW = ExtractionSchema("product_review", (
    SchemaField("sentiment", F.ENUM, "Overall sentiment", choices=("positive", "neutral", "negative", "mixed")),
    SchemaField("score", F.INTEGER, "The rating from 1 to 5", minimum=1, maximum=5),
    SchemaField("key_issues", F.LIST, "Problems the reviewer mentions", item=SchemaField("item", F.STRING)),
    SchemaField("key_positives", F.LIST, "What the reviewer liked", item=SchemaField("item", F.STRING)),
    SchemaField("would_recommend", F.BOOLEAN, "Whether the reviewer would recommend it"),
), "A product review")

CONTACT = ExtractionSchema("contact", (
    SchemaField("name", F.STRING, "Full name"),
    SchemaField("email", F.STRING, "Email address", required=False),
    SchemaField("phone", F.STRING, "Phone number", required=False),
    SchemaField("company", F.STRING, "Company or organisation", required=False),
    SchemaField("role", F.STRING, "Job title", required=False),
), "Contact details")

INVOICE = ExtractionSchema("invoice", (
    SchemaField("invoice_number", F.STRING, "The invoice number"),
    SchemaField("issue_date", F.DATE, "Date of issue, YYYY-MM-DD"),
    SchemaField("vendor", F.STRING, "Who issued the invoice"),
    SchemaField("currency", F.STRING, "ISO currency code such as USD or EUR"),
    SchemaField("line_items", F.LIST, "One entry per line of the invoice", item=SchemaField("item", F.OBJECT, children=(
        SchemaField("description", F.STRING, "What was sold"),
        SchemaField("quantity", F.NUMBER, "How many"),
        SchemaField("unit_price", F.NUMBER, "Price of one unit"),
        SchemaField("amount", F.NUMBER, "Line total"),
    ))),
    SchemaField("total", F.NUMBER, "The total to pay"),
), "An invoice with its line items")

TEMPLATES: dict[str, ExtractionSchema] = {
    "Task": TASK,
    "Product review": PRODUCT_REVIEW,
    "Contact": CONTACT,
    "Invoice": INVOICE,
}
"""Templates by the name shown in the picker."""
