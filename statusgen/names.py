"""File names made from what people and systems call things: one rule for every page,
badge and cache file statusgen writes.

Ids, group names, incident files and connection names come from sources.yaml, a dbt project
or a person, and become file names on disks that fold case (a site is checked out and
served from macOS and Windows too) and in buckets. So an id is used as a file name only when
it is one everywhere, and free text becomes one through `slug`; `clashes` finds names that
would be the same file.
"""

from __future__ import annotations

import hashlib
import re
from typing import Sequence

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
MAX_LENGTH = 100  # well under every file system's 255 bytes, with room for ".html"
# Windows refuses these as file names whatever follows the dot.
RESERVED = {"con", "prn", "aux", "nul", *(f"com{n}" for n in range(10)), *(f"lpt{n}" for n in range(10))}
_ID = re.compile(ID_PATTERN)


def id_problem(value: str) -> str | None:
    """Why `value` cannot be an id that names files, or None when it can."""
    if not _ID.fullmatch(value):  # match() would let a trailing newline through
        return "letters, digits, '_', '.' and '-' only, starting with a letter or digit"
    if len(value) > MAX_LENGTH:
        return f"at most {MAX_LENGTH} characters (it names files), found {len(value)}"
    if value.split(".", 1)[0].lower() in RESERVED:
        return f"{value.split('.', 1)[0]!r} cannot be a file name on Windows"
    if value.endswith("."):
        return "cannot end with '.' (Windows drops it from file names)"
    return None


def slug(text: str) -> str:
    """A file name for free text: lower-case letters and digits joined by '-'. Text with none
    of those (財務, say) gets one from a digest of itself, so distinct names stay distinct."""
    found = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:MAX_LENGTH].strip("-")
    if not found or found.split("-", 1)[0] in RESERVED:
        found = (found + "-" if found else "") + hashlib.sha256(text.encode()).hexdigest()[:10]
    return found


def clashes(names: Sequence[tuple[str, str] | None]) -> list[tuple[int, str, str, str]]:
    """(position, first, second, file name) for each entry of `names`, a (what it is called,
    the file name it gets) pair or None, whose file is already another's, ignoring case."""
    seen: dict[str, str] = {}
    found = []
    for position, entry in enumerate(names):
        if entry is None:
            continue
        called, file_name = entry
        if file_name.lower() in seen:
            found.append((position, seen[file_name.lower()], called, file_name))
        else:
            seen[file_name.lower()] = called
    return found
