"""Strict JSON: files that ``jq``, JavaScript and every JSON library read.

JSON has no token for a number that is not finite; Python's ``json`` writes the bare tokens
``NaN`` and ``Infinity`` unless told not to, and most readers reject them. :func:`dumps` writes
each non-finite number as ``null`` and records, in the object that holds it, under
``"non_finite"``, what it was, so a reader can tell a missing number from a diverged one::

    {"mcse": NaN, "value": 1.0}   ->   {"mcse": null, "value": 1.0, "non_finite": {"mcse": "NaN"}}
    {"c": [1.0, Infinity, NaN]}   ->   {"c": [1.0, null, null], "non_finite": {"c": "2 of 3 numbers: Infinity, NaN"}}

The output is written with ``allow_nan=False``, so nothing non-finite can slip through.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

__all__ = ["NOTE_KEY", "finite", "dumps", "loads"]

#: the key, in an object, that says which of its numbers were not finite (and what they were)
NOTE_KEY = "non_finite"
_PLAIN = (bool, str, int, type(None))


def _kind(x: float) -> str:
    return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")


def _walk(obj: Any, default: Callable[[Any], Any]) -> tuple[Any, int, int, set[str]]:
    """``(clean, replaced, numbers, kinds)``: ``obj`` with non-finite floats as None, how many
    were replaced among how many floats, and their kinds; objects keep their own notes."""
    if isinstance(obj, float):
        return (float(obj), 0, 1, set()) if math.isfinite(obj) else (None, 1, 1, {_kind(obj)})
    if isinstance(obj, _PLAIN):
        return obj, 0, 0, set()
    if isinstance(obj, dict):
        clean, notes = {}, {}
        for key, value in obj.items():
            clean[key], bad, total, kinds = _walk(value, default)
            if bad:
                listed = ", ".join(sorted(kinds))
                notes[key] = listed if clean[key] is None else f"{bad} of {total} numbers: {listed}"
        if notes:
            clean[NOTE_KEY] = {**clean.get(NOTE_KEY, {}), **notes}
        return clean, 0, 0, set()
    if isinstance(obj, list | tuple):
        parts = [_walk(item, default) for item in obj]
        kinds = set().union(*(p[3] for p in parts)) if parts else set()
        return [p[0] for p in parts], sum(p[1] for p in parts), sum(p[2] for p in parts), kinds
    return _walk(default(obj), default)


def _refuse(obj: Any) -> Any:
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def finite(obj: Any, default: Callable[[Any], Any] = _refuse) -> Any:
    """``obj`` as plain JSON data with every non-finite float replaced by None and noted.

    Parameters
    ----------
    obj : Any
        Dicts, lists, tuples, str, int, float, bool, None; anything else goes through ``default``.
    default : callable, optional
        Turns another object (an array, a NumPy scalar, a dataclass) into the above.

    Returns
    -------
    Any
        The same structure; each dict that held a non-finite number (directly, or in a list
        under one of its keys) gains ``"non_finite": {key: what it was}``.
    """
    return _walk(obj, default)[0]


def dumps(obj: Any, default: Callable[[Any], Any] = _refuse, indent: int | None = 2) -> str:
    """Strict JSON text of ``obj`` (:func:`finite`, then ``json.dumps(..., allow_nan=False)``)."""
    return json.dumps(finite(obj, default), indent=indent, allow_nan=False)


def _no_constant(token: str) -> Any:
    raise ValueError(f"not strict JSON: bare {token}")


def loads(text: str) -> Any:
    """Parse JSON as a strict reader does: ``NaN``, ``Infinity`` and ``-Infinity`` are errors."""
    return json.loads(text, parse_constant=_no_constant)
