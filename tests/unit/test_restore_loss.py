"""What restoring a backup would take away, said before it is done."""

from __future__ import annotations

from desktop_assistant.core.restore_loss import RestoreLoss, restore_loss


def test_nothing_is_lost_when_the_backup_has_every_conversation_as_it_is() -> None:
    loss = restore_loss([((1, 10.0), "A", 20.0), ((2, 11.0), "B", 21.0)], {(1, 10.0): 20.0, (2, 11.0): 25.0})
    assert loss.nothing
    assert loss.sentence() == "Every conversation you have now is in this backup as it is now."


def test_conversations_missing_and_changed_are_named() -> None:
    current = [((3, 12.0), "New one", 30.0), ((1, 10.0), "Continued", 29.0), ((2, 11.0), "Same", 21.0)]
    loss = restore_loss(current, {(1, 10.0): 20.0, (2, 11.0): 21.0})
    assert loss == RestoreLoss(missing=("New one",), changed=("Continued",))
    assert loss.sentence() == ("Restoring takes away 1 conversation this backup does not have (“New one”) and what "
                               "was written since in 1 conversation (“Continued”).")


def test_an_id_reused_by_another_install_is_another_conversation() -> None:
    loss = restore_loss([((1, 99.0), "Mine", 100.0)], {(1, 10.0): 200.0})
    assert loss.missing == ("Mine",) and not loss.changed


def test_long_lists_name_three_and_count_the_rest() -> None:
    current = [((i, float(i)), f"Chat {i}", 5.0) for i in range(1, 1206)]
    loss = restore_loss(current, {})
    assert loss.sentence() == ("Restoring takes away 1,205 conversations this backup does not have (“Chat 1”, "
                               "“Chat 2”, “Chat 3” and 1,202 more).")
    untitled = restore_loss([((1, 1.0), "", 2.0), ((2, 1.0), "a\nvery long title " * 5, 2.0)], {})
    assert untitled.missing[0] == "Untitled"
    assert "“a very long title a very long title a…”" in untitled.sentence()
