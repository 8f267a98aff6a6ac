"""Snapshot plumbing shared by the commands: the signing key and load/save with flags."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from engine.settings.secrets import read_secret

if TYPE_CHECKING:
    from engine.maps.base import BaseMap

__all__ = ["add_key_flag", "load_map", "save_map", "signing_key"]

KEY_ENV = "ADHASH_SIGN_KEY"


def add_key_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--sign-key-file",
        help=f"sign and verify snapshots with the bytes of this file (or set {KEY_ENV})",
    )


def signing_key(args: argparse.Namespace) -> bytes | None:
    """The key from ``--sign-key-file``, else from ``ADHASH_SIGN_KEY``, else None."""
    return read_secret(getattr(args, "sign_key_file", None), os.environ.get(KEY_ENV), "key")


def load_map(path: str, args: argparse.Namespace, max_payload: int) -> BaseMap:
    from engine.store.snapshot import load_snapshot  # loads only for snapshot flags

    return load_snapshot(path, key=signing_key(args), max_payload=max_payload)


def save_map(m: BaseMap, path: str, args: argparse.Namespace) -> None:
    from engine.store.snapshot import save_snapshot

    save_snapshot(m, path, compress=bool(getattr(args, "compress", False)), key=signing_key(args))
