"""What a field path means for each event kind: the type the compiler checks conditions against.

Derived from the pydantic models in `models`, so the language and the event schema cannot drift apart.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel

from .models import EVENT_TYPES


@dataclass(frozen=True)
class FieldType:
    """`kind` is one of bool, text, number, date, enum, list, object, any."""

    kind: str
    options: tuple[str, ...] = ()
    item: "FieldType | None" = None
    models: tuple[type[BaseModel], ...] = ()

    def describe(self) -> str:
        if self.kind == "enum":
            return "one of " + ", ".join(f'"{o}"' for o in self.options)
        if self.kind == "list" and self.item is not None:
            return f"a list of {self.item.describe()}"
        return {"bool": "yes/no", "text": "text", "number": "a number", "date": "a date/time",
                "object": "a group of fields", "any": "any value"}.get(self.kind, self.kind)

    def fields(self) -> dict[str, "FieldType"]:
        """The sub-fields of an object type (union of its models' fields)."""
        found: dict[str, FieldType] = {}
        for model in self.models:
            for name, info in model.model_fields.items():
                found.setdefault(name, type_of(info.annotation))
        return found


ANY = FieldType("any")
BOOL = FieldType("bool")
TEXT = FieldType("text")
NUMBER = FieldType("number")
DATE = FieldType("date")


def type_of(annotation: Any) -> FieldType:
    """Map a pydantic annotation to the language's small type system."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return type_of(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return type_of(args[0])
        inner = [type_of(a) for a in args]
        if all(t.kind == "object" for t in inner):
            return FieldType("object", models=tuple(m for t in inner for m in t.models))
        return ANY
    if origin is Literal:
        return FieldType("enum", options=tuple(str(a) for a in typing.get_args(annotation)))
    if origin is list:
        return FieldType("list", item=type_of(typing.get_args(annotation)[0]))
    if origin is dict or annotation is dict:
        return ANY
    if annotation is bool:
        return BOOL
    if annotation is str:
        return TEXT
    if annotation in (int, float):
        return NUMBER
    if annotation is datetime:
        return DATE
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return FieldType("object", models=(annotation,))
    return ANY


def root_type(kind: str) -> FieldType:
    return FieldType("object", models=(EVENT_TYPES[kind],))


# `target` is short for `action.target`: the content an action acts on.
ALIASES: dict[str, tuple[str, ...]] = {"target": ("action", "target")}


def expand(parts: tuple[str, ...]) -> tuple[str, ...]:
    return ALIASES.get(parts[0], (parts[0],)) + parts[1:]


def resolve(parts: tuple[str, ...], start: FieldType) -> tuple[FieldType | None, str | None, list[str]]:
    """Follow a path from a type: (its type, or None and the first bad part, and the names allowed there)."""
    current = start
    for part in parts:
        if current.kind == "any":
            return ANY, None, []
        if current.kind != "object":
            return None, part, []
        fields = current.fields()
        if part not in fields:
            return None, part, sorted(fields)
        current = fields[part]
    return current, None, []
