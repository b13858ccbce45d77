"""The one top-level handler of the command line: every failure is one clean line.

:func:`run_cli` wraps everything the CLI does, its imports included:

* user errors (:class:`core.errors.SRWError`) and argument errors: ``error: ...``, exit 2;
  argparse errors are one line that points at ``-h`` (:class:`OneLineParser`);
* Ctrl-C (SIGINT): ``interrupted``, exit 130; SIGTERM: ``terminated``, exit 143; both unwind
  the stack, so :func:`core.io.atomic.atomic_path` removes its temp file and nothing partial
  is left; no traceback;
* ``OSError`` (a full disk, a permission, a vanished folder), ``MemoryError`` and anything
  unexpected: one ``error:`` line, exit 2 (``SRW_DEBUG=1`` re-raises, for developers);
* library warnings (numpy, torch, PIL) are silenced: their advice is ours to give, in the one
  line of the error that follows.

Stdlib only at import time, so it is safe to import first.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import warnings
from typing import Any, Callable, NoReturn, Sequence

__all__ = ["OneLineParser", "Terminated", "run_cli", "one_line"]


class Terminated(BaseException):
    """Raised in the main thread by SIGTERM, so ``finally`` blocks and temp-file cleanup run."""


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr (exit 2), pointing at -h."""

    def error(self, message: str) -> NoReturn:
        # "argument --seed: must be ..." (a cli.options type= check) reads "--seed must be ..."
        if message.startswith("argument ") and ": must be " in message:
            message = message[len("argument "):].replace(": must be ", " must be ", 1)
        print(f"error: {one_line(message)} (see '{self.prog} -h')", file=sys.stderr)
        sys.exit(2)


def one_line(text: object, limit: int = 400) -> str:
    """``text`` on one line of at most ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _in_import(frame: Any) -> bool:
    """True while the main thread is inside an import (an importlib frame on the stack)."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def _exit_now(word: str, code: int) -> None:
    sys.stderr.write(f"{word}\n")
    sys.stderr.flush()
    os._exit(code)


def _on_sigint(signum: int, frame: Any) -> None:
    # An exception raised while a C++ extension (torch, open3d: pybind11) initialises aborts
    # the process ("terminate called ... KeyboardInterrupt", exit -6, seen in CI): during an
    # import nothing of ours needs cleaning up, so leave at once; otherwise unwind.
    if _in_import(frame):
        _exit_now("interrupted", 130)
    raise KeyboardInterrupt


def _on_sigterm(signum: int, frame: Any) -> None:
    if _in_import(frame):
        _exit_now("terminated", 143)
    raise Terminated()


def _install_signals() -> tuple[object, object] | None:
    """Make SIGTERM unwind like Ctrl-C does, and Ctrl-C raise KeyboardInterrupt (unless it is
    ignored; during an import both exit at once); returns the previous handlers (None off the
    main thread)."""
    try:
        old_int = signal.getsignal(signal.SIGINT)
        if old_int is not signal.SIG_IGN:
            signal.signal(signal.SIGINT, _on_sigint)
        return old_int, signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError, AttributeError):  # not the main thread / no SIGTERM
        return None


def _restore_signals(previous: tuple[object, object] | None) -> None:
    if previous is None:
        return
    try:
        signal.signal(signal.SIGINT, previous[0])  # type: ignore[arg-type]
        signal.signal(signal.SIGTERM, previous[1])  # type: ignore[arg-type]
    except (ValueError, OSError, TypeError):
        pass


def _describe(exc: BaseException) -> tuple[str, int]:
    """The one line and exit code for an exception that reached the top."""
    # lazy: core.errors is tiny, but the handler must work even if importing core failed
    try:
        from core.errors import Cancelled, SRWError
    except Exception:  # noqa: BLE001 - a broken install still gets one line
        Cancelled = SRWError = ()  # type: ignore[assignment,misc]
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", 130
    if isinstance(exc, Terminated):
        return "terminated", 143
    if Cancelled and isinstance(exc, Cancelled):
        return "cancelled", 130
    if SRWError and isinstance(exc, SRWError):
        return f"error: {one_line(exc)}", 2
    if isinstance(exc, MemoryError):
        return ("error: out of memory; try a smaller scale, a tile size (--tile) or a crop", 2)
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        return f"error: {where}{one_line(exc.strerror or exc)}", 2
    if isinstance(exc, ImportError):
        return (f"error: a required package is missing or broken ({one_line(exc)}); "
                f"reinstall the requirements", 2)
    return f"error: unexpected {type(exc).__name__}: {one_line(exc) or 'no details'}", 2


def take_global_options(args: list[str]) -> list[str]:
    """Remove the global ``--max-pixels N`` (anywhere on the line: the image budget checked
    from file headers before decoding; default 100 megapixels) and apply it; returns the
    remaining arguments. A bad value is an argument error (one line, exit 2)."""
    out: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            out.extend(args[i:])
            break
        if a == "--max-pixels" or a.startswith("--max-pixels="):
            if "=" in a:
                text = a.split("=", 1)[1]
            elif i + 1 < len(args):
                text = args[i + 1]
                i += 1
            else:
                text = ""
            try:
                value = int(float(text.lower().replace("m", "e6")))
            except (ValueError, OverflowError):
                value = 0
            if value < 1:
                print(f"error: --max-pixels needs a positive number of pixels (e.g. 200000000 "
                      f"or 200M), got {text!r}", file=sys.stderr)
                raise SystemExit(2)
            # lazy: core.io pulls OpenCV; only paid when the option is given
            from core.io import set_max_pixels

            set_max_pixels(value)  # SRW_MAX_PIXELS: read by core.io at each load
        else:
            out.append(a)
        i += 1
    return out


def run_cli(argv: Sequence[str] | None, entry: Callable[[list[str]], int]) -> int:
    """Run ``entry(argv)`` (main.py: imports and runs :func:`cli.app.main`) behind the
    top-level handler; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    previous = _install_signals()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            args = take_global_options(args)
            return int(entry(args) or 0)  # entry's imports run inside the handler too
    except SystemExit as exc:  # argparse (-h, errors) and explicit exits
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 2)
    except BaseException as exc:  # noqa: BLE001 - this is the top level
        if os.environ.get("SRW_DEBUG") and not isinstance(exc, (KeyboardInterrupt, Terminated)):
            raise
        line, code = _describe(exc)
        try:
            sys.stdout.flush()
        except Exception:  # noqa: BLE001 - a closed pipe
            pass
        print(line, file=sys.stderr)
        return code
    finally:
        _restore_signals(previous)
