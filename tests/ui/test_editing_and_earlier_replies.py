"""Editing an earlier question and acting on an earlier reply, through the real window: the draft being written
waits and comes back, the question's images go with the edit, the count is of the edited request, and Retry,
Regenerate and Continue act on the reply they belong to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage
from PySide6.QtWidgets import QLabel, QToolButton
from pytestqt.qtbot import QtBot

from desktop_assistant.core.models import Role, Status
from tests.conftest import until
from tests.fake_openai import fixture
from tests.fake_openai.server import FakeOpenAI, Reply
from tests.ui.app_fixture import built_app, start

fake_openai = fixture.fake_openai

DRAFT = "my unsent thoughts about the weather, and about other matters"


def sent_messages(fake_openai: FakeOpenAI) -> list[dict[str, Any]]:
    """The messages of the last chat request the server received."""
    request = [r for r in fake_openai.requests if r.path.endswith("/chat/completions")][-1]
    assert request.json is not None
    return list(request.json["messages"])


def texts(content: Any) -> str:
    return content if isinstance(content, str) else "".join(p.get("text", "") for p in content)


async def settled(parts: Any, length: int) -> None:
    await until(lambda: len(parts.chat.path) == length and not parts.chat.streaming
                and parts.chat.path[-1].status is not Status.STREAMING)


async def test_editing_a_question_keeps_its_image_and_the_draft_waiting(tmp_path: Path, fake_openai: FakeOpenAI,
                                                                        qtbot: QtBot) -> None:
    picture = tmp_path / "picture.png"
    image = QImage(64, 48, QImage.Format.Format_RGB32)
    image.fill(QColor("#3070c0"))
    assert image.save(str(picture))
    fake_openai.enqueue(Reply(text="A blue rectangle."), Reply(text="Blue."))
    async with built_app(tmp_path / "home", fake_openai.base_url) as parts:
        await start(parts)
        await parts.chat.set_model("gpt-4o")
        window, composer = parts.window, parts.window.composer
        await parts.attachments.add_files([picture])
        await until(lambda: len(parts.attachments.items) == 1)
        composer.set_text("What is in this image?")
        composer.send_button.click()
        await settled(parts, 2)
        question = parts.chat.path[0]

        qtbot.keyClicks(composer.edit, DRAFT)
        await until(lambda: parts.estimates.last is not None and parts.estimates.last.draft_tokens > 0)
        next_request = parts.estimates.last
        assert next_request is not None
        window.transcript.views[question.id].edit_button.click()
        assert composer.text == "What is in this image?" and composer.send_button.text() == "Resend"
        assert "Its 1 image goes with it, as it was" in composer.edit_hint.text()
        assert composer.edit_attachments.isVisibleTo(window) and len(composer.edit_attachments.chips) == 1
        await until(lambda: parts.estimates.last is not next_request)
        edited = parts.estimates.last
        assert edited is not None
        # the request the edit makes: the question alone (with its image), not the whole conversation and a draft
        assert 85 < edited.prompt_tokens < next_request.prompt_tokens

        qtbot.keyClick(window, Qt.Key.Key_Escape)  # unchanged: nothing to offer back
        assert composer.text == DRAFT and composer.send_button.text() == "Send"
        assert not composer.edit_hint.isVisibleTo(window) and not window.banner.isVisibleTo(window)
        window.transcript.views[question.id].edit_button.click()
        qtbot.keyClicks(composer.edit, " And its size?")
        assert composer.edit_hint.isVisibleTo(window)  # what Resend and Esc do stays said while typing
        qtbot.keyClick(window, Qt.Key.Key_Escape)  # by reflex: the words typed are one click away
        assert composer.text == DRAFT and composer.send_button.text() == "Send"
        banner = window.banner
        assert banner.isVisibleTo(window) and banner.action.text() == "Undo"
        banner.action.click()
        assert composer.text == "What is in this image? And its size?" and composer.send_button.text() == "Resend"
        composer.set_text("What is in this picture, exactly?")
        window.new_chat()  # leaving the conversation leaves the edit too; it stays with the conversation's draft
        await until(lambda: composer.text == "" and composer.send_button.text() == "Send")
        await parts.chat.open_conversation(question.conversation_id)
        await until(lambda: question.id in window.transcript.views and composer.send_button.text() == "Resend"
                    and composer.text == "What is in this picture, exactly?")

        composer.set_text("What colour is it?")
        composer.send_button.click()
        await until(lambda: parts.chat.path[-1].text == "Blue." and not parts.chat.streaming)
        (asked,) = [m for m in sent_messages(fake_openai) if m["role"] == "user"]
        assert texts(asked["content"]) == "What colour is it?"
        assert [p["type"] for p in asked["content"]] == ["text", "image_url"]  # the image went with the edit
        assert composer.text == DRAFT  # the draft came back
        assert parts.chat.alternatives(parts.chat.path[0]) == (2, 2)
        assert [p["type"] for p in parts.chat.path[0].parts] == ["text", "image_url"]

        edited = parts.chat.path[0]
        window.transcript.views[edited.id].edit_button.click()
        composer.set_text("What shape is it?")
        await parts.chat.switch_branch(edited.id, -1)  # the question edited is on the branch no longer shown
        await until(lambda: composer.text == DRAFT and composer.send_button.text() == "Send")
        banner = window.banner  # the edit's words are not lost without a word
        assert banner.isVisibleTo(window) and "Your edit of an earlier question was not sent" in banner.label.text()
        banner.action.click()  # Copy the edit
        assert QGuiApplication.clipboard().text() == "What shape is it?"


async def test_an_image_the_server_refused_can_be_left_out_when_the_question_is_edited(
        tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    pictures = []
    for name, colour in (("first.png", "#3070c0"), ("broken.png", "#c03030")):
        image = QImage(64, 48, QImage.Format.Format_RGB32)
        image.fill(QColor(colour))
        assert image.save(str(tmp_path / name))
        pictures.append(tmp_path / name)
    refused = {"error": {"message": "You uploaded an unsupported image.", "type": "invalid_request_error",
                         "code": "invalid_image_format"}}
    fake_openai.enqueue(Reply(status=400, error=refused), Reply(text="Blue."))
    async with built_app(tmp_path / "home", fake_openai.base_url) as parts:
        await start(parts)
        parts.endpoint.update_settings(max_retries=0)
        await parts.chat.set_model("gpt-4o")
        window, composer = parts.window, parts.window.composer
        await parts.attachments.add_files(pictures)
        await until(lambda: len(parts.attachments.items) == 2)
        composer.set_text("What colours are these?")
        composer.send_button.click()
        await settled(parts, 2)
        failed = parts.chat.path[-1]
        assert failed.status is Status.ERROR and failed.error is not None
        assert failed.error.startswith("The server refused the request: You uploaded an unsupported image.")
        assert "edit the question: the ✕ on an image leaves it out" in failed.error
        question = parts.chat.path[0]

        action = window.transcript.views[failed.id].action_button
        assert action.text() == "Edit the question"
        action.click()
        assert composer.send_button.text() == "Resend" and composer.text == "What colours are these?"
        chips = composer.edit_attachments
        assert [c.findChild(QLabel).text() for c in chips.chips] == ["Image: first.png", "Image: broken.png"]
        await until(lambda: parts.estimates.last is not None and parts.estimates.last.prompt_tokens > 0)
        both = parts.estimates.last
        assert both is not None
        chips.chips[1].findChild(QToolButton).click()  # the ✕ of broken.png
        assert [c.findChild(QLabel).text() for c in chips.chips] == ["Image: first.png"]
        assert "Its other 1 image goes with it; 1 left out." in composer.edit_hint.text()
        await until(lambda: parts.estimates.last is not both)
        one = parts.estimates.last
        assert one is not None and one.prompt_tokens < both.prompt_tokens  # the count is of what will be sent

        composer.send_button.click()
        await until(lambda: parts.chat.path[-1].text == "Blue." and not parts.chat.streaming)
        (asked,) = [m for m in sent_messages(fake_openai) if m["role"] == "user"]
        assert [p["type"] for p in asked["content"]] == ["text", "image_url"]
        assert not chips.isVisibleTo(window)
        names = [p.get("name") for p in parts.chat.path[0].parts if p["type"] == "image_url"]
        assert names == ["first.png"]
        assert parts.chat.alternatives(parts.chat.path[0]) == (2, 2)  # the refused question is kept as it was
        assert len([p for p in question.parts if p["type"] == "image_url"]) == 2


async def test_regenerate_and_retry_act_on_the_earlier_reply_clicked(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(status=500), Reply(text="Answer two"), Reply(text="Answer one"))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        parts.endpoint.update_settings(max_retries=0)
        await parts.chat.send("Question one")
        await settled(parts, 2)
        failed = parts.chat.path[-1]
        assert failed.status is Status.ERROR
        await parts.chat.send("Question two")
        await settled(parts, 4)
        views = parts.window.transcript.views
        assert views[failed.id].action_button.text() == "Retry"

        views[failed.id].action_button.click()
        await until(lambda: parts.chat.path[-1].text == "Answer one" and not parts.chat.streaming)
        assert [texts(m["content"]) for m in sent_messages(fake_openai)] == ["Question one"]
        assert [m.text for m in parts.chat.path] == ["Question one", "Answer one"]  # a branch at that reply
        banner = parts.window.banner.label.text()  # the messages that followed are not lost: it says where they are
        assert "the 2 messages that followed stay with the earlier version" in banner

        fake_openai.enqueue(Reply(text="Answer two, again"), Reply(text="Answer one, again"))
        await parts.chat.send("Question two")
        await settled(parts, 4)
        first_reply = parts.chat.path[1]
        regenerate = parts.window.transcript.views[first_reply.id].regenerate_button
        assert regenerate.isVisibleTo(parts.window) and "stay with this version" in regenerate.toolTip()
        regenerate.click()
        await until(lambda: parts.chat.path[-1].text == "Answer one, again" and not parts.chat.streaming)
        assert [texts(m["content"]) for m in sent_messages(fake_openai)] == ["Question one"]
        assert len(parts.chat.path) == 2 and parts.chat.alternatives(parts.chat.path[1])[1] >= 2


async def test_only_the_last_reply_cut_off_offers_continue(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.enqueue(Reply(text="The first half", finish_reason="length"), Reply(text="Answer two"))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        await parts.chat.send("Question one")
        await settled(parts, 2)
        cut = parts.chat.path[-1]
        assert cut.status is Status.TRUNCATED and cut.role is Role.ASSISTANT
        view = parts.window.transcript.views[cut.id]
        assert view.action_button.text() == "Continue" and view.action_button.isVisibleTo(view)
        await parts.chat.send("Question two")
        await settled(parts, 4)
        view = parts.window.transcript.views[cut.id]
        assert not view.action_button.isVisibleTo(view)  # answers follow it


async def test_a_stale_edit_is_left_and_an_edit_waits_for_a_streaming_reply(tmp_path: Path, fake_openai: FakeOpenAI,
                                                                            qtbot: QtBot) -> None:
    fake_openai.enqueue(Reply(text="First."), Reply(chunks=[f"w{i} " for i in range(60)], chunk_delay=0.05),
                        Reply(text="Second answer."))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        window, composer = parts.window, parts.window.composer
        await parts.chat.send("Q1")
        await settled(parts, 2)
        await parts.chat.send("Q2")
        await until(lambda: parts.chat.streaming)
        window.transcript.views[parts.chat.path[0].id].edit_button.click()
        composer.set_text("Q1, carefully rewritten")
        qtbot.keyClick(composer.edit, Qt.Key.Key_Return)
        assert composer.text == "Q1, carefully rewritten"  # not sent while the reply streams, and not lost
        assert "still arriving" in composer.refusal.text()
        await settled(parts, 4)

        window.new_chat()  # the question edited is no longer shown: the edit is left
        assert composer.send_button.text() == "Send" and composer.text == ""
        qtbot.keyClicks(composer.edit, "A brand new question")
        qtbot.keyClick(composer.edit, Qt.Key.Key_Return)
        await until(lambda: len(parts.chat.path) == 2 and parts.chat.path[-1].text == "Second answer."
                    and not parts.chat.streaming)
        assert parts.chat.path[0].text == "A brand new question"


async def test_the_draft_s_images_wait_out_of_sight_while_an_earlier_question_is_edited(
        tmp_path: Path, fake_openai: FakeOpenAI, qtbot: QtBot) -> None:
    picture = tmp_path / "draft.png"
    image = QImage(64, 48, QImage.Format.Format_RGB32)
    image.fill(QColor("#c03070"))
    assert image.save(str(picture))
    fake_openai.enqueue(Reply(text="Plain answer."))
    async with built_app(tmp_path / "home", fake_openai.base_url) as parts:
        await start(parts)
        await parts.chat.set_model("gpt-4o")
        window, composer = parts.window, parts.window.composer
        await parts.chat.send("A question without images")
        await settled(parts, 2)
        await parts.attachments.add_files([picture])  # the next question's image, in the draft
        bar = composer.attachments
        await until(lambda: bar.isVisibleTo(window) and len(bar.chips) == 1)
        edited = window.transcript.views[parts.chat.path[0].id]
        edited.edit_button.click()
        assert edited.property("editing") is True  # outlined: the question being edited
        assert not bar.isVisibleTo(window)  # not the edited question's: it waits with the draft
        assert "image" not in composer.refusal.text()
        qtbot.keyClick(window, Qt.Key.Key_Escape)
        assert bar.isVisibleTo(window) and len(parts.attachments.items) == 1
        assert edited.property("editing") is False


async def test_the_question_edited_is_scrolled_into_sight(tmp_path: Path, fake_openai: FakeOpenAI,
                                                          qtbot: QtBot) -> None:
    long = "\n\n".join(f"Paragraph {i} of a long answer." for i in range(60))
    fake_openai.enqueue(Reply(text=long))
    async with built_app(tmp_path, fake_openai.base_url) as parts:
        await start(parts)
        window = parts.window
        window.resize(900, 600)
        await parts.chat.send("The question")
        await settled(parts, 2)
        question = parts.chat.path[0]
        transcript = window.transcript
        bar = transcript.verticalScrollBar()
        await until(lambda: bar.maximum() > 0 and bar.value() == bar.maximum())  # at the reply's end
        view = transcript.views[question.id]
        assert view.visibleRegion().isEmpty()  # the question is far above
        window.activateWindow()
        await until(window.isActiveWindow)
        window.composer.edit.setFocus()
        qtbot.keyClick(window.composer.edit, Qt.Key.Key_Up)  # Up in the empty box: edit the last question
        assert window.composer.send_button.text() == "Resend"
        await until(lambda: not view.visibleRegion().isEmpty())
        top = view.mapTo(transcript.viewport(), view.rect().topLeft()).y()
        assert 0 <= top < transcript.viewport().height()  # its top in sight, not its bottom edge
