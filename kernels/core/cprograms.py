"""Small C programs shipped as source and compiled here, on first use, in a temporary folder.

The C baseline (:mod:`kernels.c.baseline`) and the simulated hosts' delay line
(:mod:`kernels.core.delayline`) are both built this way: with the machine's C compiler
(:func:`kernels.core.machine.c_compiler`), into a folder removed when the process exits.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from .errors import CommandTimeoutError
from .machine import c_compiler
from .subprocesses import run_command


def build_c_program(
    name: str, files: Mapping[str, str], flags: Sequence[str], error: type[Exception],
    needed_for: str, failed: str,
) -> Path:  # fmt: skip
    """Write ``files`` (file name to text) to a new folder and compile ``name + ".c"``.

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
        The executable, in a folder removed when this process exits.
    """
    cc = c_compiler()
    if cc is None:
        raise error(f"no C compiler found: install gcc (or set CC) {needed_for}")
    folder = Path(tempfile.mkdtemp(prefix=f"kernels-{name}-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    for file_name, text in files.items():
        (folder / file_name).write_text(text)
    exe = folder / name
    try:
        done = run_command([cc, *flags, str(folder / f"{name}.c"), "-o", str(exe)], 120)
    except (OSError, CommandTimeoutError) as exc:
        raise error(f"cannot run the C compiler {cc!r}: {exc}") from None
    if done.returncode != 0:
        raise error(f"{cc} {' '.join(flags)} failed ({failed}):\n{done.stderr.strip()}")
    return exe
