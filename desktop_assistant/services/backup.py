"""Backups of the conversation database with SQLite's online backup API.

A backup is a plain SQLite file: the conversations, messages and usage ledger (the database never holds a
secret; the key lives in the keyring and settings are not copied). Files are written to a temporary name in
the destination folder and renamed when complete, so a full disk never leaves half a backup under the real
name. Automatic backups are named ``conversations-auto-YYYYmmdd-HHMMSS.sqlite3`` and rotated (the newest N
kept); the copies made before an upgrade or a restore are never rotated away.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from desktop_assistant.core.errors import ErrorAction, ErrorKind, UserFacingError
from desktop_assistant.services.migrations import LATEST

AUTO_PREFIX = "conversations-auto-"
SUFFIX = ".sqlite3"
DAY = 24 * 60 * 60


def backup_dir(data: Path) -> Path:
    """Where backups live: ``<data>/backups``."""
    return data / "backups"


def stamp(now: float | None = None) -> str:
    """A file-name time stamp, local time."""
    return time.strftime("%Y%m%d-%H%M%S", time.localtime(now))


def unique(path: Path) -> Path:
    """``path``, or ``path`` with ``-2``, ``-3``... when a file of that name exists."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def copy_database(conn: sqlite3.Connection, dest: Path) -> Path:
    """Copy the database behind ``conn`` to ``dest`` (online backup, atomic rename); returns ``dest``."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.partial")
    tmp.unlink(missing_ok=True)
    try:
        tmp.touch(mode=0o600)  # the person's conversations: readable by them only, wherever they put the copy
        target = sqlite3.connect(tmp)
        try:
            conn.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            target.close()
        os.replace(tmp, dest)
    except (OSError, sqlite3.Error) as exc:
        tmp.unlink(missing_ok=True)
        Path(str(tmp) + "-journal").unlink(missing_ok=True)
        raise storage_error("The backup could not be written", exc) from exc
    return dest


def storage_error(what: str, exc: BaseException) -> UserFacingError:
    """A write failure said plainly (a full disk says so)."""
    text = str(exc).lower()
    if "full" in text or "no space" in text or getattr(exc, "errno", None) == 28:
        return UserFacingError(ErrorKind.STORAGE, f"{what}: the disk is full. Free some space and try again; "
                               "nothing was changed.", ErrorAction.RETRY, detail=str(exc))
    return UserFacingError(ErrorKind.STORAGE, f"{what} ({exc}). Nothing was changed.", ErrorAction.RETRY,
                           detail=str(exc))


def pre_migration_backup(conn: sqlite3.Connection, data_dir: Path, from_version: int) -> Path:
    """The copy made before upgrading an existing database."""
    name = f"conversations-before-v{LATEST}-from-v{from_version}-{stamp()}{SUFFIX}"
    return copy_database(conn, unique(backup_dir(data_dir) / name))


def auto_backups(folder: Path) -> list[Path]:
    """The automatic backups in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.name.startswith(AUTO_PREFIX) and p.name.endswith(SUFFIX)]

    def made(path: Path) -> tuple[str, float]:  # two in one second: "-2" sorts before ".sqlite3" by name
        try:
            written = path.stat().st_mtime
        except OSError:
            written = 0.0
        return _stamp_of(path), written
    return sorted(found, key=made)


def _stamp_of(path: Path) -> str:
    """The time stamp in an automatic backup's name (``stamp``'s form)."""
    return path.name[len(AUTO_PREFIX):len(AUTO_PREFIX) + 15]


def auto_backup_due(folder: Path, now: float | None = None, interval: float = DAY) -> bool:
    """True when the newest automatic backup is older than ``interval`` (or there is none)."""
    existing = auto_backups(folder)
    if not existing:
        return True
    now = time.time() if now is None else now
    newest = existing[-1]
    try:  # the time in its name (the clock of the day it was made), else the file's own time
        made = time.mktime(time.strptime(_stamp_of(newest), "%Y%m%d-%H%M%S"))
    except ValueError:
        made = newest.stat().st_mtime
    return now - made >= interval


def auto_backup(conn: sqlite3.Connection, folder: Path, keep: int, now: float | None = None) -> Path:
    """Write an automatic backup and remove the oldest beyond ``keep``; returns the new file."""
    dest = copy_database(conn, unique(folder / f"{AUTO_PREFIX}{stamp(now)}{SUFFIX}"))
    rotate(folder, keep)
    return dest


