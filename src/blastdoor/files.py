"""Writing a file all at once: the one way Blastdoor replaces its own small files (config, pins,
profiles, manifests, markers)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path


def sha256_of(paths: Iterable[Path]) -> tuple[str, int]:
    """``sha256:…`` over the bytes of ``paths`` one after another, read in blocks, and how many
    bytes that was (``OSError`` is the caller's)."""
    hasher, size = hashlib.sha256(), 0
    for path in paths:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                hasher.update(block)
                size += len(block)
    return "sha256:" + hasher.hexdigest(), size


def write_atomic(path: Path, text: str | bytes, *, mode: int = 0o666, sync: bool = False) -> None:
    """Replace ``path``'s content with ``text`` (UTF-8 when it is a string): written to a
    temporary file beside it, then renamed over it, so a reader sees the old file or the new one, never half of one. ``mode`` is the new
    file's permissions (before the umask); ``sync`` makes it durable before the rename. A failure
    leaves the old file as it was and no temporary behind; the ``OSError`` is the caller's."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(text.encode("utf-8") if isinstance(text, str) else text)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
