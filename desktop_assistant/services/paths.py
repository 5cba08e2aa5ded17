"""Where the app keeps its data, settings and cache: the OS's own folders (XDG on Linux)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from platformdirs import PlatformDirs

from desktop_assistant import APP_ID

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppPaths:
    """The three folders the app writes to."""

    data: Path
    config: Path
    cache: Path

    @classmethod
    def default(cls) -> AppPaths:
        """The OS's folders for this app (platformdirs honours ``XDG_DATA_HOME`` and friends)."""
        dirs = PlatformDirs(APP_ID, appauthor=False)
        return cls(Path(dirs.user_data_dir), Path(dirs.user_config_dir), Path(dirs.user_cache_dir))

    @classmethod
    def under(cls, root: Path) -> AppPaths:
        """Folders under one root (tests, portable installs)."""
        return cls(root / "data", root / "config", root / "cache")

    @property
    def database(self) -> Path:
        """The SQLite file holding conversations and the usage ledger."""
        return self.data / "conversations.sqlite3"

    @property
    def images(self) -> Path:
        """Where sent images are kept, by content hash."""
        return self.data / "images"

    @property
    def settings_file(self) -> Path:
        """The settings file (never holds a secret)."""
        return self.config / "settings.json"

    def ensure(self) -> None:
        """Create the folders, readable by the user only (also when something made them before, more open)."""
        for folder in (self.data, self.config, self.cache):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            try:
                folder.chmod(0o700)
            except OSError as exc:  # a folder of someone else's, or a file system without modes
                log.warning("could not make %s private: %s", folder, exc)
