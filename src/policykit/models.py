"""The event schema: what a post, comment, account audit or user action looks like.

Events are pydantic models with unknown fields rejected, so a typo in a caller's JSON is an error and
never a silently missing field. Scalar facts default to None, meaning "the event does not say", which
the evaluator treats as unknown rather than false; list fields default to empty (no links means no
links).
"""

from __future__ import annotations

import reprlib
from datetime import datetime, timezone
from typing import Annotated, Any, Literal, Mapping, Union

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from . import limits as _limits
from .errors import EventError, FieldProblem

Role = Literal["public", "staff", "coordinator", "administrator", "department_head", "vendor", "elected_official",
               "commissioner"]
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


def _one_or_many(value: Any, key: str) -> Any:
    """Accept one item or a list of them, a bare string standing for `{key: string}`: labels are names or
    {name, score, source}, links are URLs or {url, labels}. Anything else is left for pydantic to
    reject as an EventError naming the field."""
    if value is None:
        return []
    if isinstance(value, (str, Mapping)):
        value = [value]
    if not isinstance(value, list):
        return value
    return [{key: v} if isinstance(v, str) else v for v in value]


def _labels(value: Any) -> Any:
    return _one_or_many(value, "name")


class Context(_Model):
    # A declared disaster is declared: an event that does not say one is in effect is not in one.
    emergency: bool = Field(default=False, description="a declared natural or man-made disaster is in effect; "
                                                       "false unless the event says so")


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
    # The office the person holds, in the policy's own words ("City administrator", "Social Media
    # Coordinator", "Department Manager"): clauses name offices, and a role alone cannot say which.
    office: str | None = Field(default=None, description="the office the person holds, in the policy's words "
                               "(\"City administrator\", \"Social Media Coordinator\", \"Department Manager\")")


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
    approved_by_office: str | None = Field(default=None, description="the office held by whoever approved the account")
    administrators: list[str] | None = None
    administrator_offices: list[str] | None = Field(default=None, description="the offices its administrators hold")
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


class Link(_Model):
    """A link in a post or comment. Given as a bare URL or as `{url, labels}` when an upstream classifier
    has judged what the link points to (a clause about "hyperlinks to obscene material" needs that)."""

    url: str
    labels: list[Label] = Field(default_factory=list)

    _normalise_labels = field_validator("labels", mode="before")(lambda cls, v: _labels(v))

    def __str__(self) -> str:
        return self.url


def _links(value: Any) -> Any:
    return _one_or_many(value, "url")


class Quote(_Model):
    """Someone's words a post quotes, and whether that person gave permission to be quoted."""

    who: str | None = None
    permission: bool | None = None


class AuthorHistory(_Model):
    removed_before: int | None = None


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
        """Naive times are taken as UTC so that comparisons with effective dates are defined; a time
        whose offset takes it past year 9999 or before year 1 in UTC (`9999-12-31T23:59:59-23:59`)
        cannot be compared with any other, so it is refused here rather than overflowing later."""
        if value is None:
            return value
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        try:
            value.astimezone(timezone.utc)
        except OverflowError:
            raise ValueError("a time between years 1 and 9999 once its UTC offset is applied") from None
        return value


class _Content(_EventBase):
    """What posts and comments share: text, links and media."""

    text: str | None = None
    links: list[Link] = Field(default_factory=list)
    media: list[Media] = Field(default_factory=list)
    author: Actor = Field(default=Actor())
    account: Account = Field(default=Account())

    _normalise_links = field_validator("links", mode="before")(lambda cls, v: _links(v))


class Post(_Content):
    kind: Literal["post"]
    original: bool = True
    scheduled_via: str | None = None
    approved: bool | None = Field(default=None, description="it had the prior approval the policy asks for")
    official_act: bool = Field(default=False, description="it announces an official act of the City (a council "
                               "resolution, an ordinance, a proclamation): the City's own position, not a "
                               "person's view; false unless the event says so, as the publisher knows its acts")
    quotes: list[Quote] = Field(default_factory=list, description="people whose words it quotes")


class Comment(_Content):
    kind: Literal["comment"]
    author_history: AuthorHistory = Field(default=AuthorHistory())


class AccountAudit(_EventBase):
    kind: Literal["account"]
    account: Account = Field(default=Account())


class Action(_Model):
    type: str
    via: str | None = None
    target: "Event | None" = None
    recipient: Actor | None = Field(default=None, description="to whom it goes: the person credentials or a "
                                    "password are sent to")
    text: str | None = Field(default=None, description="what it says: a reply's or an edit's words")


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


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlong = 2, 50, 50, 40


def _short(value: Any) -> str:
    """A bounded picture of a bad value: hostile input may be huge or nested thousands deep."""
    if isinstance(value, int) and value.bit_length() > 128:  # repr() refuses past 4,300 digits
        return f"an integer of about {int(value.bit_length() * 0.30103):,} digits"
    text = _REPR.repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _from_json(data: str | bytes | bytearray | memoryview, index: int | None) -> Any:
    """JSON text → the object it holds, every failure an EventError: orjson refuses integers beyond
    64 bits, lone surrogates and nesting past 1,024 levels by itself, without recursion."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise EventError([FieldProblem("", "a JSON object with a 'kind' field", _short(str(exc)))],
                         index=index) from None


def parse_event(data: Any, *, index: int | None = None) -> Post | Comment | AccountAudit | ActionEvent:
    """Validate a dict (as parsed from JSON/YAML), or JSON text (str or bytes) holding one, into an
    event; raise EventError naming the field otherwise.

    Before the schema is checked, the raw value is held to the limits of `policykit.limits` (text per
    field, items per list, values per event, nesting, integer size, finite numbers, no lone
    surrogates), so no event, however hostile, makes validation or evaluation slow or raise anything
    but EventError.
    """
    if isinstance(data, _EventBase):
        return data  # type: ignore[return-value]
    if isinstance(data, (str, bytes, bytearray, memoryview)):
        data = _from_json(data, index)
    if not isinstance(data, Mapping):
        raise EventError([FieldProblem("", "an object with a 'kind' field", _short(data))], index=index)
    problem = _limits.event_problem(data)
    if problem is not None:
        raise EventError([FieldProblem(*problem)], index=index)
    try:
        return _EVENT_ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise EventError([_problem(e) for e in exc.errors()], index=index) from None


EventModel = Union[Post, Comment, AccountAudit, ActionEvent]

__all__ = [
    "Account", "AccountAudit", "Action", "ActionEvent", "Actor", "AuthorHistory", "Comment", "Context",
    "Event", "EventModel", "EVENT_TYPES", "Label", "Link", "Media", "Post", "Quote", "parse_event",
]
