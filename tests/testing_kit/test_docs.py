"""docs/TESTING.md's examples, run as they are written, so the page cannot rot.

Each ``python`` block of the page is a test file: they are written to a fresh directory
and run by pytest in a subprocess that loads the plugin through its ``pytest11`` entry
point, as a user's test run would.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "TESTING.md"
_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def code_blocks(text: str, language: str) -> list[str]:
    """The bodies of the fenced blocks of ``language``, in order."""
    return [body for lang, body in _BLOCK.findall(text) if lang == language]


def test_code_blocks_are_found() -> None:
    text = "x\n```python\na = 1\n```\n```console\nls\n```\n```python\nb = 2\n```\n"
    assert code_blocks(text, "python") == ["a = 1\n", "b = 2\n"]


def test_the_doc_examples_pass(tmp_path: Path) -> None:
    blocks = code_blocks(DOC.read_text(encoding="utf-8"), "python")
    assert len(blocks) >= 5
    tests = 0
    for i, body in enumerate(blocks):
        (tmp_path / f"test_doc_{i:02d}.py").write_text(body, encoding="utf-8")
        tests += len(re.findall(r"^def test_", body, re.MULTILINE))
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n", encoding="utf-8"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert f"{tests} passed" in proc.stdout, proc.stdout[-2000:]


def test_the_first_test_is_about_ten_lines() -> None:
    """The page's promise: the first sync-path test is about ten lines."""
    first = code_blocks(DOC.read_text(encoding="utf-8"), "python")[0]
    assert "def test_a_failed_pod_is_replaced(job_harness)" in first
    assert len([line for line in first.splitlines() if line.strip()]) <= 12
