"""Run as a script (``quick`` or ``stock``, then PySide6 module names): import the modules, use every class in them
(PySide6 makes a class's enums on its first use), and print as JSON the shape of every enum made: its class
attributes, members, lookups and flag operations. tests/unit/test_enum_start.py compares the two ways."""

from __future__ import annotations

import enum
import importlib
import json
import sys
import types
from typing import Any

from desktop_assistant import _enum_start

made: list[Any] = []


def shape(value: Any) -> Any:
    """What ``value`` is, comparable across two processes."""
    if isinstance(value, enum.Enum):
        return ["member", type(value).__qualname__, value._name_, value._value_, getattr(value, "_sort_order_", None),
                sorted(vars(value))]
    if isinstance(value, dict):
        return [[shape(k), shape(v)] for k, v in value.items()]
    if isinstance(value, list | tuple):
        return [shape(v) for v in value]
    if value is None or isinstance(value, int | str | float | bool):
        return value
    if isinstance(value, types.MethodType):
        return ["method", shape(value.__func__)]
    if isinstance(value, type):
        return ["class", value.__module__, value.__qualname__]
    name = getattr(value, "__qualname__", None) or getattr(getattr(value, "__func__", None), "__qualname__", None)
    return [type(value).__name__, getattr(value, "__module__", None), name]


def enum_shape(made_enum: Any) -> dict[str, Any]:
    members = {}
    for name, member in made_enum.__members__.items():
        operations = [repr(member), made_enum(member._value_)._name_]
        if isinstance(member, enum.Flag):
            operations += [repr(~member), repr(member | member), repr(member & member)]
        members[name] = operations
    return {"type": shape(type(made_enum)), "bases": shape(made_enum.__mro__[1:]),
            "attributes": {key: shape(value) for key, value in sorted(vars(made_enum).items()) if key != "__doc__"},
            "iteration": [m._name_ for m in made_enum], "members": members}


def main() -> None:
    quick = sys.argv[1] == "quick"
    create = _enum_start._create_ if quick else _enum_start._STOCK

    def recording(cls: Any, *args: Any, **kwargs: Any) -> Any:
        result = create(cls, *args, **kwargs)
        made.append(result)
        return result

    enum.EnumType._create_ = recording  # type: ignore[method-assign]
    for module_name in sys.argv[2:]:
        module = importlib.import_module(f"PySide6.{module_name}")
        for name in dir(module):
            getattr(module, name)
    enum.EnumType._create_ = _enum_start._STOCK  # type: ignore[method-assign]
    shapes = {f"{e.__module__}.{e.__qualname__}": enum_shape(e) for e in made}
    json.dump({"made": len(made), "members": sum(len(e.__members__) for e in made), "shapes": shapes},
              sys.stdout)


if __name__ == "__main__":
    main()
