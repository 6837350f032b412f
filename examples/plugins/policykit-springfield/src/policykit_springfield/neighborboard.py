"""`neighborboard`: a Nextdoor-like neighbourhood board, as a policykit platform adapter.

Payload shape (one webhook delivery):

    {"type": "post" | "reply",
     "post": {"id": "nb-1", "body": "…", "created": "2024-05-01T10:00:00Z",
              "author": {"id": "u7", "display_name": "Sam", "verified_agency": false},
              "links": ["https://…"]}}

A post by a verified agency account is the county's own post; a reply is a comment on it.
"""

from __future__ import annotations

from typing import Any, Mapping

from policykit.platforms import PlatformFacts, PlatformPayloadError


class NeighborboardAdapter:
    name = "neighborboard"
    facts = PlatformFacts(name="neighborboard", title="Neighborboard (example)", max_text_length=8000,
                          supports_edit=True, supports_hide_comments=True,
                          notes=("an example platform shipped by the policykit-springfield plugin",))

    def adapt(self, payload: Mapping[str, Any], *, city_accounts: frozenset[str] = frozenset(),
              **options: Any) -> list[dict]:
        if not isinstance(payload, Mapping):
            raise PlatformPayloadError(self.name, "", "an object", got=payload)
        kind = payload.get("type")
        if kind not in ("post", "reply"):
            raise PlatformPayloadError(self.name, "type", '"post" or "reply"', got=kind)
        post = payload.get("post")
        if not isinstance(post, Mapping):
            raise PlatformPayloadError(self.name, "post", "an object", got=post)
        body = post.get("body")
        if body is not None and not isinstance(body, str):
            raise PlatformPayloadError(self.name, "post.body", "a string", got=body)
        author = post.get("author") or {}
        event: dict[str, Any] = {
            "kind": "post" if kind == "post" else "comment",
            "platform": self.name,
            "id": post.get("id"),
            "at": post.get("created"),
            "text": body,
            "links": list(post.get("links") or []),
            "author": {"id": author.get("id"), "name": author.get("display_name"),
                       "role": "staff" if author.get("verified_agency") or author.get("id") in city_accounts
                       else "public"},
        }
        return [{k: v for k, v in event.items() if v is not None}]


adapter = NeighborboardAdapter()
