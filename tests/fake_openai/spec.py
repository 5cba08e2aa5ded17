"""Validation of request (and response) bodies against OpenAI's published OpenAPI document.

The document is loaded and its validators compiled once per process and per path (module-level cache),
so a server started for every test pays for it only once.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

_BASE_URI = "urn:openai-openapi"
_METHODS = ("get", "post", "put", "patch", "delete")


def _template_regex(template: str) -> re.Pattern[str]:
    """``/chat/completions/{completion_id}`` -> a regex matching a concrete path."""
    parts = re.split(r"(\{[^}/]+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$")


@dataclass
class OpenAPISpec:
    """OpenAI's OpenAPI document with compiled JSON Schema (Draft 2020-12) validators."""

    path: Path
    document: dict[str, Any]
    registry: Registry[Any]
    _routes: list[tuple[str, re.Pattern[str], str]] = field(default_factory=list)  # (method, regex, template)
    _validators: dict[str, Draft202012Validator] = field(default_factory=dict)
    _known: dict[str, frozenset[str] | None] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, path: Path) -> OpenAPISpec:
        """Read the (normalised, JSON) document and index its operations that take a JSON body."""
        document = json.loads(path.read_text(encoding="utf-8"))
        resource: Resource[Any] = Resource.from_contents(document, default_specification=DRAFT202012)
        spec = cls(path=path, document=document, registry=Registry().with_resource(_BASE_URI, resource))
        for template, item in document.get("paths", {}).items():
            for method in _METHODS:
                operation = item.get(method)
                if isinstance(operation, dict) and spec._json_body_ref(operation) is not None:
                    spec._routes.append((method.upper(), _template_regex(template), template))
        # Concrete paths before templated ones, so /chat/completions never matches a {param} route first.
        spec._routes.sort(key=lambda route: route[2].count("{"))
        return spec

    @staticmethod
    def _json_body_ref(operation: dict[str, Any]) -> dict[str, Any] | None:
        content = operation.get("requestBody", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema")
        return schema if isinstance(schema, dict) else None

    def _validator_for_pointer(self, pointer: str) -> Draft202012Validator:
        with self._lock:
            validator = self._validators.get(pointer)
            if validator is None:
                validator = Draft202012Validator({"$ref": f"{_BASE_URI}#{pointer}"}, registry=self.registry)
                self._validators[pointer] = validator
            return validator

    def _request_pointer(self, method: str, api_path: str) -> str | None:
        for route_method, regex, template in self._routes:
            if route_method == method.upper() and regex.match(api_path):
                escaped = template.replace("~", "~0").replace("/", "~1")
                return f"/paths/{escaped}/{method.lower()}/requestBody/content/application~1json/schema"
        return None

    def request_validator(self, method: str, api_path: str) -> Draft202012Validator | None:
        """The validator for the JSON body of ``method api_path`` (path without ``/v1``), or None if the
        spec has no JSON request body for it."""
        pointer = self._request_pointer(method, api_path)
        return self._validator_for_pointer(pointer) if pointer is not None else None

    def _resolve(self, pointer: str) -> Any:
        node: Any = self.document
        for part in pointer.lstrip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def known_parameters(self, method: str, api_path: str) -> frozenset[str] | None:
        """The top-level body fields the spec names for ``method api_path`` (following $ref and allOf/anyOf/
        oneOf), or None when it has no JSON body or leaves the set open (``additionalProperties``)."""
        pointer = self._request_pointer(method, api_path)
        if pointer is None:
            return None
        with self._lock:
            if pointer in self._known:
                return self._known[pointer]
        names: set[str] = set()
        open_ended = False
        pending: list[Any] = [self._resolve(pointer)]
        seen: set[str] = set()
        while pending:
            schema = pending.pop()
            if not isinstance(schema, dict):
                continue
            ref = schema.get("$ref")
            if isinstance(ref, str) and ref.startswith("#") and ref not in seen:
                seen.add(ref)
                pending.append(self._resolve(ref[1:]))
            names.update(schema.get("properties", {}))
            open_ended = open_ended or schema.get("additionalProperties") not in (None, False)
            for keyword in ("allOf", "anyOf", "oneOf"):
                pending.extend(schema.get(keyword, []))
        result = frozenset(names) if names and not open_ended else None
        with self._lock:
            self._known[pointer] = result
        return result

    def check_multipart(self, method: str, api_path: str, fields: dict[str, str]) -> list[str]:
        """Problems with the fields of a ``multipart/form-data`` body (``POST /files``), file parts as text."""
        for route_method, regex, template in self._multipart_routes():
            if route_method == method.upper() and regex.match(api_path):
                escaped = template.replace("~", "~0").replace("/", "~1")
                pointer = f"/paths/{escaped}/{method.lower()}/requestBody/content/multipart~1form-data/schema"
                values = self._form_values(pointer, fields)
                return describe_errors(self._validator_for_pointer(pointer).iter_errors(values))
        return []

    def _form_values(self, pointer: str, fields: dict[str, str]) -> dict[str, Any]:
        """Form fields as the JSON values their schema types name: every multipart value is text on the wire
        (``temperature=0.2``, ``stream=true``) and arrays arrive as repeated ``name[]`` fields."""
        schema: Any = self._resolve(pointer)
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            schema = self._resolve(schema["$ref"][1:])
        properties = schema.get("properties", {}) if isinstance(schema, dict) else {}
        values: dict[str, Any] = {}
        for name, text in fields.items():
            key = name.removesuffix("[]")
            prop = properties.get(key, {})
            kinds = {prop.get("type")} | {b.get("type") for b in prop.get("anyOf", []) if isinstance(b, dict)}
            value: Any = text
            try:
                if "integer" in kinds and text.lstrip("-").isdigit():
                    value = int(text)
                elif "number" in kinds:
                    value = float(text)
                elif "boolean" in kinds and text in ("true", "false"):
                    value = text == "true"
            except ValueError:
                value = text
            if name.endswith("[]") or "array" in kinds:
                values.setdefault(key, []).append(value)
            else:
                values[key] = value
        return values

    def _multipart_routes(self) -> list[tuple[str, re.Pattern[str], str]]:
        routes = []
        for template, item in self.document.get("paths", {}).items():
            for method in _METHODS:
                operation = item.get(method)
                content = operation.get("requestBody", {}).get("content", {}) if isinstance(operation, dict) else {}
                if "multipart/form-data" in content:
                    routes.append((method.upper(), _template_regex(template), template))
        return sorted(routes, key=lambda route: route[2].count("{"))

    def schema_validator(self, name: str) -> Draft202012Validator:
        """The validator for ``components.schemas[name]`` (e.g. to check the server's own responses)."""
        return self._validator_for_pointer(f"/components/schemas/{name}")

    def check_request(self, method: str, api_path: str, body: Any) -> list[str]:
        """Problems with a request body: schema errors, unknown top-level parameters, and rules between
        fields that the spec does not express."""
        problems: list[str] = []
        validator = self.request_validator(method, api_path)
        if validator is not None:
            problems.extend(describe_errors(validator.iter_errors(body)))
        known = self.known_parameters(method, api_path)
        if known is not None and isinstance(body, dict):
            # The schemas allow unknown fields, but OpenAI answers them with 400 "Unrecognized request
            # argument supplied: <name>".
            problems.extend(f"{name}: unknown parameter" for name in sorted(set(body) - known))
        if api_path == "/chat/completions" and isinstance(body, dict):
            problems.extend(chat_completion_rules(body))
        return problems


def chat_completion_rules(body: dict[str, Any]) -> list[str]:
    """Rules between fields of a chat completion request that OpenAI enforces but the schema omits."""
    problems: list[str] = []
    if body.get("stream_options") is not None and body.get("stream") is not True:
        problems.append("stream_options: only allowed when 'stream' is true")
    return problems


def _location(path: Iterable[str | int]) -> str:
    parts = [f"[{p}]" if isinstance(p, int) else f".{p}" for p in path]
    return "".join(parts).lstrip(".") or "(body)"


def _is_discriminator(error: ValidationError, parent: ValidationError) -> bool:
    """An enum/const mismatch on a field inside the object (``role``, ``type``) rules out a variant."""
    return error.validator in ("enum", "const") and len(error.absolute_path) > len(parent.absolute_path)


def _explain(error: ValidationError) -> tuple[str, str]:
    """(location, message) of the most useful cause of ``error``.

    For anyOf/oneOf, the variants whose discriminator (an enum/const field such as ``role`` or ``type``)
    matched are preferred, deepest error first; when no variant's discriminator matches, the allowed values
    are listed.
    """
    if not error.context:
        return _location(error.absolute_path), error.message
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    here = len(error.absolute_path)
    if all(len(errs) == 1 and errs[0].validator == "type" and len(errs[0].absolute_path) == here
           for errs in branches.values()):
        types: list[Any] = []
        for errs in branches.values():
            value = errs[0].validator_value
            types.extend(t for t in (value if isinstance(value, list) else [value]) if t not in types)
        return _location(error.absolute_path), f"{error.instance!r} is not of type {', '.join(map(repr, types))}"
    matching = [errs for errs in branches.values() if not any(_is_discriminator(e, error) for e in errs)]
    if matching:
        def rank(errs: list[ValidationError]) -> tuple[int, bool, int]:
            return -max(len(e.absolute_path) for e in errs), all(e.validator == "type" for e in errs), len(errs)

        best = min(matching, key=rank)
        return _explain(max(best, key=lambda e: len(e.absolute_path)))
    mismatches = [e for errs in branches.values() for e in errs if _is_discriminator(e, error)]
    paths = {tuple(e.absolute_path) for e in mismatches}
    if len(paths) == 1:
        allowed: list[Any] = []
        for e in mismatches:
            values = e.validator_value if e.validator == "enum" else [e.validator_value]
            allowed.extend(v for v in values if v not in allowed)
        return _location(paths.pop()), f"{mismatches[0].instance!r} is not one of {allowed!r}"
    return _location(error.absolute_path), error.message


def describe_errors(errors: Iterable[ValidationError]) -> list[str]:
    """One readable line per top-level error, descending into anyOf/oneOf to the most relevant cause."""
    lines: list[str] = []
    for error in sorted(errors, key=lambda e: list(map(str, e.absolute_path))):
        location, message = _explain(error)
        if len(message) > 300:
            message = message[:300] + "…"
        lines.append(f"{location}: {message}")
    return lines


_CACHE: dict[Path, OpenAPISpec] = {}
_CACHE_LOCK = threading.Lock()


def load_spec(path: Path) -> OpenAPISpec:
    """The spec at ``path``, loaded once per process (thread-safe)."""
    key = path.resolve()
    with _CACHE_LOCK:
        spec = _CACHE.get(key)
        if spec is None:
            spec = OpenAPISpec.load(key)
            _CACHE[key] = spec
        return spec
