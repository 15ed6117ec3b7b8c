"""Build the Cython extensions in ``kernels/cython/compiled`` (the metadata is in pyproject.toml).

Every extension is compiled with the flags of ``kernels/core/buildflags.py`` (``-O3``,
``-march=native``, ``-ffp-contract=off``; the C baseline uses the same), each where the
compiler accepts it. OpenMP (``-fopenmp``) is added when the compiler can build and link
an OpenMP program; where it cannot (Apple's clang without libomp), the extensions are
built without it, ``prange`` loops run serially, and ``python -m kernels info`` says so.
If an extension does not compile at all, the install goes on without it and the Cython
backends report why.

The Mandelbrot kernel is built in the layout (counts' integer type, lanes) that ran
fastest here: the C program (``kernels/c``) is built in each of ``LAYOUTS`` that
``KERNELS_COUNT_T`` and ``KERNELS_LANES`` allow (all when they are unset) and timed.
"""

from __future__ import annotations

import os
import runpy
import sys
import tempfile
from pathlib import Path

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

MODULES = ("openmp", "mandelbrot", "heat", "monte_carlo_pi")
DIRECTIVES = {
    "language_level": "3",
    "boundscheck": False,
    "wraparound": False,
    "initializedcheck": False,
    "cdivision": True,
}
# Loaded by path: the package's dependencies are not installed while it is being built.
FLAGS = runpy.run_path(str(Path(__file__).parent / "kernels" / "core" / "buildflags.py"))
OPTIMISE, OPENMP = FLAGS["OPTIMISE"], FLAGS["OPENMP"]
layout_flags = FLAGS["layout_flags"]
C_PROGRAM = Path(__file__).parent / "kernels" / "c" / "mandelbrot.c"
PLAIN_PROGRAM = "int main(void) { return 0; }\n"
OPENMP_PROGRAM = "#include <omp.h>\nint main(void) { return omp_get_max_threads() > 0 ? 0 : 1; }\n"


def builds(compiler, program: str, flag: str) -> bool:
    """Whether ``compiler`` compiles and links ``program`` with ``flag``."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp, "check.c")
        source.write_text(program)
        try:
            objects = compiler.compile([str(source)], output_dir=tmp, extra_postargs=[flag])
            compiler.link_executable(objects, "check", output_dir=tmp, extra_postargs=[flag])
        except Exception:  # CompileError, LinkError, or a missing compiler
            return False
    return True


def compile_flags(compiler) -> tuple[list[str], list[str]]:
    """The optimisation flags and the OpenMP flags this compiler accepts."""
    if compiler.compiler_type == "msvc":
        return [], []
    optimise = [flag for flag in OPTIMISE if builds(compiler, PLAIN_PROGRAM, flag)]
    if builds(compiler, OPENMP_PROGRAM, OPENMP):
        return optimise, [OPENMP]
    print("kernels: the compiler has no OpenMP; building the extensions serial", file=sys.stderr)
    return optimise, []


def time_layouts(compiler, flags: list[str], layouts) -> dict:
    """Seconds per pass of the C lanes kernel built in each of ``layouts``; {} if it fails."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            programs = {}
            for number, layout in enumerate(layouts):
                folder = str(Path(tmp, str(number)))
                args = [*flags, *layout_flags(layout)]
                objects = compiler.compile([str(C_PROGRAM)], folder, extra_postargs=args)
                compiler.link_executable(objects, "probe", folder, extra_postargs=flags)
                programs[layout] = str(Path(folder, "probe"))
            return FLAGS["time_layouts"](programs, str(Path(tmp, "counts")))
        except Exception as exc:  # no compiler, no OpenMP, or the program failed
            print(f"kernels: could not time the kernel's layouts ({exc})", file=sys.stderr)
            return {}


def layout(compiler, flags: list[str]):
    """The Mandelbrot kernel's layout: the one allowed, or the fastest timed here."""
    candidates = FLAGS["layouts_from_environment"](os.environ)
    if len(candidates) == 1:
        return candidates[0]
    seconds = time_layouts(compiler, flags, candidates)
    chosen = FLAGS["fastest_layout"](seconds, candidates)
    timed = "; ".join(f"{name} {min(s):.4f} s" for name, s in seconds.items())
    print(f"kernels: Mandelbrot kernel with {chosen} (best passes: {timed or 'not timed'})",
          file=sys.stderr)  # fmt: skip
    return chosen


class BuildExtensions(build_ext):
    """``build_ext`` that adds optimisation and OpenMP flags, and skips what cannot build."""

    def finalize_options(self) -> None:
        super().finalize_options()
        if self.parallel is None:  # the extensions compile at once, one per core
            self.parallel = os.cpu_count() or 1

    def build_extensions(self) -> None:
        optimise, openmp = compile_flags(self.compiler)
        chosen = layout_flags(layout(self.compiler, [*optimise, *openmp]))
        for ext in self.extensions:
            ext.extra_compile_args += [*optimise, *openmp]
            ext.extra_link_args += openmp
            if ext.name.endswith(".mandelbrot"):
                ext.extra_compile_args += chosen
        super().build_extensions()

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            if os.environ.get("KERNELS_REQUIRE_EXTENSIONS"):
                raise
            print(f"kernels: could not build {ext.name} ({exc}); the Cython backends "
                  "will say they are unavailable", file=sys.stderr)  # fmt: skip


extensions = [
    Extension(
        f"kernels.cython.compiled.{name}",
        [f"kernels/cython/compiled/{name}.pyx"],
        include_dirs=[numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    )
    for name in MODULES
]

setup(
    ext_modules=cythonize(extensions, compiler_directives=DIRECTIVES),
    cmdclass={"build_ext": BuildExtensions},
)
