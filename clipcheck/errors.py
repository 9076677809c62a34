"""The errors of the command line that are not bugs."""


class UsageError(ValueError):
    """Bad input or usage, found before any work starts (exit status 2)."""
