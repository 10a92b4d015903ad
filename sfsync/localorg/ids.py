"""Salesforce record Ids: key prefixes, the case-safe checksum and generation."""

from __future__ import annotations

import itertools
import re
import threading

__all__ = ["KEY_PREFIXES", "IdFactory", "checksum", "normalize", "to18"]

KEY_PREFIXES: dict[str, str] = {
    "Account": "001",
    "Contact": "003",
    "User": "005",
    "Opportunity": "006",
    "Task": "00T",
    "Organization": "00D",
    "Profile": "00e",
    "BulkJob": "750",
    "QueryLocator": "01g",
}

_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_RE = re.compile(r"^[a-zA-Z0-9]{15}(?:[A-Z0-5]{3})?$")


def checksum(id15: str) -> str:
    """Return the three suffix characters that make a 15-char Id case-safe."""
    suffix = []
    for start in (0, 5, 10):
        bits = 0
        for offset, char in enumerate(id15[start : start + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << offset
        suffix.append(_CHECKSUM_ALPHABET[bits])
    return "".join(suffix)


def to18(value: str) -> str:
    """Turn a 15- or 18-char Id into its 18-char form (checksum recomputed)."""
    return value[:15] + checksum(value[:15])


def normalize(value: object) -> str | None:
    """Return the 18-char Id for a well-formed 15/18-char Id, else None.

    An 18-char Id whose suffix does not match its first 15 characters is
    rejected, because Salesforce treats it as malformed too.
    """
    if not isinstance(value, str) or not _ID_RE.match(value):
        return None
    full = to18(value)
    if len(value) == 18 and value[15:].upper() != full[15:]:
        return None
    return full


class IdFactory:
    """Hands out fresh, unique 18-char Ids per key prefix."""

    def __init__(self, *, pod: str = "8d") -> None:
        self._pod = pod
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def new(self, prefix: str) -> str:
        with self._lock:
            number = next(self._counter)
        digits = []
        for _ in range(10):
            number, rest = divmod(number, 62)
            digits.append(_BASE62[rest])
        body = prefix + self._pod + "".join(reversed(digits))
        return body + checksum(body)

    def skip_past(self, count: int) -> None:
        """Advance the counter so later Ids do not repeat loaded ones."""
        with self._lock:
            current = next(self._counter)
            self._counter = itertools.count(max(current, count + 1))
