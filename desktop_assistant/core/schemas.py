"""Extraction schemas: a form of fields <-> a strict JSON schema <-> a pydantic model that checks answers.

OpenAI's strict mode (Structured Outputs and strict function calling) accepts a subset of JSON Schema: every
object lists all its properties in ``required`` and sets ``additionalProperties: false``; an optional field is
required but nullable (``"type": ["string", "null"]``). :func:`to_json_schema` writes exactly that;
:func:`check_schema` explains in plain words why a hand-edited schema would be refused before anything is sent;
:func:`build_model` turns a schema into a pydantic model (``pydantic.create_model``) so that an answer is
validated whatever the endpoint did with the schema (a compatible server may ignore it).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # pydantic (~17 MB) is imported when a model is first built, not with this module
    from pydantic import BaseModel

NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
SCHEMA_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_DEPTH = 10
MAX_PROPERTIES = 5000
MAX_ENUM_VALUES = 1000

# Keywords strict mode accepts (per type, plus the structural ones). Anything else is refused by the API.
_STRUCTURAL = {"type", "description", "title", "$ref", "$defs", "definitions", "anyOf", "enum", "const", "$schema",
               "$id"}
_BY_TYPE = {
    "object": {"properties", "required", "additionalProperties"},
    "array": {"items", "minItems", "maxItems"},
    "string": {"pattern", "format"},
    "number": {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"},
    "integer": {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"},
    "boolean": set(),
    "null": set(),
}
_FORMATS = {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}


class FieldType(StrEnum):
    """The kinds of field the form editor offers."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    ENUM = "enum"
    DATE = "date"
    LIST = "list"
    OBJECT = "object"


@dataclass(frozen=True)
class SchemaField:
    """One field of an extraction schema.

    ``item`` is the element of a ``list`` (its name is ignored); ``children`` are the fields of an ``object``;
    ``choices`` the values of an ``enum``; ``minimum``/``maximum`` bound an integer or number.
    """

    name: str
    type: FieldType = FieldType.STRING
    description: str = ""
    required: bool = True
    choices: tuple[str, ...] = ()
    item: SchemaField | None = None
    children: tuple[SchemaField, ...] = ()
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class ExtractionSchema:
    """A named set of fields (the form) or a hand-edited JSON schema (``raw``), which wins when set."""

    name: str
    fields: tuple[SchemaField, ...] = ()
    description: str = ""
    raw: Mapping[str, Any] | None = None

    def json_schema(self) -> dict[str, Any]:
        """The strict JSON schema sent to the API."""
        if self.raw is not None:
            return json.loads(json.dumps(self.raw))
        return to_json_schema(self.fields)


# -- fields -> strict JSON schema -------------------------------------------------------------------------

def _field_schema(f: SchemaField) -> dict[str, Any]:
    schema: dict[str, Any]
    if f.type is FieldType.ENUM:
        schema = {"type": "string", "enum": list(f.choices)}
    elif f.type is FieldType.DATE:
        schema = {"type": "string", "format": "date"}
    elif f.type is FieldType.LIST:
        schema = {"type": "array", "items": _field_schema(f.item or SchemaField("item"))}
    elif f.type is FieldType.OBJECT:
        schema = _object_schema(f.children)
    else:
        schema = {"type": f.type.value}
        if f.type in (FieldType.INTEGER, FieldType.NUMBER):
            if f.minimum is not None:
                schema["minimum"] = int(f.minimum) if f.type is FieldType.INTEGER else f.minimum
            if f.maximum is not None:
                schema["maximum"] = int(f.maximum) if f.type is FieldType.INTEGER else f.maximum
    if f.description:
        schema["description"] = f.description
    if not f.required:
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
    return schema


def _object_schema(fields: tuple[SchemaField, ...] | list[SchemaField]) -> dict[str, Any]:
    return {"type": "object", "properties": {f.name: _field_schema(f) for f in fields},
            "required": [f.name for f in fields], "additionalProperties": False}


def to_json_schema(fields: tuple[SchemaField, ...] | list[SchemaField]) -> dict[str, Any]:
    """The strict JSON schema of ``fields``: all properties required, optional ones nullable, no extras."""
    return _object_schema(fields)


# -- strict JSON schema -> fields (for the form editor, when the shape allows) -----------------------------

