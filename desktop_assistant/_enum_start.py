"""A quicker way to make the enums PySide6 makes on import, installed before PySide6 is first imported.

PySide6 turns every C++ enum into a Python enum through the functional API (``enum.Enum("Name", [(name,
value), ...])``) the first time its class is used: by the first paint the app has made ~230 enums with
~3,100 members, and the functional API's checks made that ~35 ms of the start (a bare window makes ~40). The
enum module's generic path validates each member name and value against everything an enum class body may
hold; PySide's names are plain identifiers with integer values. Here such an enum is made by the stock path
with no members (its class, mixins and methods exactly as usual), then its members are added as the stock path
adds them (:meth:`enum._proto_member.__set_name__`), without the checks that cannot fail for them. Anything
else (other names, values, bases or Python versions) goes the stock way. A test checks, enum by enum, that all
of PySide's come out the same both ways (tests/unit/test_enum_start.py).
"""

from __future__ import annotations

import enum
import sys
from typing import Any

_STOCK: Any = vars(enum.EnumType)["_create_"]
_BASES = (enum.Enum, enum.IntEnum, enum.Flag, enum.IntFlag)
_RESERVED = frozenset(n for base in (*_BASES, int, object) for c in base.__mro__ for n in c.__dict__)
"""Names the bases define: a member named so takes the stock path (which puts a redirect in the class)."""


def _plain(names: Any) -> bool:
    if not isinstance(names, list) or not names:
        return False
    seen: set[str] = set()
    for item in names:
        if not (isinstance(item, tuple) and len(item) == 2):
            return False
        name, value = item
        if (type(name) is not str or type(value) is not int or name in seen or name in _RESERVED
                or name.startswith("_") or name == "mro" or not name.isidentifier()):
            return False
        seen.add(name)
    return True


def _create_(cls: Any, class_name: str, names: Any = None, *, module: str | None = None,
             qualname: str | None = None, type: Any = None, start: int = 1, boundary: Any = None) -> Any:
    if module is None:  # what the stock path would find (its caller's caller), found here: it is called deeper
        try:
            module = sys._getframe(2).f_globals["__name__"]
        except (AttributeError, ValueError, KeyError):
            module = None
    if module is None or cls not in _BASES or type is not None or not _plain(names):
        return _STOCK(cls, class_name, names, module=module, qualname=qualname, type=type, start=start,
                      boundary=boundary)
    made = _STOCK(cls, class_name, (), module=module, qualname=qualname, boundary=boundary)
    _add_members(made, names)
    return made


def _add_members(made: Any, names: list[tuple[str, int]]) -> None:
    is_flag = issubclass(made, enum.Flag)
    new_member, use_args, member_type = made._new_member_, made._use_args_, made._member_type_
    member_names, member_map, by_value = made._member_names_, made._member_map_, made._value2member_map_
    set_attribute = type.__setattr__
    flag_mask = singles_mask = 0
    for name, given in names:
        member = new_member(made, given) if use_args else new_member(made)
        if not hasattr(member, "_value_"):
            member._value_ = given if member_type is object else member_type(given)
        value = member._value_
        member._name_ = name
        member.__objclass__ = made
        member.__init__(given)
        member._sort_order_ = len(member_names)
        single = value > 0 and value & (value - 1) == 0  # enum._is_single_bit
        if is_flag:
            flag_mask |= value
            if single:
                singles_mask |= value
        canonical = by_value.get(value)
        if canonical is not None:  # an alias of the member with its value
            member = canonical
        elif not is_flag or single:
            member_names.append(name)
        set_attribute(made, name, member)
        member_map[name] = member
        by_value.setdefault(value, member)
    if is_flag:
        made._flag_mask_ = flag_mask
        made._singles_mask_ = singles_mask
        made._all_bits_ = 2 ** flag_mask.bit_length() - 1
        values = [member_map[n]._value_ for n in member_names]
        if values != sorted(values):
            made._iter_member_ = made._iter_member_by_def_


def install() -> bool:
    """Make enums the quicker way from now on (Python 3.11, whose enum module this follows); False elsewhere."""
    if sys.version_info[:2] != (3, 11):
        return False
    setattr(enum.EnumType, "_create_", _create_)  # noqa: B010  (an attribute typing does not know)
    return True


def uninstall() -> None:
    """Make enums the stock way again."""
    setattr(enum.EnumType, "_create_", _STOCK)  # noqa: B010
