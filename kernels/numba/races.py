"""Reading a ``prange`` loop's source for the classic race: every iteration updating one element.

``hits[0] += 1`` inside ``prange`` is a read-modify-write of one shared element from
every iteration: two threads that read it at once both write back their own count, and
one update is lost. Whether a given run loses any depends on the threads really running
at the same moment, which a busy machine can prevent for a while. The source shows it
every time, so :func:`kernels.numba.checks.check_race_free_hits` reads it as well as
running the function.
"""

from __future__ import annotations

import ast
import inspect
import textwrap


def _is_prange(node: ast.expr) -> bool:
    func = node.func if isinstance(node, ast.Call) else None
    return (isinstance(func, ast.Name) and func.id == "prange") or (
        isinstance(func, ast.Attribute) and func.attr == "prange"
    )


def _constant_index(target: ast.expr) -> bool:
    """Whether ``target`` is ``name[...]`` with an index made of constants only (``a[0]``)."""
    if not isinstance(target, ast.Subscript):
        return False
    index = target.slice
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    return all(isinstance(p, ast.Constant) for p in parts)


def _updates_in(loop: ast.For) -> list[str]:
    found = []
    for node in ast.walk(loop):
        if isinstance(node, ast.AugAssign) and _constant_index(node.target):
            found.append(ast.unparse(node.target))
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                written = ast.unparse(target)  # as text: a read and a write differ in ctx
                reads_it = any(isinstance(n, ast.Subscript) and ast.unparse(n) == written
                               for n in ast.walk(node.value))  # fmt: skip
                if _constant_index(target) and reads_it:
                    found.append(written)
    return found


def shared_element_updates(func) -> list[str]:
    """The array elements at a constant index that a ``prange`` loop of ``func`` updates.

    ``func`` is an ``@njit`` dispatcher or a plain function. An update is ``a[0] += ...``
    or ``a[0] = a[0] + ...`` anywhere inside a ``for ... in prange(...)`` loop. Returns
    the elements as written (``["hits[0]"]``), or ``[]`` where there is none or the source
    cannot be read.

    Examples
    --------
    >>> def racy(x):
    ...     hits = [0]
    ...     for k in prange(x.size):
    ...         hits[0] += 1
    ...     return hits[0]
    >>> shared_element_updates(racy)
    ['hits[0]']
    """
    try:
        source = textwrap.dedent(inspect.getsource(getattr(func, "py_func", func)))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        return []
    loops = [n for n in ast.walk(tree) if isinstance(n, ast.For) and _is_prange(n.iter)]
    return list(dict.fromkeys(u for loop in loops for u in _updates_in(loop)))