def _split_null(schema: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """(the schema without ``null`` in its type, whether null was allowed)."""
    out = dict(schema)
    kind = out.get("type")
    if isinstance(kind, list) and "null" in kind:
        rest = [k for k in kind if k != "null"]
        out["type"] = rest[0] if len(rest) == 1 else rest
        if isinstance(out.get("enum"), list):
            out["enum"] = [v for v in out["enum"] if v is not None]
        return out, True
    variants = out.get("anyOf")
    if isinstance(variants, list) and len(variants) == 2 and {"type": "null"} in variants:
        other = next(v for v in variants if v != {"type": "null"})
        merged = {**{k: v for k, v in out.items() if k != "anyOf"}, **other}
        return merged, True
    return out, False


def _to_field(name: str, schema: Mapping[str, Any]) -> SchemaField | None:
    body, nullable = _split_null(schema)
    kind = body.get("type")
    base = SchemaField(name, description=str(body.get("description", "")), required=not nullable)
    if isinstance(body.get("enum"), list) and kind == "string":
        return replace(base, type=FieldType.ENUM, choices=tuple(str(v) for v in body["enum"]))
    if kind == "string":
        return replace(base, type=FieldType.DATE if body.get("format") == "date" else FieldType.STRING)
    if kind in ("integer", "number"):
        return replace(base, type=FieldType(kind), minimum=body.get("minimum"), maximum=body.get("maximum"))
    if kind == "boolean":
        return replace(base, type=FieldType.BOOLEAN)
    if kind == "array" and isinstance(body.get("items"), Mapping):
        item = _to_field("item", body["items"])
        return replace(base, type=FieldType.LIST, item=item) if item else None
    if kind == "object" and isinstance(body.get("properties"), Mapping):
        children = fields_from_schema(body)
        return replace(base, type=FieldType.OBJECT, children=tuple(children)) if children is not None else None
    return None


def fields_from_schema(schema: Mapping[str, Any]) -> list[SchemaField] | None:
    """The form fields of a JSON schema, or None when it uses something the form cannot show ($ref, anyOf)."""
    properties = schema.get("properties")
    if schema.get("type") != "object" or not isinstance(properties, Mapping):
        return None
    out: list[SchemaField] = []
    for name, prop in properties.items():
        if not isinstance(prop, Mapping):
            return None
        converted = _to_field(str(name), prop)
        if converted is None:
            return None
        out.append(converted)
    return out


# -- checking a (hand-edited) schema -----------------------------------------------------------------------

def check_fields(fields: tuple[SchemaField, ...] | list[SchemaField], where: str = "") -> list[str]:
    """Problems with the form's fields (names, enum choices, nesting), one plain sentence each."""
    problems: list[str] = []
    if not fields and not where:
        problems.append("Add at least one field.")
    seen: set[str] = set()
    for f in fields:
        label = f"{where}{f.name or '(no name)'}"
        if not NAME_PATTERN.match(f.name):
            problems.append(f"{label}: a field name uses letters, digits and _ only, starts with a letter or _, "
                            "and has at most 64 characters.")
        if f.name in seen:
            problems.append(f"{label}: two fields have this name.")
        seen.add(f.name)
        if f.type is FieldType.ENUM and not [c for c in f.choices if c.strip()]:
            problems.append(f"{label}: a choice field needs at least one value.")
        if f.type is FieldType.OBJECT:
            if not f.children:
                problems.append(f"{label}: a nested object needs at least one field.")
            problems.extend(check_fields(f.children, f"{label}."))
        if f.type is FieldType.LIST and f.item is not None:
            problems.extend(check_fields((replace(f.item, name="item"),), f"{label}[]."))
        if f.minimum is not None and f.maximum is not None and f.minimum > f.maximum:
            problems.append(f"{label}: the minimum is larger than the maximum.")
    return problems


def check_schema(schema: Any) -> list[str]:
    """Why OpenAI's strict mode would refuse ``schema``, one plain sentence each (empty: it is fine)."""
    if not isinstance(schema, Mapping):
        return ["The schema must be a JSON object, such as {\"type\": \"object\", ...}."]
    problems: list[str] = []
    if schema.get("type") != "object":
        problems.append("The top level must be an object (\"type\": \"object\"), not anyOf or another type.")
    counter = [0]
    _check_node(schema, "(top)", 1, problems, counter, schema)
    if counter[0] > MAX_PROPERTIES:
        problems.append(f"The schema has {counter[0]} properties; strict mode allows at most {MAX_PROPERTIES}.")
    return problems


def _types(node: Mapping[str, Any]) -> list[str]:
    kind = node.get("type")
    if isinstance(kind, str):
        return [kind]
    return [k for k in kind if isinstance(k, str)] if isinstance(kind, list) else []


def _check_node(node: Any, where: str, depth: int, problems: list[str], counter: list[int],
                root: Mapping[str, Any]) -> None:
    if not isinstance(node, Mapping):
        problems.append(f"{where}: expected a schema object, found {json.dumps(node)[:40]}.")
        return
    if depth > MAX_DEPTH:
        problems.append(f"{where}: nested more than {MAX_DEPTH} levels deep (strict mode's limit).")
        return
    types = _types(node)
    if "type" not in node and not {"$ref", "anyOf", "enum", "const"} & set(node):
        problems.append(f"{where}: every property needs a \"type\".")
    for t in types:
        if t not in _BY_TYPE:
            problems.append(f"{where}: unknown type \"{t}\".")
    allowed = set(_STRUCTURAL).union(*(_BY_TYPE.get(t, set()) for t in types))
    for keyword in node:
        if keyword not in allowed:
            problems.append(f"{where}: \"{keyword}\" is not supported in strict mode; remove it"
                            + (" (describe the rule in the description instead)." if keyword not in
                               ("properties", "items") else " or set the matching \"type\"."))
    if isinstance(node.get("format"), str) and node["format"] not in _FORMATS:
        problems.append(f"{where}: the format \"{node['format']}\" is not supported in strict mode.")
    if isinstance(node.get("enum"), list) and len(node["enum"]) > MAX_ENUM_VALUES:
        problems.append(f"{where}: at most {MAX_ENUM_VALUES} enum values are allowed.")
    if "object" in types:
        properties = node.get("properties")
        if not isinstance(properties, Mapping):
            problems.append(f"{where}: an object needs \"properties\".")
            properties = {}
        if node.get("additionalProperties") is not False:
            problems.append(f"{where}: strict mode needs \"additionalProperties\": false on every object.")
        required = node.get("required")
        required = list(required) if isinstance(required, list) else []
        missing = [p for p in properties if p not in required]
        if missing:
            problems.append(f"{where}: strict mode needs every property in \"required\" (missing: "
                            f"{', '.join(missing)}); make a field optional by allowing null instead.")
        unknown = [r for r in required if r not in properties]
        if unknown:
            names = ", ".join(map(str, unknown))
            names = ", ".join(map(str, unknown))
            problems.append(f"{where}: \"required\" names properties that do not exist: {names}.")
        for name, prop in properties.items():
            counter[0] += 1
            _check_node(prop, f"{name}" if where == "(top)" else f"{where}.{name}", depth + 1, problems, counter,
                        root)
    if "array" in types:
        if "items" not in node:
            problems.append(f"{where}: a list needs \"items\" (the type of its elements).")
        else:
            _check_node(node["items"], f"{where}[]", depth + 1, problems, counter, root)
    for i, variant in enumerate(node.get("anyOf") or []):
        _check_node(variant, f"{where} (variant {i + 1})", depth + 1, problems, counter, root)
    for defs in ("$defs", "definitions"):
        table = node.get(defs)
        for name, sub in table.items() if isinstance(table, Mapping) else []:
            _check_node(sub, f"{defs}.{name}", depth + 1, problems, counter, root)
    ref = node.get("$ref")
    if isinstance(ref, str) and _resolve(root, ref) is None:
        problems.append(f"{where}: \"$ref\": \"{ref}\" points nowhere in this schema.")


def _resolve(root: Mapping[str, Any], ref: str) -> Mapping[str, Any] | None:
    if ref == "#":
        return root
    if not ref.startswith("#/"):
        return None
    node: Any = root
    for part in ref[2:].split("/"):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node if isinstance(node, Mapping) else None


def parse_schema_text(text: str) -> tuple[dict[str, Any] | None, list[str]]:
    """A hand-edited schema: (the schema, problems). A JSON syntax error is explained with its line."""
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."]
    problems = check_schema(schema)
    return (schema if isinstance(schema, dict) else None), problems


# -- JSON schema -> pydantic model, and validating an answer ------------------------------------------------



def build_model(schema: Mapping[str, Any], name: str = "Extraction") -> type[BaseModel]:
    """A pydantic model that accepts exactly what ``schema`` describes (strict: no type coercion)."""
    return _model(schema, name, schema, 0)


def _model(node: Mapping[str, Any], name: str, root: Mapping[str, Any], depth: int) -> type[BaseModel]:
    from pydantic import ConfigDict, create_model
    from pydantic import Field as PydField

    found = node.get("properties")
    properties: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    required = set(node.get("required") or [])
    definitions: dict[str, Any] = {}
    for key, prop in properties.items():
        annotation = _annotation(prop, f"{name}_{key}", root, depth + 1)
        description = prop.get("description") if isinstance(prop, Mapping) else None
        constraints = _constraints(prop)
        if key in required:
            definitions[key] = (annotation, PydField(..., description=description, **constraints))
        else:
            definitions[key] = (annotation | None, PydField(None, description=description, **constraints))
    model: type[BaseModel] = create_model(_safe_name(name), __config__=ConfigDict(extra="forbid", strict=True),
                                              **definitions)
    return model


def _constraints(prop: Any) -> dict[str, Any]:
    if not isinstance(prop, Mapping):
        return {}
    body, _ = _split_null(prop)
    names = {"minimum": "ge", "maximum": "le", "exclusiveMinimum": "gt", "exclusiveMaximum": "lt",
             "multipleOf": "multiple_of", "pattern": "pattern", "minItems": "min_length", "maxItems": "max_length"}
    return {names[k]: v for k, v in body.items() if k in names and body.get("format") is None}


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"\W", "_", name) or "Model"
    return cleaned if not cleaned[0].isdigit() else f"M_{cleaned}"


