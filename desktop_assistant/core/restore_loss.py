"""What restoring a backup would take away: the conversations the backup does not have, and those written in since.

A conversation is the same one in both when its id and its creation time agree (a backup from another install
can reuse an id for another conversation). Pure: the store and the backup file are read elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

Stamp = tuple[int, float]
"""A conversation's identity: its id and when it was created."""

NAMED = 3
"""Titles named in the sentence before "and N more"."""


@dataclass(frozen=True)
class RestoreLoss:
    """The conversations a restore would replace with nothing (``missing``) or with an older state (``changed``)."""

    missing: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    @property
    def nothing(self) -> bool:
        """Every conversation there is now is in the backup as it is now."""
        return not self.missing and not self.changed

    def sentence(self) -> str:
        """One sentence for the person deciding whether to restore."""
        if self.nothing:
            return "Every conversation you have now is in this backup as it is now."
        parts = []
        if self.missing:
            parts.append(f"{_count(len(self.missing))} this backup does not have ({_titles(self.missing)})")
        if self.changed:
            parts.append(f"what was written since in {_count(len(self.changed))} ({_titles(self.changed)})")
        return f"Restoring takes away {' and '.join(parts)}."


def restore_loss(current: Iterable[tuple[Stamp, str, float]], backup: Mapping[Stamp, float]) -> RestoreLoss:
    """Compare the conversations there are now (``(stamp, title, updated_at)``, newest first) with the backup's
    (``stamp -> updated_at``)."""
    missing: list[str] = []
    changed: list[str] = []
    for stamp, title, updated in current:
        kept = backup.get(stamp)
        if kept is None:
            missing.append(title or "Untitled")
        elif updated > kept:
            changed.append(title or "Untitled")
    return RestoreLoss(tuple(missing), tuple(changed))


def _count(n: int) -> str:
    return f"{n:,} conversation{'' if n == 1 else 's'}"


def _titles(titles: tuple[str, ...]) -> str:
    named = ", ".join(f"“{_short(t)}”" for t in titles[:NAMED])
    more = len(titles) - NAMED
    return f"{named} and {more:,} more" if more > 0 else named


def _short(title: str, limit: int = 40) -> str:
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    cut = title[: limit - 1]
    if " " in cut[-12:]:  # at a word's end where one is near
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip() + "…"
