"""File helpers that never lose data: atomic writes, no silent overwrite, bounded reads."""

from __future__ import annotations

import os
from pathlib import Path

from pqsign.errors import InputError

__all__ = ["atomic_write", "read_bounded", "directory_lock"]


def atomic_write(path: Path, data: bytes, *, mode: int = 0o644, force: bool = False) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    The bytes go to a temporary file in the same directory, created with ``mode`` from the
    start (a private key is never readable by others, not even for a moment), fsync'ed, then
    renamed over the target. Without ``force`` an existing file is never replaced: the final
    step is a hard link, which fails if the name exists, so two writers cannot both win.

    Raises:
        InputError: the file exists and ``force`` is false, or the directory is not writable.
    """
    import tempfile

    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not force and path.exists():
        raise InputError(f"{path} already exists", hint="pass --force to overwrite it")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except FileNotFoundError:
        raise InputError(f"directory {directory} does not exist") from None
    except PermissionError:
        raise InputError(f"cannot write to directory {directory}: permission denied") from None
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if force:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise InputError(f"{path} already exists", hint="pass --force to overwrite it") from None
            tmp.unlink()
        _fsync_directory(directory)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _fsync_directory(directory: Path) -> None:
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def read_bounded(path: Path, limit: int, what: str) -> bytes:
    """Read a small file, refusing one larger than ``limit`` bytes before reading it.

    Raises:
        InputError: missing, unreadable, a directory, or larger than ``limit``.
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > limit:
                raise InputError(
                    f"{what} {path} is too large ({size} bytes; the limit is {limit})",
                    hint=f"is {path} really a {what}?",
                )
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise InputError(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"{what} {path} is a directory, not a file") from None
    except PermissionError:
        raise InputError(f"cannot read {what} {path}: permission denied") from None
    if len(data) > limit:  # grew while we read it, or not a regular file
        raise InputError(f"{what} {path} is too large (over {limit} bytes)")
    return data


class directory_lock:
    """An exclusive ``flock`` on a directory, serialising read-modify-write of files in it.

    Used for keyrings (several ``pqsign keyring add`` at once must all land). Atomic renames
    replace the file's inode, so the lock is taken on the directory, which stays put.
    """

    def __init__(self, path: Path) -> None:
        self._directory = Path(path).parent if str(Path(path).parent) else Path(".")
        self._fd = -1

    def __enter__(self) -> directory_lock:
        import fcntl

        self._fd = os.open(self._directory, os.O_RDONLY)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        import fcntl

        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
