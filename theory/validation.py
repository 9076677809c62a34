"""Boundary checks shared by theory, synthetic and the CLI: one clear ValueError naming the argument."""
import numpy as np


def as_finite(name, value, *, minimum=None, strict=False):
    """Return `value` as a float ndarray, raising ValueError naming `name` if it is not finite or too small.

    `minimum` with `strict=False` requires value >= minimum; with `strict=True`, value > minimum.
    """
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
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


def count(name, value, minimum=1):
    """An integer budget or size >= minimum."""
    if isinstance(value, bool) or not float(value).is_integer() or int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
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
