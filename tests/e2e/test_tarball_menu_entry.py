"""The .tar.gz's menu entry: install-menu-entry.sh adds this unpacked folder to the person's applications menu
and takes it out again (run on real files, as the person runs it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# the checkout: scripts/test.sh runs a copy of tests/ elsewhere, against the installed wheel, and says where it is
LINUX = Path(os.environ.get("DA_SOURCE_ROOT", Path(__file__).resolve().parents[2])) / "packaging" / "linux"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the tarball is Linux's")


def test_the_menu_entry_points_at_the_unpacked_folder_and_goes_again(tmp_path: Path) -> None:
    folder = tmp_path / "Apps" / "desktop assistant"  # a space in the path, as a person's may have
    folder.mkdir(parents=True)
    for name in ("install-menu-entry.sh", "desktop-assistant.desktop"):
        shutil.copy2(LINUX / name, folder / name)
    home = tmp_path / "home"
    env = {"PATH": os.environ["PATH"], "HOME": str(home)}
    added = subprocess.run([str(folder / "install-menu-entry.sh")], env=env, capture_output=True, text=True,
                           check=True)
    entry = home / ".local" / "share" / "applications" / "desktop-assistant.desktop"
    assert str(entry) in added.stdout
    lines = entry.read_text().splitlines()
    assert f'Exec="{folder}/desktop-assistant"' in lines
    assert f"Icon={folder}/_internal/desktop_assistant/resources/icons/app.svg" in lines
    assert "Name=Desktop Assistant" in lines and "StartupWMClass=desktop-assistant" in lines
    subprocess.run([str(folder / "install-menu-entry.sh"), "--remove"], env=env, capture_output=True, check=True)
    assert not entry.exists()


def test_the_tarball_says_how_to_remove_the_app_and_where_its_data_stays() -> None:
    text = (LINUX / "README-tarball.txt").read_text()
    assert "./install-menu-entry.sh --remove" in text and "~/.local/share/desktop-assistant/" in text
    assert "keyring" in text
