"""Secrets given as a file or an environment variable (signing keys, bearer tokens)."""

from __future__ import annotations

from pathlib import Path

from engine.errors import BadInputError, IOFailureError

__all__ = ["read_secret"]


def read_secret(path: str | None, env_value: str | None, what: str) -> bytes | None:
    """The stripped bytes of the file at ``path`` if given, else ``env_value``, else None.
    ``what`` names the secret in errors ("key", "token")."""
    if path:
        try:
            secret = Path(path).read_bytes().strip()
        except OSError as exc:
            raise IOFailureError(f"cannot read {what} file {path!r}: {exc.strerror}") from None
        if not secret:
            raise BadInputError(f"{what} file {path!r} is empty")
        return secret
    return env_value.encode() if env_value else None
