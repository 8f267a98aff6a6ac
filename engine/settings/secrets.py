"""Secrets given as a file or an environment variable (signing keys, bearer tokens)."""

from __future__ import annotations

from engine.errors import BadInputError, IOFailureError

__all__ = ["MAX_SECRET_BYTES", "read_secret"]

#: A key or token is a few dozen bytes; this refuses ``/dev/zero`` and misplaced files.
MAX_SECRET_BYTES = 64 * 1024


def read_secret(path: str | None, env_value: str | None, what: str) -> bytes | None:
    """The stripped bytes of the file at ``path`` if given, else ``env_value``, else None.
    ``what`` names the secret in errors ("key", "token"). At most :data:`MAX_SECRET_BYTES`
    are read: a longer file (or a device that never ends) is refused."""
    if path:
        try:
            with open(path, "rb") as handle:
                secret = handle.read(MAX_SECRET_BYTES + 1)
        except IsADirectoryError:
            raise IOFailureError(f"cannot read {what} file {path!r}: it is a folder") from None
        except OSError as exc:
            raise IOFailureError(f"cannot read {what} file {path!r}: {exc.strerror}") from None
        if len(secret) > MAX_SECRET_BYTES:
            raise BadInputError(
                f"{what} file {path!r} is longer than {MAX_SECRET_BYTES} bytes",
                f"a {what} is a short secret: check the path",
            )
        secret = secret.strip()
        if not secret:
            raise BadInputError(f"{what} file {path!r} is empty")
        return secret
    if env_value and len(env_value) > MAX_SECRET_BYTES:
        raise BadInputError(
            f"the {what} in the environment is longer than {MAX_SECRET_BYTES} bytes"
        )
    return env_value.encode() if env_value else None
