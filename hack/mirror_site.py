"""Build the side-by-side mirror: a static HTML site of each Go file beside its Python twins.

    python -m hack.mirror_site [--out results/mirror]     (``make mirror``)

Every Go file with mirrored functions gets a page: each of its functions, in Go order, as
the exact source of the pinned release (from the Go module cache) in the left column and
its Python twin in the right, both highlighted with Pygments and each scrollable on its
own, so one function pair fills one screen. Gaps show their reason instead of a twin.
Each pair links to the jobctl tests that cover the twin: tests whose name carries the
Python name (``TestSyncJob`` ported as ``test_sync_job``) and tests that reference it in
a file importing its module. ``index.html`` lists coverage per Go file and every gap
with its reason. The map itself is hack/upstream_functions.txt (hack/mirror_lib.py).
"""

from __future__ import annotations

import argparse
import ast
import html
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

# Pygments ships no type hints (types-Pygments is not in the dev extra).
from pygments import highlight  # type: ignore[import-untyped]
from pygments.formatters import HtmlFormatter  # type: ignore[import-untyped]
from pygments.lexers import GoLexer, PythonLexer  # type: ignore[import-untyped]

from hack.mirror_lib import (
    ROOT,
    GapRow,
    GoSource,
    MapRow,
    PyDef,
    PySource,
    download_go_source,
    go_basename,
    load_gaps,
    load_map,
)

CSS = """
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: #222; }
header { position: sticky; top: 0; z-index: 2; background: #f6f8fa;
         border-bottom: 1px solid #d0d7de; padding: .35rem .8rem; }
header h1 { font-size: 1rem; margin: 0; display: inline; }
header nav { font-size: .8rem; margin-top: .2rem; max-height: 3.2em; overflow: auto; }
header nav a { margin-right: .6rem; white-space: nowrap; }
main { padding: 0 .8rem; }
section.pair { scroll-margin-top: 4.6rem; margin: .6rem 0 1.2rem; }
section.pair h2 { font-size: .95rem; margin: 0 0 .25rem; display: flex; gap: 1rem;
                  flex-wrap: wrap; align-items: baseline; }
section.pair h2 .tests { font-weight: normal; font-size: .78rem; color: #555; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: .6rem; }
.side { min-width: 0; border: 1px solid #d0d7de; border-radius: 4px; }
.side .label { font-size: .78rem; background: #f6f8fa; padding: .1rem .5rem;
               border-bottom: 1px solid #d0d7de; }
.code { max-height: calc(100vh - 9.5rem); overflow: auto; }
.code.full { max-height: none; }
.code pre { margin: 0; padding: .3rem .5rem; font-size: 12px; line-height: 1.35;
            tab-size: 4; -moz-tab-size: 4; }
.gap { padding: .5rem; color: #8a4b00; background: #fff8e6; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .85rem; }
td, th { border: 1px solid #d0d7de; padding: .15rem .5rem; text-align: left; }
td.num { text-align: right; }
.linenos, .linenodiv, span.linenos { color: #999; user-select: none; }
"""


@dataclass
class TestRef:
    file: str  # relative to the repo root
    name: str
    line: int
    by_name: bool


def _page_name(go_path: str) -> str:
    return go_path.replace("/", "__") + ".html"


def _focus_name(go_path: str, go_func: str) -> str:
    return go_path.replace("/", "__") + "--" + go_func + ".html"


def _test_page_name(test_file: str) -> str:
    return test_file.replace("/", "__") + ".html"


def _anchor(prefix: str, name: str) -> str:
    return f"{prefix}-{name}"


def _formatter(start: int, anchors: bool = False) -> HtmlFormatter:
    """Inline line numbers as in the real file; test pages get L-<n> anchors."""
    if anchors:
        return HtmlFormatter(
            linenos="inline", linenostart=start, lineanchors="L", anchorlinenos=True
        )
    return HtmlFormatter(linenos="inline", linenostart=start)


