"""Small C programs shipped as source and compiled here, on first use, into a cache.

The C baseline (:mod:`kernels.c.baseline`) and the simulated hosts' delay line
(:mod:`kernels.core.delayline`) are both built this way, with the machine's C compiler
(:func:`kernels.core.machine.c_compiler`). A build is kept in :func:`cache_root`, in a
folder named by a hash of everything that decides the executable (the sources, the
flags, the compiler and its version, the processor: ``-march=native`` code is for this
one), so a later process, or a notebook's next kernel, reuses it instead of compiling
again. A temporary folder removed at exit would not do: a Jupyter kernel whose
children outlive its shutdown request is terminated, without running its exit handlers
(multiprocessing's resource tracker ignores the kernel's SIGTERMs), and every chapter
that compiled C left a folder in ``/tmp``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import platform
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from .errors import CommandTimeoutError
from .machine import c_compiler, cpu_model, cpuinfo
from .subprocesses import run_command

#: Environment variable naming the folder for compiled programs (instead of the default).
CACHE_VARIABLE = "KERNELS_CACHE"


def cache_root() -> Path:
    """Where compiled programs are kept: ``$KERNELS_CACHE``, else ``$XDG_CACHE_HOME`` (or
    ``~/.cache``) ``/kernels-book``."""
    if os.environ.get(CACHE_VARIABLE):
        return Path(os.environ[CACHE_VARIABLE])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "kernels-book"


Choice = TypeVar("Choice")


def kept_choice(record: Path, known: Mapping[str, Choice], choose: Callable[[], Choice]) -> Choice:
    """The choice ``record`` names, if it names one of ``known``; else ``choose()``, kept there.

    For what is timed once per machine (the C kernel's layout):
    ``known`` maps each possible choice's name in the file to the choice. The file is
    written whole, even when two processes choose at once; where it cannot be read or
    written, the choice is made again in the next process.
    """
    with contextlib.suppress(OSError):
        text = record.read_text()
        if text in known:
            return known[text]
    chosen = choose()
    with contextlib.suppress(OSError):
        record.parent.mkdir(parents=True, exist_ok=True)
        partial = record.with_name(f"{record.name}.{os.getpid()}")
        partial.write_text(next(name for name, choice in known.items() if choice == chosen))
        partial.replace(record)
    return chosen


@functools.cache
def _compiler_version(cc: str) -> str:
    with contextlib.suppress(OSError, CommandTimeoutError):
        return run_command([cc, "--version"], 30).stdout
    return ""


def build_key(cc: str, files: Mapping[str, str], flags: Sequence[str]) -> str:
    """A hash of what decides the executable: sources, flags, compiler, processor."""
    digest = hashlib.sha256()
    parts = [
        cc,
        _compiler_version(cc),
        *flags,
        platform.machine(),
        cpu_model(),
        cpuinfo().get("flags", ""),
    ]
    for name in sorted(files):
        parts += [name, files[name]]
    for part in parts:
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:16]


def build_c_program(
    name: str, files: Mapping[str, str], flags: Sequence[str], error: type[Exception],
    needed_for: str, failed: str,
) -> Path:  # fmt: skip
    """The executable compiled from ``files``: from the cache, or compiled into it now.

    Parameters
    ----------
    name : str
        The program: ``name.c`` is compiled to the executable ``name``.
    files : mapping
        The sources to write, the ``.c`` file and any header it includes.
    flags : sequence of str
        The compiler's flags.
    error : type
        The exception raised when the program cannot be built.
    needed_for, failed : str
        Words for the errors: what needs the compiler ("to measure the C baseline"), and
        what a failed compilation probably means ("no OpenMP?").

    Returns
    -------
    pathlib.Path
        The executable, in its own folder of :func:`cache_root`. The folder appears
        whole or not at all (built beside it and renamed), so processes building the
        same program at once each get a complete one.
    """
    cc = c_compiler()
    if cc is None:
        raise error(f"no C compiler found: install gcc (or set CC) {needed_for}")
    folder = cache_root() / "c" / f"{name}-{build_key(cc, files, flags)}"
    if (folder / name).is_file():
        return folder / name
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=folder.parent))
    except OSError as exc:
        raise error(
            f"cannot write the compiled {name} to {folder.parent} ({exc}): set "
            f"{CACHE_VARIABLE} to a folder you can write {needed_for}"
        ) from None
    try:
        for file_name, text in files.items():
            (work / file_name).write_text(text)
        try:
            done = run_command([cc, *flags, str(work / f"{name}.c"), "-o", str(work / name)], 120)
        except (OSError, CommandTimeoutError) as exc:
            raise error(f"cannot run the C compiler {cc!r}: {exc}") from None
        if done.returncode != 0:
            raise error(f"{cc} {' '.join(flags)} failed ({failed}):\n{done.stderr.strip()}")
        with contextlib.suppress(OSError):  # another process put the same build there first
            work.rename(folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if not (folder / name).is_file():
        raise error(f"the compiled {name} did not reach {folder}")
    return folder / name
