"""Shared helpers for the platform adapter tests: fixture loading and a contract-shape check."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import pytest

try:  # the package may not be installed (or have its __init__ yet) while the core is being written
    import policykit.platforms  # noqa: F401
except ImportError:  # pragma: no cover
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

FIXTURES = Path(__file__).parent / "fixtures"
PLATFORMS = ("facebook", "mastodon", "bluesky", "x")

# The public contract (/work/shared/design/contract.md): what may appear where.
COMMON = {"kind", "id", "platform", "at", "labels", "context", "extra"}
TOP_LEVEL = {
    "post": COMMON | {"text", "links", "media", "author", "account", "original", "scheduled_via"},
    "comment": COMMON | {"text", "links", "media", "author", "account", "author_history"},
    "account": COMMON | {"account"},
    "action": COMMON | {"action", "actor"},
}
ACTOR = {"id", "name", "role", "department", "authorized", "capabilities", "trained", "acknowledged_policy",
         "official_capacity", "on_city_time"}
ROLES = {"public", "staff", "coordinator", "administrator", "department_head", "vendor", "elected_official"}
ACCOUNT = {"id", "platform", "handle", "name", "bio", "website", "registration_email", "official", "registered",
           "approved_by", "administrators", "credential_holders", "password_strength",
           "profile_image_has_city_logo", "links_to_user_policy", "terms_displayed", "topic", "owner_type"}
MEDIA = {"type", "ownership", "identifiable_private_individuals", "minors", "release"}
MEDIA_TYPES = {"photo", "video", "graphic", "document", "audio"}
ACTION = {"type", "via", "target"}


def _check_actor(actor, where):
    assert isinstance(actor, dict), where
    assert set(actor) <= ACTOR, f"{where}: {set(actor) - ACTOR}"
    assert actor.get("role") in ROLES, where
    for key in ("id", "name"):
        assert key not in actor or isinstance(actor[key], str), where


def check_event(event, platform, where="event"):
    """Assert that `event` has the contract's shape (recursively for action targets)."""
    assert isinstance(event, dict), where
    kind = event.get("kind")
    assert kind in TOP_LEVEL, f"{where}: kind {kind!r}"
    assert set(event) <= TOP_LEVEL[kind], f"{where}: not in the contract: {set(event) - TOP_LEVEL[kind]}"
    assert event.get("platform") == platform, where
    if "id" in event:
        assert isinstance(event["id"], str) and event["id"], where
    if "at" in event:
        parsed = datetime.fromisoformat(event["at"])
        assert parsed.tzinfo is not None, where
    assert isinstance(event.get("extra", {}), dict), where
    if kind in ("post", "comment"):
        assert isinstance(event.get("text", ""), str), where
        for link in event.get("links", []):
            assert isinstance(link, str) and link.startswith(("http://", "https://", "at://")), f"{where}: {link}"
        for i, media in enumerate(event.get("media", [])):
            assert set(media) <= MEDIA, f"{where}.media[{i}]"
            assert media["type"] in MEDIA_TYPES, f"{where}.media[{i}]"
        if "author" in event:
            _check_actor(event["author"], f"{where}.author")
        if "account" in event:
            assert set(event["account"]) <= ACCOUNT, f"{where}.account"
            assert event["account"].get("platform") == platform, f"{where}.account"
        if "original" in event:
            assert kind == "post" and isinstance(event["original"], bool), where
        if "media" in event.get("extra", {}):
            assert len(event["extra"]["media"]) == len(event["media"]), f"{where}: extra.media parallels media"
    if kind == "action":
        action = event["action"]
        assert set(action) <= ACTION and isinstance(action["type"], str), where
        if "actor" in event:
            _check_actor(event["actor"], f"{where}.actor")
        if "target" in action:
            check_event(action["target"], platform, f"{where}.action.target")
    json.dumps(event)  # the wire format is JSON


def fixture_paths(platform):
    return sorted((FIXTURES / platform).glob("*.json"))


def load(platform, name):
    return json.loads((FIXTURES / platform / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def fixture():
    return load


@pytest.fixture
def contract():
    return check_event
