"""The event schema: what a post, comment, account audit or user action looks like.

Events are pydantic models with unknown fields rejected, so a typo in a caller's JSON is an error and
never a silently missing field. Scalar facts default to None, meaning "the event does not say", which
the evaluator treats as unknown rather than false; list fields default to empty (no links means no
links).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Literal, Mapping, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from .errors import EventError, FieldProblem

Role = Literal["public", "staff", "coordinator", "administrator", "department_head", "vendor", "elected_official"]
Capability = Literal["publish", "edit", "comment", "view"]


class _Model(BaseModel):
    """Frozen, so an event cannot change under evaluation, and so one empty default (`author`, `account`,
    `context` an event leaves out) can be shared by every event instead of being built for each: that
    halves the cost of validating a small event."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Label(_Model):
    """A category assigned upstream, by a classifier (`source`) or by a person."""

    name: str
    score: float = 1.0
    source: str | None = None


class Context(_Model):
    emergency: bool | None = None


class Actor(_Model):
    id: str | None = None
    name: str | None = None
    role: Role | None = None
    department: str | None = None
    authorized: bool | None = None
    capabilities: list[Capability] | None = None
    trained: bool | None = None
    acknowledged_policy: bool | None = None
    official_capacity: bool | None = None
    on_city_time: bool | None = None


class Account(_Model):
    id: str | None = None
    platform: str | None = None
    handle: str | None = None
    name: str | None = None
    bio: str | None = None
    website: str | None = None
    registration_email: str | None = None
    official: bool | None = None
    registered: bool | None = None
    approved_by: str | None = None
    administrators: list[str] | None = None
    credential_holders: int | None = None
    password_strength: Literal["weak", "fair", "strong"] | None = None
    profile_image_has_city_logo: bool | None = None
    links_to_user_policy: bool | None = None
    terms_displayed: bool | None = None
    topic: str | None = None
    owner_type: Literal["department", "individual", "elected_official"] | None = None


class Media(_Model):
    type: Literal["photo", "video", "graphic", "document", "audio"] | None = None
    ownership: Literal["city", "licensed", "permission", "third_party", "unknown"] | None = None
    identifiable_private_individuals: bool | None = None
    minors: bool | None = None
    release: Literal["written", "email", "none"] | None = None


class AuthorHistory(_Model):
    removed_before: int | None = None


def _labels(value: Any) -> Any:
    """Accept a single label, a list of names, or {name, score, source} objects."""
    if value is None:
        return []
    if isinstance(value, (str, Mapping)):
        value = [value]
    return [{"name": v} if isinstance(v, str) else v for v in value]


class _EventBase(_Model):
    id: str | None = None
    platform: str = "generic"
    at: datetime | None = None
    labels: list[Label] = Field(default_factory=list)
    context: Context = Field(default=Context())
    extra: dict[str, Any] = Field(default_factory=dict)

    _normalise_labels = field_validator("labels", mode="before")(lambda cls, v: _labels(v))

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        """Naive times are taken as UTC so that comparisons with effective dates are defined."""
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


class Post(_EventBase):
    kind: Literal["post"]
    text: str | None = None
    links: list[str] = Field(default_factory=list)
    media: list[Media] = Field(default_factory=list)
    author: Actor = Field(default=Actor())
    account: Account = Field(default=Account())
    original: bool = True
    scheduled_via: str | None = None


class Comment(_EventBase):
    kind: Literal["comment"]
    text: str | None = None
    links: list[str] = Field(default_factory=list)
    media: list[Media] = Field(default_factory=list)
    author: Actor = Field(default=Actor())
    account: Account = Field(default=Account())
    author_history: AuthorHistory = Field(default=AuthorHistory())


class AccountAudit(_EventBase):
    kind: Literal["account"]
    account: Account = Field(default=Account())


class Action(_Model):
    type: str
    via: str | None = None
    target: "Event | None" = None


class ActionEvent(_EventBase):
    kind: Literal["action"]
    action: Action
    actor: Actor = Field(default=Actor())


Event = Annotated[Union[Post, Comment, AccountAudit, ActionEvent], Field(discriminator="kind")]
Action.model_rebuild()

EVENT_TYPES: dict[str, type[_EventBase]] = {
    "post": Post, "comment": Comment, "account": AccountAudit, "action": ActionEvent,
}
_EVENT_ADAPTER: TypeAdapter[Any] = TypeAdapter(Event)


def _problem(error: Mapping[str, Any]) -> FieldProblem:
    """Turn one pydantic error into a field path a caller can find in their JSON."""
    parts: list[str] = []
    loc = error["loc"]
    for i, part in enumerate(loc):
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif part in EVENT_TYPES and (i == 0 or loc[i - 1] == "target"):
            continue
        else:
            parts.append(("." if parts else "") + str(part))
    path = "".join(parts)
    kind = error["type"]
    if kind == "extra_forbidden":
        return FieldProblem(path, None)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return FieldProblem(path or "kind", "kind to be one of post, comment, account, action", _short(error.get("input")))
    got = None if kind == "missing" else _short(error.get("input"))
    return FieldProblem(path, error["msg"].removeprefix("Input should be ").removeprefix("Value error, "), got)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_event(data: Any, *, index: int | None = None) -> Post | Comment | AccountAudit | ActionEvent:
    """Validate a dict (as parsed from JSON/YAML) into an event, or raise EventError naming the field."""
    if isinstance(data, _EventBase):
        return data  # type: ignore[return-value]
    if not isinstance(data, Mapping):
        raise EventError([FieldProblem("", "an object with a 'kind' field", _short(data))], index=index)
    try:
        return _EVENT_ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise EventError([_problem(e) for e in exc.errors()], index=index) from None


EventModel = Union[Post, Comment, AccountAudit, ActionEvent]

__all__ = [
    "Account", "AccountAudit", "Action", "ActionEvent", "Actor", "AuthorHistory", "Comment", "Context",
    "Event", "EventModel", "EVENT_TYPES", "Label", "Media", "Post", "parse_event",
]
