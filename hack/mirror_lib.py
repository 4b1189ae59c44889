"""The function map between the upstream Go files and their Python twins.

Shared by ``hack/verify-mirror`` (the rules) and ``hack/mirror_site.py`` (the HTML
mirror). Two data files, one row a line, ``#`` starts a comment:

``hack/upstream_functions.txt``  ``<go path>  <go func>  <python module>  <python name>``
``hack/mirror_gaps.txt``         ``<go path>  <go func or *>  <reason>``

A go path is ``<module>/<path in module>`` (``kubernetes/pkg/controller/job/job_controller.go``,
``client-go/util/workqueue/queue.go``) and resolves in the Go module cache at the pinned
versions of ``GO_MODULES``. A go func is ``Name`` or ``Receiver.Name`` (the receiver type
without ``*`` or type parameters); ``*`` in the gaps file marks the whole file. A python
name is ``name`` or ``Class.name`` inside the module.

The Go side is read with a small declaration scanner (``scan_go``): gofmt'd Go starts every
top-level function at column 0 with ``func`` and, unless it is a one-liner, ends it with a
``}`` at column 0. The Python side is read with ``ast``; nothing is imported.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

HACK = Path(__file__).resolve().parent
ROOT = HACK.parent

GO_MODULES = {
    "kubernetes": "k8s.io/kubernetes@v1.37.2",
    "client-go": "k8s.io/client-go@v0.37.2",
    "apimachinery": "k8s.io/apimachinery@v0.37.2",
}

# Go packages (directories) and single files whose every function must be either mirrored
# or listed as a gap. Files without functions (doc.go) need no row.
SCOPE = (
    "kubernetes/pkg/controller/job/",
    "kubernetes/pkg/controller/job/util/",
    "kubernetes/pkg/controller/job/metrics/",
    "kubernetes/pkg/controller/controller_utils.go",
    "kubernetes/pkg/controller/controller_ref_manager.go",
    "kubernetes/pkg/controller/util/consistency/",
    "client-go/util/workqueue/",
    "client-go/tools/cache/",
    "client-go/tools/cache/synctrack/",
    "client-go/tools/record/",
    "client-go/tools/record/util/",
    "client-go/tools/leaderelection/",
    "client-go/tools/leaderelection/resourcelock/",
)


def go_mod_cache() -> Path:
    """The Go module cache: $GOMODCACHE, else $GOPATH/pkg/mod, else ~/go/pkg/mod."""
    if os.environ.get("GOMODCACHE"):
        return Path(os.environ["GOMODCACHE"])
    gopath = os.environ.get("GOPATH", "").split(os.pathsep)[0]
    return Path(gopath or Path.home() / "go") / "pkg" / "mod"


def download_go_source(timeout: float = 900.0) -> str | None:
    """Fetch the pinned modules into the Go module cache with ``go mod download`` when
    any is missing; returns one line saying why it could not, else ``None``."""
    cache = go_mod_cache()
    wanted = [ref for ref in GO_MODULES.values() if not (cache / ref).is_dir()]
    if not wanted:
        return None
    if shutil.which("go") is None:
        return "the Go toolchain (go) is not on PATH, so the pinned Go source cannot be fetched"
    with tempfile.TemporaryDirectory() as scratch:
        try:
            done = subprocess.run(
                ["go", "mod", "download", *wanted],
                cwd=scratch,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return f"go mod download {' '.join(wanted)} took longer than {timeout:.0f} s"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"go mod download {' '.join(wanted)} failed: {last}"
    return None


@dataclass(frozen=True)
class MapRow:
    go_path: str
    go_func: str
    module: str
    py_name: str
    line: int  # in upstream_functions.txt


@dataclass(frozen=True)
class GapRow:
    go_path: str
    go_func: str  # "*" for the whole file
    reason: str
    line: int


def read_rows(path: Path, fields: int) -> list[tuple[int, list[str]]]:
    """Non-comment rows split into ``fields`` fields (the last keeps its spaces)."""
    rows: list[tuple[int, list[str]]] = []
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split(" #", 1)[0].strip() if fields > 3 else raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, fields - 1)
        if len(parts) < fields:
            raise ValueError(f"{path.name}:{n}: expected {fields} fields: {raw!r}")
        rows.append((n, parts))
    return rows


def load_map(path: Path = HACK / "upstream_functions.txt") -> list[MapRow]:
    return [MapRow(p[0], p[1], p[2], p[3].strip(), n) for n, p in read_rows(path, 4)]


def load_gaps(path: Path = HACK / "mirror_gaps.txt") -> list[GapRow]:
    return [GapRow(p[0], p[1], p[2].strip(), n) for n, p in read_rows(path, 3)]


# --- Go ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoFunc:
    name: str  # "Name" or "Recv.Name"
    doc_line: int  # first line of the doc comment above it (== decl_line without one)
    decl_line: int  # the "func" line, 1-based
    end_line: int


_FUNC = re.compile(
    r"^func\s*(?:\(\s*(?:\w+\s+)?\*?\s*(?P<recv>\w+)\s*(?:\[[^\]]*\])?\s*\)\s*)?(?P<name>\w+)"
)


def _strip_go_line(line: str, in_block: bool) -> tuple[str, bool]:
    """The line without strings, runes and comments; and whether a /* */ stays open."""
    out: list[str] = []
    i = 0
    while i < len(line):
        if in_block:
            end = line.find("*/", i)
            if end < 0:
                return "".join(out), True
            i, in_block = end + 2, False
            continue
        c = line[i]
        if line.startswith("//", i):
            break
        if line.startswith("/*", i):
            in_block, i = True, i + 2
            continue
        if c in "\"'`":
            j = i + 1
            while j < len(line) and line[j] != c:
                j += 2 if line[j] == "\\" and c != "`" else 1
            i = j + 1
            out.append(c + c)
            continue
        out.append(c)
        i += 1
    return "".join(out), in_block


def scan_go(text: str) -> list[GoFunc]:
    """Every top-level func and method of one gofmt'd Go file, in source order."""
    lines = text.splitlines()
    funcs: list[GoFunc] = []
    in_block = False  # inside /* */
    i = 0
    while i < len(lines):
        line = lines[i]
        m = _FUNC.match(line) if not in_block else None
        if m is None:
            _, in_block = _strip_go_line(line, in_block)
            i += 1
            continue
        name = f"{m['recv']}.{m['name']}" if m["recv"] else m["name"]
        doc = i
        while doc > 0 and lines[doc - 1].startswith("//"):
            doc -= 1
        depth, seen_open, end = 0, False, i
        for j in range(i, len(lines)):
            code, in_block = _strip_go_line(lines[j], in_block)
            depth += code.count("{") - code.count("}")
            seen_open = seen_open or "{" in code
            end = j
            if j > i and lines[j] == "}":
                break
            if seen_open and depth == 0 and code.rstrip().endswith("}"):
                break
            if j == i and not seen_open and not code.rstrip().endswith(("(", ",")):
                break  # a declaration without a body (assembly stub)
        funcs.append(GoFunc(name, doc + 1, i + 1, end + 1))
        i = end + 1
    return funcs