def _annotation(node: Any, name: str, root: Mapping[str, Any], depth: int) -> Any:
    if not isinstance(node, Mapping) or depth > MAX_DEPTH * 2:
        return Any
    if isinstance(node.get("$ref"), str):
        target = _resolve(root, node["$ref"])
        return _annotation(target, name, root, depth + 1) if target is not None else Any
    if isinstance(node.get("anyOf"), list):
        options = [_annotation(v, f"{name}_{i}", root, depth + 1) for i, v in enumerate(node["anyOf"])]
        union: Any = options[0]
        for option in options[1:]:
            union = union | option
        return union
    if "const" in node:
        return Literal[node["const"]]
    if isinstance(node.get("enum"), list) and node["enum"]:
        return Literal[tuple(node["enum"])]
    types = _types(node) or ["string"]
    parts = [_one_type(t, node, name, root, depth) for t in types]
    result: Any = parts[0]
    for part in parts[1:]:
        result = result | part
    return result


def _one_type(kind: str, node: Mapping[str, Any], name: str, root: Mapping[str, Any], depth: int) -> Any:
    if kind == "string":
        return dt.date if node.get("format") == "date" else str
    if kind == "integer":
        return int
    if kind == "number":
        return float
    if kind == "boolean":
        return bool
    if kind == "null":
        return type(None)
    if kind == "array":
        return list[_annotation(node.get("items", {}), f"{name}_item", root, depth + 1)]  # type: ignore[misc]
    if kind == "object":
        return _model(node, name, root, depth)
    return Any


