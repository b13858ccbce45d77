"""Atomic file writes: a result is either completely on disk or not there at all.

:func:`atomic_path` hands out a temporary path in the destination folder (same file system, so
the final rename is atomic), keeps the extension (encoders that pick the format from the name
still work), and on success flushes the data to disk and moves it into place. On any error the
temporary file is removed and nothing at the destination changes.
"""

from __future__ import annotations

import errno
import os
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import InputError

__all__ = ["atomic_path", "temp_name"]


def temp_name(final: Path) -> Path:
    """A hidden sibling of ``final`` that keeps its extension: ``.name.tmp-1a2b3c4d.png``."""
    return final.with_name(f".{final.stem}.tmp-{secrets.token_hex(4)}{final.suffix}")


def _create_temp(final: Path) -> Path:
    """Create (exclusively) an empty temp file next to ``final``; honours the umask."""
    for _ in range(100):
        tmp = temp_name(final)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise InputError(f"cannot create a temporary file next to {final}")  # pragma: no cover


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable (POSIX); silently skipped where folders cannot be opened."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError:  # pragma: no cover - nothing more we can do
        pass


def _exists_error(final: Path) -> InputError:
    return InputError(f"{final} already exists; pass overwrite=True to replace it")


def _commit(tmp: Path, final: Path, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, final)
        return
    # No-clobber: a hard link fails atomically if the destination exists (no check-then-act race).
    try:
        os.link(tmp, final)
    except FileExistsError:
        raise _exists_error(final) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV,
                             errno.EMLINK, errno.ENOSYS, errno.EACCES):
            raise
        # File system without hard links: fall back to check-then-replace.
        if os.path.lexists(final):
            raise _exists_error(final) from None
        os.replace(tmp, final)
        return
    _remove_quietly(tmp)


@contextmanager
def atomic_path(final_path: str | os.PathLike[str], *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path to write to; on success move it to ``final_path`` atomically.

    The temporary file exists (empty) when yielded; the caller overwrites it with the complete
    content. When the ``with`` block ends normally the data is fsynced and renamed onto
    ``final_path``; with ``overwrite=False`` an existing destination is never replaced
    (:class:`InputError`). If the block raises, the temporary file is removed and the exception
    propagates; the destination is untouched.
    """
    final = Path(final_path)
    folder = final.parent
    if not folder.is_dir():
        raise InputError(f"cannot write {final}: the folder {folder} does not exist")
    if final.is_dir():
        raise InputError(f"cannot write {final}: it is a folder")
    tmp = _create_temp(final)
    try:
        yield tmp
        _fsync_file(tmp)
        _commit(tmp, final, overwrite)
    except BaseException:
        _remove_quietly(tmp)
        raise
    _fsync_dir(folder)