def _page(title: str, header: str, body: str) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><link rel='stylesheet' href='style.css'>"
        f"</head><body><header>{header}</header><main>{body}</main></body></html>\n"
    )


class TestIndex:
    """Test functions under tests/, with the identifiers each references."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tests: list[tuple[str, str, int, set[str], str]] = []  # file, name, line, ids, src
        for path in sorted((root / "tests").rglob("test_*.py")):
            rel = str(path.relative_to(root))
            if rel.startswith("tests/hack/"):  # the mirror's own tests name everything
                continue
            src = path.read_text("utf-8")
            for node in ast.walk(ast.parse(src)):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
                    node.name.startswith("test_")
                ):
                    ids = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
                    ids |= {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
                    self.tests.append((rel, node.name, node.lineno, ids, src))
        self.files = sorted({t[0] for t in self.tests})

    def covering(self, module: str, py_name: str) -> list[TestRef]:
        """Tests named after the twin first, then tests referencing it."""
        short = py_name.rsplit(".", 1)[-1]
        token = short.strip("_")
        named: list[TestRef] = []
        referencing: list[TestRef] = []
        for file, name, line, ids, src in self.tests:
            if token and f"_{token}_" in f"_{name}_":
                named.append(TestRef(file, name, line, True))
            elif short in ids and _imports(src, module):
                referencing.append(TestRef(file, name, line, False))
        # TestSyncJob ported as test_sync_job first, then TestControllerSyncJob-style names
        named.sort(key=lambda r: (r.name != f"test_{token}", not r.name.endswith(token)))
        return named + referencing


def _imports(src: str, module: str) -> bool:
    """Does a test file import ``module`` (``import a.b.c`` or ``from a.b import c``)?"""
    package, _, leaf = module.rpartition(".")
    from_import = rf"from {re.escape(package)} import [^\n]*\b{leaf}\b"
    return module in src or re.search(from_import, src) is not None


def _tests_html(refs: list[TestRef], limit: int = 6) -> str:
    if not refs:
        return "<span class='tests'>no test names or calls it directly</span>"
    links = [
        f"<a href='{_test_page_name(r.file)}#L-{r.line}' title='{html.escape(r.file)}'>"
        f"{html.escape(r.name)}</a>"
        for r in refs[:limit]
    ]
    more = f" +{len(refs) - limit} more" if len(refs) > limit else ""
    return f"<span class='tests'>tests: {', '.join(links)}{more}</span>"


def _python_snippet(py: PySource, module: str, d: PyDef) -> str:
    lines = py.path(module).read_text("utf-8").splitlines()
    return "\n".join(lines[d.start_line - 1 : d.end_line]) + "\n"


def build(out: Path, root: Path = ROOT, go: GoSource | None = None) -> list[str]:
    """Write the site into ``out``; returns the Go files that got a page."""
    go = go or GoSource()
    py = PySource(root)
    rows, gaps = load_map(), load_gaps()
    tests = TestIndex(root)
    out.mkdir(parents=True, exist_ok=True)
    (out / "style.css").write_text(CSS + HtmlFormatter().get_style_defs(".code"), "utf-8")

    rows_by_file: dict[str, dict[str, MapRow]] = defaultdict(dict)
    for row in rows:
        rows_by_file[row.go_path][row.go_func] = row
    gaps_by_file: dict[str, dict[str, GapRow]] = defaultdict(dict)
    for gap in gaps:
        gaps_by_file[gap.go_path][gap.go_func] = gap

    used_tests: set[str] = set()
    pages: list[str] = []
    for go_path, file_rows in rows_by_file.items():
        used_tests |= _write_file_page(out, go, py, tests, go_path, file_rows, gaps_by_file)
        pages.append(go_path)
    for test_file in sorted(used_tests):
        src = (root / test_file).read_text("utf-8")
        code = highlight(src, PythonLexer(), _formatter(1, anchors=True))
        header = f"<a href='index.html'>mirror</a> · <h1>{html.escape(test_file)}</h1>"
        (out / _test_page_name(test_file)).write_text(
            _page(test_file, header, f"<div class='code full'>{code}</div>"),
            "utf-8",
        )
    _write_index(out, go, rows_by_file, gaps_by_file)
    return pages


def _write_file_page(
    out: Path,
    go: GoSource,
    py: PySource,
    tests: TestIndex,
    go_path: str,
    file_rows: dict[str, MapRow],
    gaps_by_file: dict[str, dict[str, GapRow]],
) -> set[str]:
    go_lines = go.text(go_path).splitlines()
    modules = sorted({r.module for r in file_rows.values()})
    used: set[str] = set()
    nav: list[str] = []
    sections: dict[str, str] = {}
    focus: list[str] = []
    for f in go.funcs(go_path):
        go_id = _anchor("go", f.name)
        go_code = highlight(
            "\n".join(go_lines[f.doc_line - 1 : f.end_line]) + "\n",
            GoLexer(),
            _formatter(f.doc_line),
        )
        go_side = (
            f"<div class='side' id='{go_id}' data-go='{html.escape(f.name)}'>"
            f"<div class='label'>{html.escape(go_path)}:{f.decl_line}</div>"
            f"<div class='code'>{go_code}</div></div>"
        )
        row = file_rows.get(f.name)
        defs = py.defs(row.module) if row else None
        if row is not None and defs is not None and row.py_name in defs:
            d = defs[row.py_name]
            py_id = _anchor("py", f"{row.module}.{row.py_name}")
            py_code = highlight(
                _python_snippet(py, row.module, d), PythonLexer(), _formatter(d.start_line)
            )
            rel = py.path(row.module).relative_to(py.root)
            py_side = (
                f"<div class='side' id='{py_id}' data-py='{html.escape(row.module)}."
                f"{html.escape(row.py_name)}'><div class='label'>{rel}:{d.def_line} "
                f"<a href='#{go_id}'>↔ Go twin</a></div><div class='code'>{py_code}</div></div>"
            )
            refs = tests.covering(row.module, row.py_name)
            used |= {r.file for r in refs[:6]}
            title = (
                f"<a href='#{f.name}'>{html.escape(f.name)}</a> "
                f"<a href='#{py_id}'>↔ {html.escape(row.py_name)}</a>"
                f"<a href='{_focus_name(go_path, f.name)}' class='tests'>open alone</a>"
                f"{_tests_html(refs)}"
            )
            focus.append(f.name)
            nav.append(f"<a href='#{f.name}'>{html.escape(f.name)}</a>")
        else:
            gap = gaps_by_file.get(go_path, {}).get(f.name) or gaps_by_file.get(go_path, {}).get(
                "*"
            )
            reason = gap.reason if gap else "not listed (hack/verify-mirror reports this)"
            py_side = (
                f"<div class='side'><div class='gap'>not mirrored: {html.escape(reason)}"
                "</div></div>"
            )
            title = f"<a href='#{f.name}'>{html.escape(f.name)}</a> <span class='tests'>gap</span>"
            nav.append(f"<a href='#{f.name}' style='color:#8a4b00'>{html.escape(f.name)}</a>")
        sections[f.name] = (
            f"<section class='pair' id='{html.escape(f.name)}'><h2>{title}</h2>"
            f"<div class='cols'>{go_side}{py_side}</div></section>"
        )
    mods = ", ".join(html.escape(m) for m in modules)
    crumb = f"<a href='index.html'>mirror</a> · <h1>{html.escape(go_path)}</h1> ↔ {mods}"
    body = "".join(sections.values())
    page = _page(go_path, f"{crumb}<nav>{''.join(nav)}</nav>", body)
    (out / _page_name(go_path)).write_text(page, "utf-8")
    # One page per mirrored function: the pair alone fills the screen.
    for i, name in enumerate(focus):
        links = [f"<a href='{_page_name(go_path)}#{name}'>all of {go_basename(go_path)}</a>"]
        if i > 0:
            links.insert(0, f"<a href='{_focus_name(go_path, focus[i - 1])}'>← {focus[i - 1]}</a>")
        if i + 1 < len(focus):
            links.append(f"<a href='{_focus_name(go_path, focus[i + 1])}'>{focus[i + 1]} →</a>")
        page = _page(f"{name} ({go_path})", f"{crumb}<nav>{''.join(links)}</nav>", sections[name])
        (out / _focus_name(go_path, name)).write_text(page, "utf-8")
    return used


def _write_index(
    out: Path,
    go: GoSource,
    rows_by_file: dict[str, dict[str, MapRow]],
    gaps_by_file: dict[str, dict[str, GapRow]],
) -> None:
    # The Job controller's own package first, then pkg/controller, then client-go.
    files = sorted(
        set(go.scope_files()) | set(rows_by_file) | set(gaps_by_file),
        key=lambda p: (not p.startswith("kubernetes/pkg/controller/job/"), p),
    )
    table = [
        "<table><tr><th>Go file</th><th>Python</th><th>funcs</th><th>mirrored</th>"
        "<th>gaps</th><th>coverage</th></tr>"
    ]
    gap_rows: list[str] = []
    for go_path in files:
        funcs = go.funcs(go_path)
        mirrored = rows_by_file.get(go_path, {})
        file_gaps = gaps_by_file.get(go_path, {})
        whole = file_gaps.get("*")
        n_gaps = len(funcs) if whole else len(file_gaps)
        if not funcs:
            continue
        link = (
            f"<a href='{_page_name(go_path)}'>{html.escape(go_path)}</a>"
            if mirrored
            else html.escape(go_path)
        )
        mods = ", ".join(sorted({r.module for r in mirrored.values()}))
        pct = 100 * len(mirrored) / len(funcs)
        table.append(
            f"<tr><td>{link}</td><td>{html.escape(mods)}</td><td class='num'>{len(funcs)}</td>"
            f"<td class='num'>{len(mirrored)}</td><td class='num'>{n_gaps}</td>"
            f"<td class='num'>{pct:.0f}%</td></tr>"
        )
        for name, gap in file_gaps.items():
            target = f"{_page_name(go_path)}#{name}" if mirrored and name != "*" else None
            shown = "(whole file)" if name == "*" else html.escape(name)
            cell = f"<a href='{target}'>{shown}</a>" if target else shown
            gap_rows.append(
                f"<tr><td>{html.escape(go_path)}</td><td>{cell}</td>"
                f"<td>{html.escape(gap.reason)}</td></tr>"
            )
    table.append("</table>")
    body = (
        "<p>Each Go file of the pinned upstream release beside its jobctl twin, function by "
        "function. Map: <code>hack/upstream_functions.txt</code>; gaps: "
        "<code>hack/mirror_gaps.txt</code>; rules: <code>hack/verify-mirror</code>.</p>"
        "<h2>Coverage per Go file</h2>" + "".join(table) + "<h2>Listed gaps</h2>"
        "<table><tr><th>Go file</th><th>func</th><th>reason</th></tr>"
        + "".join(gap_rows)
        + "</table>"
    )
    header = "<h1>jobctl ↔ upstream Go: the side-by-side mirror</h1>"
    (out / "index.html").write_text(_page("jobctl mirror", header, body), "utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description="Build the side-by-side mirror site.")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "mirror")
    args = parser.parse_args()
    problem = download_go_source()
    go = GoSource()
    missing = go.missing_root()
    if missing is not None:
        print(
            f"mirror_site: Go source not found at {missing} "
            f"({problem or 'go mod download did not bring it'})",
            file=sys.stderr,
        )
        return 1
    pages = build(args.out, go=go)
    print(f"mirror_site: {len(pages)} Go file pages in {args.out}/index.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
