"""The transcript's tool blocks and the approval card as widgets: plain text only, open and closed, streaming."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop_assistant.controllers.tools import PendingApproval
from desktop_assistant.core.models import Message, Role, tool_call_part, tool_result_part
from desktop_assistant.ui.chat.approval_card import ApprovalCard
from desktop_assistant.ui.chat.tool_block import ToolBlocks

HOSTILE = '<img src="http://example.com/x.png"><b>bold</b>'


def test_streaming_calls_then_final_parts_keep_blocks_open(qtbot: QtBot) -> None:
    blocks = ToolBlocks(server_label=lambda sid: {"local": "Test tools"}.get(sid, sid))
    qtbot.addWidget(blocks)
    blocks.show_partial([{"index": 0, "id": "c1", "name": "echo", "arguments": '{"te'}])
    assert blocks.blocks[0].summary.startswith("Tool call: echo")
    assert blocks.blocks[0].details.toPlainText() == '{"te'  # not JSON yet: shown as it is
    qtbot.mouseClick(blocks.blocks[0].toggle, Qt.MouseButton.LeftButton)
    first = blocks.blocks[0]
    blocks.show_partial([{"index": 0, "id": "c1", "name": "echo", "arguments": '{"text": "hi"}'}])
    assert blocks.blocks[0] is first and first.toggle.isChecked()  # the same block, still open
    assert first.details.toPlainText() == '{\n  "text": "hi"\n}'
    final = Message(1, 1, None, Role.ASSISTANT, [tool_call_part("c1", "echo", '{"text": "hi"}', "local", "echo")])
    blocks.show_message(final)
    assert blocks.blocks[0].summary.startswith("Tool call: echo on Test tools")


def test_results_are_plain_text_with_their_kind(qtbot: QtBot) -> None:
    blocks = ToolBlocks()
    qtbot.addWidget(blocks)
    blocks.show_message(Message(2, 1, None, Role.TOOL, [tool_result_part("c1", "echo", HOSTILE, error=True)]))
    block = blocks.blocks[0]
    assert block.summary.startswith("Error from echo")
    assert block.details.toPlainText() == HOSTILE  # shown, not interpreted
    blocks.show_message(Message(3, 1, None, Role.TOOL, [tool_result_part("c2", "rm", "no", denied=True)]))
    assert blocks.blocks[0].summary.startswith("Denied: rm")


def test_approval_card_queues_and_answers(qtbot: QtBot) -> None:
    card = ApprovalCard()
    qtbot.addWidget(card)
    answers: list[tuple[str, str]] = []
    card.answered.connect(lambda call_id, choice: answers.append((call_id, choice)))
    card.ask(PendingApproval("c1", "echo", "local", "<b>Tools</b>", "echo", '{\n  "text": "hi"\n}'))
    card.ask(PendingApproval("c2", "add", "local", "<b>Tools</b>", "add", "{}"))
    assert not card.isHidden() and card.title.textFormat() is Qt.TextFormat.PlainText
    assert card.queue_label.text() == "1 more waiting"
    qtbot.mouseClick(card.deny_button, Qt.MouseButton.LeftButton)
    assert card.current is not None and card.current.call_id == "c2"
    card.close_request("c2")  # stopped
    assert card.isHidden() and answers == [("c1", "deny")]
    # the calls of one reply are asked one after another: the first says how many follow
    card.ask(PendingApproval("c3", "echo", "local", "Tools", "echo", "{}", later=2))
    assert card.queue_label.text() == "2 more waiting"
