"""The directory queue SSM reads and writes (dirq's QueueSimple layout), so `ssmsend` ships what we write.

A queue is a directory of subdirectories named by 8 hexadecimal digits (the Unix time of their
creation, rounded down to a minute); each holds one file per message, named by 14 hexadecimal
digits (8 for the seconds, 5 for the microseconds, 1 more to tell writers apart), so names sort in
the order written. A file is written under its name plus `.tmp` and then linked to its final
name, so a reader never sees half a message; `.lck` files are messages a reader holds.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Iterator
from pathlib import Path

GRANULARITY = 60  # seconds per subdirectory, as dirq's default
_DIRECTORY = re.compile(r"^[0-9a-f]{8}$")
_ELEMENT = re.compile(r"^[0-9a-f]{14}$")


def element_names(rnd: int | None = None) -> Iterator[tuple[str, str]]:
    """(subdirectory, element name) for successive messages, each name later than the one before."""
    rnd = random.randrange(16) if rnd is None else rnd % 16
    last = ""
    while True:
        now = time.time()
        seconds = int(now)
        name = f"{seconds:08x}{int((now - seconds) * 1_000_000):05x}{rnd:01x}"
        if name <= last:  # the same microsecond: one later
            name = f"{int(last, 16) + 16:014x}"
        last = name
        start = int(name[:8], 16)
        yield f"{start - start % GRANULARITY:08x}", name


def queue_add(path: Path, data: str, names: Iterator[tuple[str, str]] | None = None) -> Path:
    """Add one message to the queue at `path` (created if missing); returns the element's path."""
    names = names or element_names()
    while True:
        subdirectory, name = next(names)
        directory = Path(path) / subdirectory
        directory.mkdir(parents=True, exist_ok=True)
        temporary = directory / f"{name}.tmp"
        with open(temporary, "w", encoding="utf-8") as fh:
            fh.write(data)
        final = directory / name
        try:
            os.link(temporary, final)
        except FileExistsError:
            os.unlink(temporary)
            continue  # another writer took the name: the next one
        os.unlink(temporary)
        return final


def queue_elements(path: Path) -> Iterator[Path]:
    """The queue's finished messages, oldest first (temporary and locked files are left out)."""
    root = Path(path)
    if not root.is_dir():
        return
    for directory in sorted(d for d in root.iterdir() if d.is_dir() and _DIRECTORY.match(d.name)):
        yield from sorted(e for e in directory.iterdir() if _ELEMENT.match(e.name))
