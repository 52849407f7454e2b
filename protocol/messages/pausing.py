"""Pausing and resuming a resource at its site: `POST /resources/pause` and its per-item answer.

A change is identified by `change_id` (the site stores each id once, so a second delivery is
acknowledged and changes nothing) and ordered by `sequence`, which only grows for a resource: a
change older than the last one applied to its resource is superseded, never applied, so a late
redelivery of a pause cannot undo the resume that followed it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .base import MAX_BACKEND_ID, MAX_BATCH_ITEMS, Message, _Reader

MAX_REASON = 500
PAUSE_FEATURE = "resources.pause"  # the manifest feature of a site that can pause
PAUSE_ANSWERS = ("accepted", "duplicate")


@dataclasses.dataclass(frozen=True)
class PauseChange(Message):
    change_id: str
    resource_uuid: str
    backend_id: str
    sequence: int
    paused: bool
    reason: str = ""

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> PauseChange:
        r = _Reader(data, path)
        return cls(
            change_id=r.str("change_id", max_length=64),
            resource_uuid=r.uuid("resource_uuid"),
            backend_id=r.str("backend_id", empty=True, default="", max_length=MAX_BACKEND_ID),
            sequence=r.int("sequence", minimum=1),
            paused=r.bool("paused"),
            reason=r.str("reason", empty=True, default="", max_length=MAX_REASON),
        )


@dataclasses.dataclass(frozen=True)
class PauseChanges(Message):
    changes: tuple[PauseChange, ...]

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> PauseChanges:
        r = _Reader(data, path)
        return cls(changes=r.list("changes", PauseChange.from_dict, max_items=MAX_BATCH_ITEMS))


@dataclasses.dataclass(frozen=True)
class PauseAck(Message):
    """The site's answer for one change: stored now (`accepted`) or already stored (`duplicate`)."""

    change_id: str
    status: str

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> PauseAck:
        r = _Reader(data, path)
        return cls(change_id=r.str("change_id", max_length=64), status=r.choice("status", PAUSE_ANSWERS))


@dataclasses.dataclass(frozen=True)
class PauseAcks(Message):
    items: tuple[PauseAck, ...]

    @classmethod
    def from_dict(cls, data: Any, path: str = "") -> PauseAcks:
        return cls(items=_Reader(data, path).list("items", PauseAck.from_dict, max_items=MAX_BATCH_ITEMS))
