"""The rules of hack/verify-mirror on small synthetic Go and Python inputs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hack.mirror_check import check
from hack.mirror_lib import GapRow, GoSource, MapRow, PySource, scan_go

GO = """package demo

// first is declared first.
func first() int {
	if x := map[string]struct{}{}; len(x) == 0 {
		return 1
	}
	return 0
}

func (d *demo[T]) second(s string) string { return s + "}" }

/* a block comment with func third() { inside */
func third(
	a interface{},
	b string,
) {
	_ = `raw {`
}
"""

GOOD_PY = '''
def first() -> int:
    """Port of first (demo.go)."""
    return 1


class Demo:
    def second(self, s: str) -> str:
        """Port of demo.second (demo.go)."""
        return s


def third() -> None:
    """Port of third (demo.go): a twin with a reason to exist."""
'''

ROWS = [
    MapRow("mod/demo.go", "first", "pkg.demo", "first", 1),
    MapRow("mod/demo.go", "demo.second", "pkg.demo", "Demo.second", 2),
    MapRow("mod/demo.go", "third", "pkg.demo", "third", 3),
]


def _sources(tmp_path: Path, py_text: str, go_text: str = GO) -> tuple[GoSource, PySource]:
    (tmp_path / "go").mkdir()
    (tmp_path / "go" / "demo.go").write_text(go_text)
    (tmp_path / "py" / "pkg").mkdir(parents=True)
    (tmp_path / "py" / "pkg" / "demo.py").write_text(py_text)
    return GoSource({"mod": tmp_path / "go"}), PySource(tmp_path / "py")


def _check(tmp_path: Path, py_text: str, rows: list[MapRow] = ROWS) -> list[str]:
    go, py = _sources(tmp_path, py_text)
    return check(rows, [], go, py, scope=("mod/",))


def test_scan_go_finds_every_declaration_with_its_extent() -> None:
    funcs = scan_go(GO)
    assert [(f.name, f.doc_line, f.decl_line, f.end_line) for f in funcs] == [
        ("first", 3, 4, 9),
        ("demo.second", 11, 11, 11),
        ("third", 14, 14, 19),
    ]


def test_a_faithful_mirror_passes(tmp_path: Path) -> None:
    assert _check(tmp_path, GOOD_PY) == []


def test_out_of_go_order_definitions_fail(tmp_path: Path) -> None:
    swapped = (
        GOOD_PY.replace(
            'def first() -> int:\n    """Port of first (demo.go)."""\n    return 1\n', ""
        )
        + '\n\ndef first() -> int:\n    """Port of first (demo.go)."""\n    return 1\n'
    )
    problems = _check(tmp_path, swapped)
    assert len(problems) == 1
    assert problems[0].startswith("pkg/demo.py:")
    assert "first (demo.go:4 first) comes after third (demo.go:14 third)" in problems[0]


def test_order_is_per_container(tmp_path: Path) -> None:
    """A class body and the module level are ordered separately (methods then functions)."""
    methods_first = (
        "class Demo:\n    def second(self, s: str) -> str:\n"
        '        """Port of demo.second (demo.go)."""\n        return s\n\n\n'
        'def first() -> int:\n    """Port of first (demo.go)."""\n    return 1\n\n\n'
        'def third() -> None:\n    """Port of third (demo.go)."""\n'
    )
    assert _check(tmp_path, methods_first) == []


@pytest.mark.parametrize(
    ("docstring", "missing"),
    [
        ("Port of demo.second.", "demo.go"),
        ("Port of the next helper (demo.go).", "second"),
        ("Port of demo.secondary (demo.go).", "second"),
        ("Port of demo.second (other_demo.go).", "demo.go"),
        ("", "demo.go and second"),
    ],
)
def test_docstring_must_name_go_file_and_function(
    tmp_path: Path, docstring: str, missing: str
) -> None:
    text = GOOD_PY.replace("Port of demo.second (demo.go).", docstring)
    problems = _check(tmp_path, text)
    assert problems == [f"pkg/demo.py:8: Demo.second: docstring does not name {missing}"]


def test_unlisted_go_function_fails_and_a_gap_with_reason_covers_it(tmp_path: Path) -> None:
    rows = ROWS[:2]
    problems = _check(tmp_path, GOOD_PY, rows=rows)
    assert problems == ["mod/demo.go:14: third is neither mirrored nor a listed gap"]
    gap = GapRow("mod/demo.go", "third", "not needed here", 1)
    assert check(rows, [gap], *_reuse(tmp_path), scope=("mod/",)) == []
    no_reason = GapRow("mod/demo.go", "third", "", 1)
    assert check(rows, [no_reason], *_reuse(tmp_path), scope=("mod/",)) == [
        "hack/mirror_gaps.txt:1: gap mod/demo.go third has no reason"
    ]


def _reuse(tmp_path: Path) -> tuple[GoSource, PySource]:
    return GoSource({"mod": tmp_path / "go"}), PySource(tmp_path / "py")


def test_stale_rows_fail(tmp_path: Path) -> None:
    rows = [
        *ROWS,
        MapRow("mod/demo.go", "fourth", "pkg.demo", "third", 4),
        MapRow("mod/demo.go", "first", "pkg.demo", "first", 5),
        MapRow("mod/gone.go", "x", "pkg.gone", "x", 6),
    ]
    problems = _check(tmp_path, GOOD_PY, rows=rows)
    assert problems == [
        "hack/upstream_functions.txt:4: pkg.demo.third already twins third (line 3); "
        "one Python definition per Go function",
        "hack/upstream_functions.txt:4: mod/demo.go has no func fourth",
        "hack/upstream_functions.txt:5: mod/demo.go first is listed twice",
        "hack/upstream_functions.txt:6: no Go file mod/gone.go",
        "hack/upstream_functions.txt:6: no Python module pkg.gone",
    ]


def test_verify_mirror_without_go_source_says_so_in_one_line(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[2] / "hack" / "verify-mirror"
    # No Go toolchain on PATH: the pinned source can be neither found nor fetched.
    env = {**os.environ, "GOMODCACHE": str(tmp_path / "absent"), "PATH": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("verify-mirror: Go source not found at ")
    assert "(the Go toolchain (go) is not on PATH" in done.stderr
    assert done.stderr.count("\n") == 1
