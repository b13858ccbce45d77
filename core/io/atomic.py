"""Atomic file writes: a result is either completely on disk or not there at all.

:func:`atomic_path` hands out a temporary path in the destination folder (same file system, so
the final rename is atomic), keeps the extension (encoders that pick the format from the name
still work), and on success flushes the data to disk and moves it into place. On any error the
temporary file is removed and nothing at the destination changes.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import InputError

__all__ = ["atomic_path", "temp_name", "check_output_path", "remove_stale_temps",
           "STALE_TEMP_SECONDS"]

#: A temp file of ours without a live writer is removed by the next write to its folder;
#: one whose writer cannot be told (older name pattern) once it is this old.
STALE_TEMP_SECONDS = 3600
_TEMP_RE = re.compile(r"^\..+\.tmp-(?:(\d+)-)?[0-9a-f]{8}(?:\.[^.]*)?$")


def temp_name(final: Path) -> Path:
    """A hidden sibling of ``final`` that keeps its extension and names its writer's process:
    ``.name.tmp-4242-1a2b3c4d.png``."""
    return final.with_name(f".{final.stem}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
                           f"{final.suffix}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def remove_stale_temps(folder: Path) -> list[Path]:
    """Remove temp files of ours (``.NAME.tmp-PID-XXXXXXXX.ext``) left in ``folder`` by a
    killed run: their process is gone (or, without a PID, they are older than
    :data:`STALE_TEMP_SECONDS`). Returns what was removed; never raises."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for e in entries:
        m = _TEMP_RE.match(e.name)
        if not m:
            continue
        try:
            if not e.is_file(follow_symlinks=False):
                continue
            pid = m.group(1)
            if pid is not None:
                if int(pid) == os.getpid() or _pid_alive(int(pid)):
                    continue
            elif now - e.stat(follow_symlinks=False).st_mtime < STALE_TEMP_SECONDS:
                continue
            os.unlink(e.path)
            removed.append(Path(e.path))
        except OSError:
            continue
    return removed


def _same(a: Path, b: Path) -> bool:
    try:
        sa, sb = os.stat(a), os.stat(b)
        if (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino):
            return True
    except OSError:
        pass
    try:
        return os.path.realpath(a) == os.path.realpath(b)
    except OSError:  # pragma: no cover
        return False


def check_output_path(path: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str]] = (),
                      *, overwrite: bool = False, flag: str = "--overwrite",
                      probe: bool = True) -> Path:
    """Refuse an output path before any work is done; the one check every writer uses.

    Refused, whatever ``overwrite`` says: a folder, a device, FIFO or socket, any path that is
    one of ``inputs`` (same device + inode, or same resolved path: hard links, symlinks and
    ``../`` spellings included), a missing or unwritable folder (``probe`` creates and removes
    a temp file there). Refused unless ``overwrite``: an existing file. Returns the path.
    """
    p = Path(path).expanduser()
    try:
        st = os.stat(p)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise InputError(f"cannot write {p}: {exc.strerror or exc}") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise InputError(f"cannot write {p}: it is a folder; give a file name (inside it)")
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"refusing to write {p}: it is not a regular file (a device, FIFO "
                             f"or socket)")
    for src in inputs:
        if src is not None and _same(Path(src), p):
            raise InputError(f"refusing to write {p}: it is the input file {src} (the same "
                             f"file); choose another output name")
    folder = p.parent
    if not folder.is_dir():
        raise InputError(f"cannot write {p}: the folder {folder} does not exist")
    if os.path.lexists(p) and not overwrite:
        raise InputError(f"{p} already exists; pass {flag} to replace it")
    if probe:
        try:
            tmp = _create_temp(p)
        except OSError as exc:
            raise InputError(f"cannot write {p}: {exc.strerror or exc}") from None
        _remove_quietly(tmp)
    return p


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
    # no Python keyword in a message a user reads: the caller decided not to replace it
    return InputError(f"{final} already exists; refusing to replace it")


def _check_target(final: Path) -> None:
    """Never replace a folder, device, FIFO or socket (``os.replace`` would swap the node)."""
    try:
        st = os.stat(final)
    except OSError:
        return
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"cannot write {final}: it is a folder")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"refusing to write {final}: it is not a regular file (a device, FIFO "
                         f"or socket)")


def _commit(tmp: Path, final: Path, overwrite: bool) -> None:
    _check_target(final)
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
    _check_target(final)
    remove_stale_temps(folder)
    try:
        tmp = _create_temp(final)
    except OSError as exc:
        raise InputError(f"cannot write {final}: {exc.strerror or exc}") from None
    try:
        yield tmp
        _fsync_file(tmp)
        _commit(tmp, final, overwrite)
    except BaseException:
        _remove_quietly(tmp)
        raise
    _fsync_dir(folder)