@dataclass
class Checked:
    """An answer checked against the schema: the values (JSON-ready) when valid, else what was wrong."""

    values: dict[str, Any] | None
    errors: list[str] = field(default_factory=list)
    raw: str = ""

    @property
    def ok(self) -> bool:
        """The answer matched the schema."""
        return self.values is not None and not self.errors


def validate_answer(model: type[BaseModel], raw: str) -> Checked:
    """Parse and validate the model's JSON answer ``raw``; never raises."""
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        where = ("it is empty" if not str(raw).strip() else
                 "it is plain text, not fields (see the JSON tab for what came back)" if exc.pos == 0 else
                 f"it breaks off or goes wrong at character {exc.pos + 1} ({exc.msg.lower()})")
        return Checked(None, [f"The answer is not valid JSON: {where}. Try again, or raise the max tokens if it "
                              "was cut off."], raw)
    except TypeError:
        return Checked(None, ["The answer is not valid JSON: nothing came back. Try again."], raw)
    return validate_values(model, parsed, raw)


def validate_values(model: type[BaseModel], data: Any, raw: str = "") -> Checked:
    """Validate already-parsed values (an edited form, a batch line); never raises."""
    from pydantic import ValidationError

    raw = raw or json.dumps(data, ensure_ascii=False)
    try:
        instance = model.model_validate_json(json.dumps(data), strict=True)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ())) or "(answer)"
            errors.append(f"{where}: {err.get('msg', 'invalid')}")
        return Checked(data if isinstance(data, dict) else None, errors, raw)
    return Checked(instance.model_dump(mode="json"), [], raw)