class GoSource:
    """Go files from the module cache (or any roots given, for tests), scanned once."""

    def __init__(self, roots: dict[str, Path] | None = None) -> None:
        if roots is None:
            cache = go_mod_cache()
            roots = {k: cache / v for k, v in GO_MODULES.items()}
        self.roots = roots
        self._funcs: dict[str, list[GoFunc]] = {}

    def missing_root(self) -> Path | None:
        for root in self.roots.values():
            if not root.is_dir():
                return root
        return None

    def path(self, go_path: str) -> Path:
        module, _, rest = go_path.partition("/")
        if module not in self.roots:
            raise KeyError(f"unknown Go module {module!r} in {go_path}")
        return self.roots[module] / rest

    def text(self, go_path: str) -> str:
        return self.path(go_path).read_text(encoding="utf-8")

    def funcs(self, go_path: str) -> list[GoFunc]:
        if go_path not in self._funcs:
            self._funcs[go_path] = scan_go(self.text(go_path))
        return self._funcs[go_path]

    def scope_files(self, scope: tuple[str, ...] = SCOPE) -> list[str]:
        """The non-test Go files of ``scope`` (directories are not recursed into)."""
        files: list[str] = []
        for entry in scope:
            if entry.endswith(".go"):
                files.append(entry)
                continue
            directory = self.path(entry.rstrip("/"))
            for f in sorted(directory.glob("*.go")):
                if not f.name.endswith("_test.go"):
                    files.append(entry.rstrip("/") + "/" + f.name)
        return files


# --- Python ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PyDef:
    name: str  # "name" or "Class.name"
    container: str  # "" for the module level, else the dotted class name
    start_line: int  # first decorator or the def line
    def_line: int
    end_line: int
    docstring: str


def module_path(module: str, root: Path = ROOT) -> Path:
    base = root.joinpath(*module.split("."))
    package = base / "__init__.py"
    return package if package.is_file() else base.with_suffix(".py")


def scan_python(text: str) -> dict[str, PyDef]:
    """Module-level functions and classes and, recursively, the members of classes."""
    defs: dict[str, PyDef] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = prefix + node.name
                start = min([d.lineno for d in node.decorator_list] + [node.lineno])
                defs[name] = PyDef(
                    name,
                    prefix.rstrip("."),
                    start,
                    node.lineno,
                    node.end_lineno or node.lineno,
                    ast.get_docstring(node) or "",
                )
                if isinstance(node, ast.ClassDef):
                    visit(node.body, name + ".")

    visit(ast.parse(text).body, "")
    return defs


class PySource:
    """Python modules under ``root``, scanned once."""

    def __init__(self, root: Path = ROOT) -> None:
        self.root = root
        self._defs: dict[str, dict[str, PyDef] | None] = {}

    def path(self, module: str) -> Path:
        return module_path(module, self.root)

    def defs(self, module: str) -> dict[str, PyDef] | None:
        """None when the module has no source file."""
        if module not in self._defs:
            path = self.path(module)
            self._defs[module] = scan_python(path.read_text("utf-8")) if path.is_file() else None
        return self._defs[module]


def go_basename(go_path: str) -> str:
    return go_path.rsplit("/", 1)[-1]


def go_short_name(go_func: str) -> str:
    """The function or method name a docstring must carry (``syncJob`` for
    ``Controller.syncJob``)."""
    return go_func.rsplit(".", 1)[-1]
