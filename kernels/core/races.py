"""Reading a ``prange`` loop's source for the classic race: iterations updating one element.

For numba's ``prange`` and Cython's (``cython.parallel.prange``) alike; the checkers of
both chapters read the learner's loop with it.

``hits[0] += 1`` inside ``prange`` is a read-modify-write of one shared element from
every iteration: two threads that read it at once both write back their own count, and
one update is lost. So is ``hits[k & 1] += 1``, or ``sums[j] += ...`` with ``j`` from
an inner loop: the index does not tell the iterations apart, so iterations on different
threads update the same element. Whether a given run loses any update depends on the
threads really running at the same moment, which a busy machine can prevent for a
while. The source shows it every time, so the checkers
(:func:`kernels.numba.checks.check_race_free_hits`,
:func:`kernels.cython.checks.check_count_hits`) read it as well as running the function.

The rule: an element updated inside a ``prange`` loop over ``i`` is private to one
iteration when one part of its index is ``i`` itself, ``i`` plus or minus, or times,
something that does not depend on ``i``, or a name the loop body sets to such an
expression (``start = i * size``). Arrays created inside the loop body are private to
its iteration too. ``i % 2``, ``i & 1``, ``i // 2``, a constant, an inner loop's
variable or a value read from an array can repeat across iterations, so an update there
is reported. A plain variable updated with ``+=`` is not: numba and Cython both make it
a reduction, one private copy per thread, added up at the end.

Cython's source is not Python, but a ``prange`` loop's body nearly is (its variables are
declared outside the loop): each loop is cut out of the ``.pyx`` file, its casts
(``<double>x``) taken off, and parsed as Python. A loop that still does not parse is
left out, never reported.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from pathlib import Path


def _is_prange(node: ast.expr) -> bool:
    func = node.func if isinstance(node, ast.Call) else None
    return (isinstance(func, ast.Name) and func.id == "prange") or (
        isinstance(func, ast.Attribute) and func.attr == "prange"
    )


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _one_per_iteration(expr: ast.expr, own: set[str]) -> bool:
    """Whether ``expr`` takes a different value in every iteration (``own``: such names)."""
    if isinstance(expr, ast.Name):
        return expr.id in own
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub):
        return _one_per_iteration(expr.operand, own)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Add, ast.Sub, ast.Mult)):
        for this, other in ((expr.left, expr.right), (expr.right, expr.left)):
            if _one_per_iteration(this, own) and not _names(other) & own:
                return True
    return False


def _iteration_names(loop: ast.For) -> set[str]:
    """The loop variable, and the names the body sets from it, one-to-one."""
    own = {loop.target.id} if isinstance(loop.target, ast.Name) else set()
    assigns = [n for n in ast.walk(loop) if isinstance(n, ast.Assign) and len(n.targets) == 1]
    while True:
        more = {a.targets[0].id for a in assigns
                if isinstance(a.targets[0], ast.Name) and a.targets[0].id not in own
                and _one_per_iteration(a.value, own)}  # fmt: skip
        if not more:
            return own
        own |= more


def _private_arrays(loop: ast.For) -> set[str]:
    """Names the loop body assigns a whole value to: each iteration's own array."""
    return {t.id for n in ast.walk(loop) if isinstance(n, ast.Assign)
            for t in n.targets if isinstance(t, ast.Name)}  # fmt: skip


def _shared(target: ast.expr, own: set[str], private: set[str]) -> bool:
    """Whether ``target`` is ``name[...]`` that more than one iteration can reach."""
    if not isinstance(target, ast.Subscript) or not isinstance(target.value, ast.Name):
        return False
    if target.value.id in private:
        return False
    index = target.slice
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    return not any(_one_per_iteration(p, own) for p in parts)


def _updates_in(loop: ast.For) -> list[str]:
    own, private = _iteration_names(loop), _private_arrays(loop)
    found = []
    for node in ast.walk(loop):
        if isinstance(node, ast.AugAssign) and _shared(node.target, own, private):
            found.append(ast.unparse(node.target))
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                written = ast.unparse(target)  # as text: a read and a write differ in ctx
                reads_it = any(isinstance(n, ast.Subscript) and ast.unparse(n) == written
                               for n in ast.walk(node.value))  # fmt: skip
                if reads_it and _shared(target, own, private):
                    found.append(written)
    return found


