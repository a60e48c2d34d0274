"""The reader core: TOML files, ``--set`` overrides with their origin, and the typed :class:`Table`.

This is the suite's only TOML reader. Every problem raises :class:`SpecError`, whose one-line
message names the file (or the ``--set`` option), the dotted field and the reason.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["MISSING", "Origin", "SpecError", "Table", "apply_override", "check_float", "parse_override", "read_toml"]

#: default of a getter whose field is required.
MISSING: Any = object()


class SpecError(ValueError):
    """A job or model file, or a ``--set`` override, is invalid.

    Parameters
    ----------
    where : str
        The file (or ``--set KEY``) that holds the problem.
    field : str
        Dotted name of the offending field ("" for the whole file).
    reason : str
        What is wrong, in plain words.
    """

    def __init__(self, where: str, field: str, reason: str) -> None:
        self.where = where
        self.field = field
        self.reason = reason
        loc = f"{where}: {field}" if field else where
        super().__init__(f"{loc}: {reason}")


# --------------------------------------------------------------------------------------------
# Raw TOML and overrides
# --------------------------------------------------------------------------------------------


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file, turning every I/O or syntax problem into a :class:`SpecError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(str(path), "", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(str(path), "", f"cannot read file ({exc.__class__.__name__})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(str(path), "", f"malformed TOML: {exc}") from None


def parse_override(item: str) -> tuple[list[str], Any]:
    """Split ``KEY=VALUE`` into its dotted key and a TOML-parsed value.

    The value is parsed as a TOML value (``[0, 0, 0.5]``, ``4``, ``"fourier"``, ``true``); a bare
    word that is not valid TOML (``fourier``) is taken as a string.
    """
    key, sep, value = item.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise SpecError(f"--set {item}", "", "expected KEY=VALUE with a dotted KEY")
    value = value.strip()
    try:
        parsed = tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        if not value or any(c in value for c in "[]{}=\"'"):
            raise SpecError(f"--set {item}", key, f"cannot parse value {value!r}") from None
        parsed = value
    return key.split("."), parsed


def apply_override(raw: dict[str, Any], keys: list[str], value: Any, item: str) -> None:
    """Set the dotted ``keys`` of ``raw`` to ``value`` (the ``--set`` option ``item``), creating tables."""
    node = raw
    for k in keys[:-1]:
        nxt = node.setdefault(k, {})
        if not isinstance(nxt, dict):
            raise SpecError(f"--set {item}", ".".join(keys), f"{k!r} is not a table")
        node = nxt
    node[keys[-1]] = value


# --------------------------------------------------------------------------------------------
# A table under validation
# --------------------------------------------------------------------------------------------


@dataclass
class Origin:
    """Tells which file (or ``--set`` option) a dotted field came from."""

    job_file: str
    model_file: str | None = None
    overrides: dict[str, str] = field(default_factory=dict)

    def __call__(self, path: str) -> str:
        for key, item in self.overrides.items():
            if path == key or path.startswith(key + ".") or key.startswith(path + "."):
                return f"--set {item}"
        if path.startswith("model.") and self.model_file is not None:
            return self.model_file
        return self.job_file


class Table:
    """A TOML table being validated.

    Typed getters check a value and raise :class:`SpecError` naming the origin and the dotted
    field. :meth:`finish` refuses keys that nobody read (typos).

    Parameters
    ----------
    data : dict
        The raw table.
    origin : callable
        Maps a dotted field to the file or option it came from.
    prefix : str
        Dotted prefix of this table ("" at top level).
    """

    def __init__(self, data: dict[str, Any], origin: Callable[[str], str], prefix: str = "") -> None:
        if not isinstance(data, dict):
            raise SpecError(origin(prefix), prefix, "expected a table")
        self.data = data
        self.origin = origin
        self.prefix = prefix
        self._used: set[str] = set()

    def path(self, key: str) -> str:
        """Dotted name of ``key`` in this table."""
        return f"{self.prefix}.{key}" if self.prefix else key

    def error(self, key: str, reason: str) -> SpecError:
        """A :class:`SpecError` for ``key`` of this table."""
        p = self.path(key)
        return SpecError(self.origin(p), p, reason)

    def has(self, key: str) -> bool:
        """Whether ``key`` is present."""
        return key in self.data

    def raw(self, key: str, default: Any = MISSING) -> Any:
        """The raw value of ``key`` (marks it read)."""
        self._used.add(key)
        if key not in self.data:
            if default is MISSING:
                raise self.error(key, "required field is missing")
            return default
        return self.data[key]

    def float(
        self,
        key: str,
        default: Any = MISSING,
        *,
        positive: bool = False,
        nonneg: bool = False,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> float:
        """A finite real number, optionally range-checked."""
        v = self.raw(key, default)
        if v is None:
            return v
        return check_float(v, lambda r: self.error(key, r), positive, nonneg, minimum, maximum)

    def int(self, key: str, default: Any = MISSING, *, minimum: int | None = None) -> int:
        """An integer (a float such as 4.0 is refused), optionally bounded below."""
        v = self.raw(key, default)
        if v is None:
            return v
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.error(key, f"expected an integer, got {v!r}")
        if minimum is not None and v < minimum:
            raise self.error(key, f"must be >= {minimum}, got {v}")
        return v

    def bool(self, key: str, default: Any = MISSING) -> bool:
        """A boolean."""
        v = self.raw(key, default)
        if not isinstance(v, bool):
            raise self.error(key, f"expected true or false, got {v!r}")
        return v

    def str(self, key: str, default: Any = MISSING, *, choices: Sequence[str] | None = None) -> str:
        """A string, optionally one of ``choices``."""
        v = self.raw(key, default)
        if v is None:
            return v
        if not isinstance(v, str):
            raise self.error(key, f"expected a string, got {v!r}")
        if choices is not None and v not in choices:
            raise self.error(key, f"unknown value {v!r}; choose one of {', '.join(choices)}")
        return v

    def floats(
        self,
        key: str,
        default: Any = MISSING,
        *,
        min_length: int = 0,
        length: int | None = None,
        positive: bool = False,
        nonneg: bool = False,
    ) -> tuple[float, ...]:
        """A list of finite real numbers."""
        v = self.raw(key, default)
        if v is None:
            return v
        if not isinstance(v, list):
            raise self.error(key, f"expected a list of numbers, got {v!r}")
        if length is not None and len(v) != length:
            raise self.error(key, f"expected {length} numbers, got {len(v)}")
        if len(v) < min_length:
            raise self.error(key, f"expected at least {min_length} numbers, got {len(v)}")
        return tuple(
            check_float(x, lambda r, i=i: self.error(f"{key}[{i}]", r), positive, nonneg, None, None)
            for i, x in enumerate(v)
        )

    def strs(self, key: str, default: Any = MISSING, *, choices: Sequence[str] | None = None) -> tuple[str, ...]:
        """A list of strings, each optionally one of ``choices``."""
        v = self.raw(key, default)
        if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
            raise self.error(key, f"expected a list of strings, got {v!r}")
        if choices is not None:
            for s in v:
                if s not in choices:
                    raise self.error(key, f"unknown name {s!r}; choose from {', '.join(choices)}")
        return tuple(v)

    def table(self, key: str) -> Table:
        """A sub-table (empty if absent)."""
        return Table(self.raw(key, {}), self.origin, self.path(key))

    def finish(self) -> None:
        """Refuse any key that no getter read."""
        unknown = sorted(set(self.data) - self._used)
        if unknown:
            raise self.error(unknown[0], "unknown field (check the spelling)")


def check_float(
    v: Any,
    err: Callable[[str], SpecError],
    positive: bool,
    nonneg: bool,
    minimum: float | None,
    maximum: float | None,
) -> float:
    """``v`` as a finite float within the bounds, else the :class:`SpecError` that ``err(reason)`` makes."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise err(f"expected a number, got {v!r}")
    v = float(v)
    if not math.isfinite(v):
        raise err(f"must be finite, got {v}")
    if positive and v <= 0:
        raise err(f"must be > 0, got {v}")
    if nonneg and v < 0:
        raise err(f"must be >= 0, got {v}")
    if minimum is not None and v < minimum:
        raise err(f"must be >= {minimum}, got {v}")
    if maximum is not None and v > maximum:
        raise err(f"must be <= {maximum}, got {v}")
    return v

