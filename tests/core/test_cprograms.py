"""The book's C programs: compiled once per machine into a cache that outlives the process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kernels.core import cprograms

HELLO = '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n'


class BuildFailed(Exception):
    pass


def build(source: str = HELLO, flags: tuple[str, ...] = ("-O1",)) -> Path:
    return cprograms.build_c_program("hello", {"hello.c": source}, list(flags), BuildFailed,
                                     "for this test", "see above")  # fmt: skip


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv(cprograms.CACHE_VARIABLE, str(tmp_path))
    return tmp_path


def test_a_program_is_compiled_once_and_a_later_process_reuses_it(cache):
    exe = build()
    assert exe.parent.parent == cache / "c"
    assert subprocess.run([exe], capture_output=True, text=True).stdout == "hello\n"
    built = exe.stat().st_mtime_ns
    code = ("import sys; from kernels.core import cprograms; print(cprograms.build_c_program("
            "'hello', {'hello.c': sys.argv[1]}, ['-O1'], RuntimeError, '', ''))")  # fmt: skip
    env = {**os.environ, cprograms.CACHE_VARIABLE: str(cache)}
    later = subprocess.run([sys.executable, "-c", code, HELLO], capture_output=True, text=True,
                           env=env, check=True)  # fmt: skip
    assert Path(later.stdout.strip()) == exe and exe.stat().st_mtime_ns == built
    assert [p.name for p in (cache / "c").iterdir()] == [exe.parent.name]  # no work folder left


def test_other_flags_or_sources_are_other_builds_and_a_failed_one_leaves_nothing(cache):
    bye = HELLO.replace("hello", "bye")
    kept = {build().parent, build(flags=("-O2",)).parent, build(bye).parent}
    assert len(kept) == 3
    with pytest.raises(BuildFailed, match=r"(?s)failed \(see above\):\n.*undeclared"):
        build("int main(void) { return x; }")
    assert set((cache / "c").iterdir()) == kept


def test_a_cache_that_cannot_be_written_is_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv(cprograms.CACHE_VARIABLE, str(tmp_path / "a-file" / "cache"))
    with pytest.raises(BuildFailed, match="set KERNELS_CACHE to a folder you can write"):
        build()