# ``for i in prange(`` or ``for i in cython.parallel.prange(``, at any indentation.
PRANGE_LINE = re.compile(r"^(\s*)for\s+\w+\s+in\s+(?:[\w.]+\.)?prange\s*\(")
# A C cast: ``<double>``, ``<long long>``, ``<int *>`` (a type name, not a comparison).
CAST = re.compile(r"<\s*(?:(?:unsigned|signed|const|long|short)\s+)*"
                  r"(?:double|float|int|long|char|short|Py_ssize_t|size_t|bint|"
                  r"u?int(?:8|16|32|64)_t|object)\s*\**\s*>")  # fmt: skip


def _block(lines: list[str], first: int) -> list[str]:
    """Line ``first`` and the lines indented deeper than it that follow (its block)."""
    indent = len(lines[first]) - len(lines[first].lstrip())
    block = [lines[first]]
    for line in lines[first + 1 :]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        block.append(line)
    return block


def cython_source(func) -> str | None:
    """The source of a function compiled by Cython, from the ``.pyx`` beside its module.

    ``%%cython`` cells and ``cythonize`` leave the ``.pyx`` file next to the extension
    module, and Cython records the file's name and the ``def`` line in the function.
    ``None`` when that file is not there.
    """
    code = getattr(func, "__code__", None)
    module = getattr(func, "__globals__", {}).get("__file__")
    if code is None or not module:
        return None
    pyx = Path(module).with_name(Path(code.co_filename).name)
    try:
        lines = pyx.read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    first = code.co_firstlineno - 1
    if not 0 <= first < len(lines):
        return None
    return "\n".join(_block(lines, first))


def prange_loops(source: str) -> list[ast.For]:
    """The ``for ... in prange(...)`` loops of ``source``, Python or Cython, parsed.

    Examples
    --------
    >>> cython = '''
    ... def count(double[::1] x, int t):
    ...     cdef Py_ssize_t k
    ...     for k in prange(x.shape[0], nogil=True, num_threads=t):
    ...         if <double>x[k] < 0.5:
    ...             hits[0] += 1
    ... '''
    >>> [ast.unparse(loop.body[0].test) for loop in prange_loops(cython)]
    ['x[k] < 0.5']
    """
    try:
        trees = [ast.parse(textwrap.dedent(source))]
    except SyntaxError:  # Cython: parse each loop on its own, leaving out what still fails
        lines = source.splitlines()
        trees = []
        for k, line in enumerate(lines):
            if PRANGE_LINE.match(line):
                try:
                    trees.append(
                        ast.parse(CAST.sub("", textwrap.dedent("\n".join(_block(lines, k)))))
                    )
                except SyntaxError:
                    continue
    return [n for tree in trees for n in ast.walk(tree)
            if isinstance(n, ast.For) and _is_prange(n.iter)]  # fmt: skip


def race_reason(element: str) -> str:
    """What a checker says about ``element``, updated by every iteration (both chapters)."""
    return (f"prange iterations update {element}, at an index that does not tell the "
            "iterations apart, so threads share that element: a race, whether or not a "
            "given run loses an update")  # fmt: skip


def shared_element_updates(func) -> list[str]:
    """The array elements that more than one iteration of a ``prange`` loop of ``func`` updates.

    ``func`` is an ``@njit`` dispatcher, a function compiled by Cython, or a plain
    function. An update is ``a[j] += ...`` or ``a[j] = a[j] + ...`` anywhere inside a
    ``for ... in prange(...)`` loop, at an index that does not tell the iterations apart
    (see the module's rule). Returns the elements as written (``["hits[0]"]``), or ``[]``
    where there is none or the source cannot be read.

    Examples
    --------
    >>> def racy(x):
    ...     hits = [0, 0]
    ...     for k in prange(x.size):
    ...         hits[0] += 1
    ...         hits[k % 2] = hits[k % 2] + 1
    ...     return hits[0]
    >>> shared_element_updates(racy)
    ['hits[0]', 'hits[k % 2]']
    >>> def per_chunk(x, chunks):
    ...     partial = [0] * chunks
    ...     for c in prange(chunks):
    ...         start = c * (x.size // chunks)
    ...         for k in range(start, start + x.size // chunks):
    ...             partial[c] += 1
    ...     return sum(partial)
    >>> shared_element_updates(per_chunk)
    []
    """
    try:
        source = inspect.getsource(getattr(func, "py_func", func))
    except (OSError, TypeError):
        source = cython_source(func)
    if source is None:
        return []
    loops = prange_loops(source)
    return list(dict.fromkeys(u for loop in loops for u in _updates_in(loop)))
