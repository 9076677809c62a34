"""Boundary checks shared by theory, synthetic and the CLI: one clear ValueError naming the argument."""
import numpy as np


def strict_number(name, value):
    """`value` as an ndarray of real numbers (ints or floats), unconverted. Strings, bools, complex numbers, None
    and ragged lists are refused with a ValueError naming `name`: coercing them would hide a caller's mistake."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number or an array of them, got {_short(value)}") from None
    if arr.dtype.kind not in "iuf":
        what = {"b": "a bool", "c": "complex", "U": "a string", "S": "bytes", "O": "not a number"}.get(
            arr.dtype.kind, f"of dtype {arr.dtype}")
        raise ValueError(f"{name} must be a real number or an array of them, got {_short(value)} ({what})")
    return arr


def _short(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def as_finite(name, value, *, minimum=None, strict=False):
    """Return `value` as a float ndarray, raising ValueError naming `name` if it is not a real number (strings,
    bools and complex numbers are refused, see strict_number), not finite, or too small.

    `minimum` with `strict=False` requires value >= minimum; with `strict=True`, value > minimum.
    """
    arr = strict_number(name, value).astype(float)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if minimum is not None:
        bad = arr <= minimum if strict else arr < minimum
        if np.any(bad):
            relation = ">" if strict else ">="
            raise ValueError(f"{name} must be {relation} {minimum}, got {value!r}")
    return arr


def nonnegative(name, value):
    return as_finite(name, value, minimum=0.0)


def positive(name, value):
    return as_finite(name, value, minimum=0.0, strict=True)


def count(name, value, minimum=1, maximum=None):
    """An integer budget or size in [minimum, maximum] (an integral float such as 1e6 is accepted)."""
    arr = strict_number(name, value)
    if arr.ndim or not np.isfinite(arr) or arr != np.floor(arr) or arr < minimum or (
            maximum is not None and arr > maximum):
        bounds = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise ValueError(f"{name} must be an integer {bounds}, got {_short(value)}")
    return int(value)


def choice(name, value, options):
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")
    return value


def keywords(owner, names, given):
    """Every name in `names` given, and nothing else: ValueError naming the first stray or missing one."""
    unknown = set(given) - set(names)
    if unknown:
        raise ValueError(f"{sorted(unknown)[0]} is not a parameter of {owner} (it takes {', '.join(names)})")
    missing = [p for p in names if p not in given]
    if missing:
        raise ValueError(f"{missing[0]} is required by {owner}")
