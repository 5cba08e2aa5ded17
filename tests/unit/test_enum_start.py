"""PySide6's enums made the quicker way at start (desktop_assistant._enum_start) are the enums the stock way makes:
every enum of the Qt modules imported before the first paint, compared attribute by attribute, member by member."""

from __future__ import annotations

import enum
import json
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_assistant import _enum_start

MODULES = ["QtCore", "QtGui", "QtWidgets", "QtSvg"]  # what the app imports before its first paint
TWINS = Path(__file__).with_name("enum_twins.py")


def _shapes(way: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, str(TWINS), way, *MODULES], capture_output=True, text=True, check=True,
                          timeout=120, cwd=Path(__file__).parents[2])
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="the quicker way follows Python 3.11's enum module")
def test_every_qt_enum_is_made_the_same_both_ways() -> None:
    quick, stock = _shapes("quick"), _shapes("stock")
    assert stock["made"] == quick["made"] and int(str(stock["made"])) > 500  # all of them, not a few
    assert int(str(stock["members"])) > 5000
    assert isinstance(quick["shapes"], dict) and isinstance(stock["shapes"], dict)
    differ = [name for name, made in stock["shapes"].items() if quick["shapes"].get(name) != made]
    assert differ == []


def test_other_enums_go_the_stock_way_and_the_stock_way_comes_back() -> None:
    assert _enum_start.install() == (sys.version_info[:2] == (3, 11))
    try:
        with pytest.raises(ValueError, match="invalid enum member name"):
            enum.Enum("Odd", [("mro", 1)])  # refused as the stock way refuses it
        with pytest.raises(TypeError, match="already defined"):
            enum.Enum("Twice", [("A", 1), ("A", 2)])
        named = enum.Enum("Named", "RED GREEN")  # names without values: the stock way
        assert [m.value for m in named] == [1, 2]
        assert named.__module__ == __name__  # (the stock way called one frame deeper still finds the caller)
        flags = enum.Flag("Bits", [("ONE", 1), ("TWO", 2), ("BOTH", 3)])
        assert list(flags) == [flags.ONE, flags.TWO] and flags.BOTH is flags.ONE | flags.TWO
        assert flags.__module__ == __name__  # the caller's module, as the stock way finds it
    finally:
        _enum_start.uninstall()
    assert enum.EnumType._create_ is _enum_start._STOCK