def keep_newest_aside(folder: Path, now: float | None = None) -> BackupInfo | None:
    """The database was found damaged: copy the newest automatic backup that can be read to a name rotation never
    removes (the new, empty database's own daily backups would push it out within ``keep`` days), and return what
    that copy holds; None when there is no readable automatic backup."""
    for candidate in reversed(auto_backups(folder)):
        try:
            info = inspect(candidate)
        except UserFacingError:
            continue  # damaged too: an older one may do
        if info.newer_than_app or not info.conversations:
            continue  # (one made of a new, empty database brings nothing back)
        dest = unique(folder / f"conversations-before-damage-{stamp(now)}{SUFFIX}")
        try:
            shutil.copy2(candidate, dest)
            dest.chmod(0o600)
        except OSError:
            return info  # still there for now: offered as it is
        return inspect(dest)
    return None


def rotate(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` automatic backups; returns what was deleted."""
    existing = auto_backups(folder)
    doomed = existing[:-keep] if keep > 0 else existing
    for path in doomed:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return doomed


@dataclass(frozen=True)
class BackupInfo:
    """What a backup file holds, shown before a restore replaces anything."""

    path: Path
    schema_version: int
    conversations: int
    messages: int
    newest_activity: float | None  # the latest conversation update in it
    written_at: float  # the file's modification time
    updated: dict[tuple[int, float], float] = field(default_factory=dict, compare=False)
    """When each conversation in it (by id and creation time) was last changed: what a restore would take away."""

    @property
    def newer_than_app(self) -> bool:
        """Written by a newer version of the app: it cannot be restored here."""
        return self.schema_version > LATEST

    def summary(self) -> str:
        """One paragraph for the person."""
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.newest_activity or self.written_at))
        text = (f"{self.path.name}: {self.conversations} conversations, {self.messages} messages, "
                f"last activity {when}.")
        if self.newer_than_app:
            text += " It was written by a newer version of the app and cannot be restored by this one."
        return text


def _bad_backup(path: Path, why: str) -> UserFacingError:
    return UserFacingError(ErrorKind.BAD_INPUT, f"{path.name} is not a backup this app can read ({why}). "
                           "Nothing was changed.", detail=why)


def inspect(path: Path) -> BackupInfo:
    """Read a backup's contents without changing it (opened read-only)."""
    if not path.is_file():
        raise _bad_backup(path, "no such file")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise _bad_backup(path, str(exc)) from exc
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise _bad_backup(path, "the file is damaged")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if version > LATEST:
            conversations = messages = 0
            newest = None
            updated: dict[tuple[int, float], float] = {}
        elif not {"conversations", "messages"} <= tables:
            raise _bad_backup(path, "it holds no conversations")
        else:
            conversations = conn.execute("SELECT COUNT(*) FROM conversations WHERE deleted_at IS NULL").fetchone()[0]
            messages = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
            newest = conn.execute("SELECT MAX(updated_at) FROM conversations").fetchone()[0]
            updated = {(int(i), float(c)): float(u) for i, c, u in conn.execute(
                "SELECT id, created_at, updated_at FROM conversations WHERE deleted_at IS NULL")}
    except sqlite3.DatabaseError as exc:
        raise _bad_backup(path, str(exc)) from exc
    finally:
        conn.close()
    return BackupInfo(path, version, int(conversations), int(messages), newest, path.stat().st_mtime, updated)


def restore_into(conn: sqlite3.Connection, source: Path, keep_current_in: Path) -> Path:
    """Replace the database behind ``conn`` with ``source``; the current one is kept as a backup first.

    Returns where the current database was kept. Refuses (before touching anything) a file from a newer app
    or one that is not a readable backup. The caller migrates afterwards if the backup is older.
    """
    info = inspect(source)
    if info.newer_than_app:
        raise UserFacingError(ErrorKind.BAD_INPUT, f"{source.name} was written by a newer version of the app "
                              f"(schema {info.schema_version}; this version knows {LATEST}). Update the app to "
                              "restore it; nothing was changed.")
    kept = copy_database(conn, unique(keep_current_in / f"conversations-before-restore-{stamp()}{SUFFIX}"))
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        src.backup(conn)
    except sqlite3.Error as exc:
        raise storage_error("The backup could not be restored", exc) from exc
    finally:
        src.close()
    return kept
