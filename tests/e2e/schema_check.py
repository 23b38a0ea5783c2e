"""A JSON Schema (2020-12) subset validator for the OpenAPI document, and
helpers to find the schema of an operation's response.

Supported keywords, the ones docs/openapi.json uses: $ref (local
"#/..."), type (name or list), enum, const, properties, required,
additionalProperties (false or a schema), propertyNames, items, minItems,
maxItems, minimum, maximum, minLength, pattern, anyOf, oneOf. Annotations
(description, format, examples, default, ...) are ignored. An unknown
assertion keyword is an error, so the document cannot use a keyword this
validator would silently skip.
"""

from __future__ import annotations

import re
from typing import Any

ANNOTATIONS = {"description", "format", "examples", "default", "title", "deprecated", "contentMediaType"}
ASSERTIONS = {"$ref", "type", "enum", "const", "properties", "required", "additionalProperties", "propertyNames",
              "items", "minItems", "maxItems", "minimum", "maximum", "minLength", "pattern", "anyOf", "oneOf"}

TYPE_CHECKS = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


class SchemaError(AssertionError):
    pass


def same_json(a: Any, b: Any) -> bool:
    """JSON equality: True is not 1, as in JSON Schema."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


class Validator:
    def __init__(self, document: dict):
        self.document = document

    def resolve(self, ref: str) -> dict:
        if not ref.startswith("#/"):
            raise SchemaError(f"only local references are supported: {ref}")
        node: Any = self.document
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def errors(self, value: Any, schema: dict, where: str = "$") -> list[str]:
        """Every violation of `schema` by `value`, as 'path: message'."""
        unknown = set(schema) - ANNOTATIONS - ASSERTIONS
        if unknown:
            raise SchemaError(f"{where}: unsupported keywords {sorted(unknown)}")
        found: list[str] = []
        for keyword in ASSERTIONS & set(schema):
            found += getattr(self, "_" + keyword.lstrip("$"))(value, schema[keyword], schema, where)
        return found

    def validate(self, value: Any, schema: dict, what: str = "value") -> None:
        problems = self.errors(value, schema)
        if problems:
            raise SchemaError(f"{what} does not match its schema:\n  " + "\n  ".join(problems[:20]))

    # -- keywords ---------------------------------------------------------
    def _ref(self, value, ref, _schema, where):
        return self.errors(value, self.resolve(ref), where)

    def _type(self, value, types, _schema, where):
        names = types if isinstance(types, list) else [types]
        if any(TYPE_CHECKS[name](value) for name in names):
            return []
        return [f"{where}: expected {'/'.join(names)}, got {type(value).__name__}"]

    def _enum(self, value, options, _schema, where):
        return [] if any(same_json(value, o) for o in options) else [f"{where}: {value!r} not in {options}"]

    def _const(self, value, expected, _schema, where):
        return [] if same_json(value, expected) else [f"{where}: {value!r} is not {expected!r}"]

    def _properties(self, value, properties, _schema, where):
        if not isinstance(value, dict):
            return []
        found = []
        for name, sub in properties.items():
            if name in value:
                found += self.errors(value[name], sub, f"{where}.{name}")
        return found

    def _required(self, value, names, _schema, where):
        if not isinstance(value, dict):
            return []
        return [f"{where}: missing {name!r}" for name in names if name not in value]

    def _additionalProperties(self, value, extra, schema, where):
        if not isinstance(value, dict):
            return []
        declared = set(schema.get("properties", {}))
        found = []
        for name in value:
            if name in declared:
                continue
            if extra is False:
                found.append(f"{where}: unexpected property {name!r}")
            elif isinstance(extra, dict):
                found += self.errors(value[name], extra, f"{where}.{name}")
        return found

    def _propertyNames(self, value, names_schema, _schema, where):
        if not isinstance(value, dict):
            return []
        return [e for name in value for e in self.errors(name, names_schema, f"{where}[name {name!r}]")]

    def _items(self, value, item_schema, _schema, where):
        if not isinstance(value, list):
            return []
        return [e for i, item in enumerate(value) for e in self.errors(item, item_schema, f"{where}[{i}]")]

    def _minItems(self, value, n, _schema, where):
        return [f"{where}: fewer than {n} items"] if isinstance(value, list) and len(value) < n else []

    def _maxItems(self, value, n, _schema, where):
        return [f"{where}: more than {n} items"] if isinstance(value, list) and len(value) > n else []

    def _minimum(self, value, n, _schema, where):
        numeric = TYPE_CHECKS["number"](value)
        return [f"{where}: {value} < {n}"] if numeric and value < n else []

    def _maximum(self, value, n, _schema, where):
        numeric = TYPE_CHECKS["number"](value)
        return [f"{where}: {value} > {n}"] if numeric and value > n else []

    def _minLength(self, value, n, _schema, where):
        return [f"{where}: shorter than {n}"] if isinstance(value, str) and len(value) < n else []

    def _pattern(self, value, pattern, _schema, where):
        if isinstance(value, str) and not re.search(pattern, value):
            return [f"{where}: {value[:60]!r} does not match {pattern}"]
        return []

    def _anyOf(self, value, options, _schema, where):
        results = [self.errors(value, option, where) for option in options]
        if any(not r for r in results):
            return []
        return [f"{where}: matches none of anyOf: " + "; ".join(r[0] for r in results)]

    def _oneOf(self, value, options, _schema, where):
        results = [self.errors(value, option, where) for option in options]
        matched = sum(1 for r in results if not r)
        if matched == 1:
            return []
        if matched == 0:
            return [f"{where}: matches none of oneOf: " + "; ".join(r[0] for r in results)]
        return [f"{where}: matches {matched} of oneOf, exactly one wanted"]


class Contract:
    """The OpenAPI document of a running server, with lookups by operation."""

    def __init__(self, document: dict):
        self.document = document
        self.validator = Validator(document)

    def operation(self, method: str, path_template: str) -> dict:
        try:
            return self.document["paths"][path_template][method.lower()]
        except KeyError:
            raise SchemaError(f"{method.upper()} {path_template} is not in the document") from None

    def response(self, method: str, path_template: str, status: int) -> dict:
        responses = self.operation(method, path_template)["responses"]
        if str(status) not in responses:
            raise SchemaError(f"{method.upper()} {path_template} does not document status {status}: "
                              f"{sorted(responses)}")
        return responses[str(status)]

    def check(self, method: str, path_template: str, response) -> None:
        """Checks a `requests` response: its status is documented, its
        Content-Type is the documented one and a JSON body matches the schema."""
        documented = self.response(method, path_template, response.status_code)
        content = documented.get("content", {})
        media = response.headers.get("Content-Type", "").split(";")[0].strip()
        if media not in content:
            raise SchemaError(f"{method} {path_template} {response.status_code}: Content-Type {media!r} "
                              f"is not one of {sorted(content)}")
        if media == "application/json":
            self.validator.validate(response.json(), content[media]["schema"],
                                    f"{method} {path_template} {response.status_code} body")

    def check_event(self, name: str, data: Any) -> None:
        events = self.response("get", "/ocr/stream/{job_id}", 200)["x-sse-events"]
        if name not in events:
            raise SchemaError(f"SSE event {name!r} is not documented: {sorted(events)}")
        self.validator.validate(data, events[name], f"SSE {name} event")
