"""The mirror rules that ``hack/verify-mirror`` enforces (data formats: hack/mirror_lib.py).

1. Map: every row of upstream_functions.txt names a Go function that exists in the pinned
   Go source and a Python definition that exists in its module; no Go function is listed
   twice, or both as mirrored and as a gap; no Python definition twins two Go functions;
   every gap has a reason.
2. Coverage: every function of every Go file in scope (``mirror_lib.SCOPE``) is mirrored
   or listed as a gap (a ``*`` gap covers the whole file).
3. Provenance: the docstring of every ported definition names its Go file (the file name,
   e.g. ``job_controller.go``) and its Go function (the bare name, e.g. ``syncJob`` for
   ``Controller.syncJob``).
4. Go order: Python groups methods in class bodies where Go interleaves them with
   functions, so order is checked per container. Within one Python container (a class
   body, or the module's top level), the twins of one Go file appear in the Go file's
   order: walking them by Python line, their Go declaration lines never decrease. A
   module may hold classes and functions in any arrangement its docstring states
   (methods then functions, say), and twins of several Go files may interleave.

Every violation is one line: ``<path>:<line>: <what is wrong>``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from hack.mirror_lib import (
    ROOT,
    SCOPE,
    GapRow,
    GoFunc,
    GoSource,
    MapRow,
    PySource,
    go_basename,
    go_short_name,
)


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def names_go_file(doc: str, go_path: str) -> bool:
    base = re.escape(go_basename(go_path))
    return re.search(rf"(?<![\w-]){base}(?![\w-])", doc) is not None


def names_go_func(doc: str, go_func: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(go_short_name(go_func))}(?!\w)", doc) is not None


def check(
    rows: list[MapRow],
    gaps: list[GapRow],
    go: GoSource,
    py: PySource,
    scope: tuple[str, ...] = SCOPE,
    map_name: str = "hack/upstream_functions.txt",
    gaps_name: str = "hack/mirror_gaps.txt",
) -> list[str]:
    """All violations of the rules above, one line each."""
    out: list[str] = []
    go_funcs: dict[str, dict[str, GoFunc]] = {}

    def funcs_of(go_path: str) -> dict[str, GoFunc] | None:
        if go_path not in go_funcs:
            try:
                go_funcs[go_path] = {f.name: f for f in go.funcs(go_path)}
            except (OSError, KeyError):
                return None
        return go_funcs[go_path]

    # 1. the map and the gaps resolve
    mapped: dict[tuple[str, str], MapRow] = {}
    twins: dict[tuple[str, str], MapRow] = {}
    for row in rows:
        where = f"{map_name}:{row.line}"
        key = (row.go_path, row.go_func)
        if key in mapped:
            out.append(f"{where}: {row.go_path} {row.go_func} is listed twice")
            continue
        mapped[key] = row
        other = twins.setdefault((row.module, row.py_name), row)
        if other is not row:
            out.append(
                f"{where}: {row.module}.{row.py_name} already twins {other.go_func} "
                f"(line {other.line}); one Python definition per Go function"
            )
        funcs = funcs_of(row.go_path)
        if funcs is None:
            out.append(f"{where}: no Go file {row.go_path}")
        elif row.go_func not in funcs:
            out.append(f"{where}: {row.go_path} has no func {row.go_func}")
        defs = py.defs(row.module)
        if defs is None:
            out.append(f"{where}: no Python module {row.module}")
        elif row.py_name not in defs:
            out.append(f"{where}: {row.module} has no {row.py_name} (twin of {row.go_func})")
    gapped: set[tuple[str, str]] = set()
    for gap in gaps:
        where = f"{gaps_name}:{gap.line}"
        key = (gap.go_path, gap.go_func)
        gapped.add(key)
        if not gap.reason:
            out.append(f"{where}: gap {gap.go_path} {gap.go_func} has no reason")
        funcs = funcs_of(gap.go_path)
        if funcs is None:
            out.append(f"{where}: no Go file {gap.go_path}")
        elif gap.go_func != "*" and gap.go_func not in funcs:
            out.append(f"{where}: {gap.go_path} has no func {gap.go_func}")
        if key in mapped:
            out.append(f"{where}: {gap.go_path} {gap.go_func} is both mirrored and a gap")
        if gap.go_func == "*" and any(k[0] == gap.go_path for k in mapped):
            out.append(f"{where}: {gap.go_path} is a whole-file gap but has mirrored funcs")

    # 2. coverage of the files in scope
    for go_path in go.scope_files(scope):
        if (go_path, "*") in gapped:
            continue
        for f in (funcs_of(go_path) or {}).values():
            if (go_path, f.name) not in mapped and (go_path, f.name) not in gapped:
                out.append(
                    f"{go_path}:{f.decl_line}: {f.name} is neither mirrored nor a listed gap"
                )

    # 3. provenance, 4. order
    groups: dict[tuple[str, str, str], list[tuple[int, int, MapRow]]] = defaultdict(list)
    for row in mapped.values():
        defs = py.defs(row.module)
        funcs = funcs_of(row.go_path)
        if defs is None or row.py_name not in defs or funcs is None or row.go_func not in funcs:
            continue
        d = defs[row.py_name]
        where = f"{_rel(py.path(row.module), py.root)}:{d.def_line}"
        missing = [
            what
            for what, ok in (
                (go_basename(row.go_path), names_go_file(d.docstring, row.go_path)),
                (go_short_name(row.go_func), names_go_func(d.docstring, row.go_func)),
            )
            if not ok
        ]
        if missing:
            out.append(f"{where}: {row.py_name}: docstring does not name {' and '.join(missing)}")
        groups[(row.module, d.container, row.go_path)].append(
            (d.def_line, funcs[row.go_func].decl_line, row)
        )
    for (module, _container, go_path), members in sorted(groups.items()):
        members.sort(key=lambda m: m[0])
        latest: tuple[int, int, MapRow] | None = None
        for member in members:
            if latest is not None and member[1] < latest[1]:
                py_line, go_line, row = member
                out.append(
                    f"{_rel(py.path(module), py.root)}:{py_line}: {row.py_name} "
                    f"({go_basename(go_path)}:{go_line} {row.go_func}) comes after "
                    f"{latest[2].py_name} ({go_basename(go_path)}:{latest[1]} "
                    f"{latest[2].go_func}); Go defines it earlier"
                )
            else:
                latest = member
    return out


def default_check() -> tuple[list[str], int, int]:
    """Violations of the repository's own map, and the row and gap counts."""
    from hack.mirror_lib import load_gaps, load_map

    rows, gaps = load_map(), load_gaps()
    return check(rows, gaps, GoSource(), PySource(ROOT)), len(rows), len(gaps)
