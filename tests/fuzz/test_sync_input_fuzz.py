"""Fuzz ``jobctl sync``'s input: generated and mutated Job and pod YAML, and odd YAML.

The promise for input from a person: exit 0 (or 1 with ``syncError`` in the printed
report, when the sync itself returned an error) and a YAML report on stdout, or exit 2
and exactly one line on stderr. Never a traceback.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from jobctl.app import sync_command
from tests.fuzz.strategies import FUZZ, jobs, mutated, pods


def _run(job_text: str, pods_text: str | None) -> tuple[int, str, str]:
    with tempfile.TemporaryDirectory(prefix="fuzz-sync-") as tmp:
        job_path = Path(tmp) / "job.yaml"
        job_path.write_text(job_text)
        argv = ["--job", str(job_path), "--now", "2026-01-02T03:05:00Z"]
        if pods_text is not None:
            pods_path = Path(tmp) / "pods.yaml"
            pods_path.write_text(pods_text)
            argv += ["--pods", str(pods_path)]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = sync_command.main(argv)
    return code, out.getvalue(), err.getvalue()


def _check(code: int, out: str, err: str) -> None:
    assert "Traceback" not in err, err
    assert code in (0, 1, 2), (code, err)
    if code == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("jobctl sync: "), err
        return
    report = yaml.safe_load(out)
    assert isinstance(report, dict) and "status" in report, out[:500]
    assert (code == 1) == ("syncError" in report), (code, out[:500])
    if code == 1:
        # A sync error says what went wrong (an empty one is an internal assertion).
        assert isinstance(report["syncError"], str) and report["syncError"].strip(), out[:500]


def _dump(obj: Any) -> str:
    return yaml.safe_dump(obj, sort_keys=False)


# YAML that is not what the command expects, at the edges of the parser.
_odd_yaml = st.sampled_from(
    [
        "",
        "---\n---\n",
        "[" * 2000 + "]" * 2000,
        "- " * 2000 + "x",
        "a: &a [*a]",
        "kind: Job\napiVersion: batch/v1\nmetadata: {name: a}\nspec: !!binary AAAA",
        "\t:",
        "kind: Job\n" * 3,
        "{kind: Job, apiVersion: batch/v1, metadata: {name: j}, spec: {template: {}}}",
    ]
) | st.text(max_size=80)


@FUZZ
@given(mutated(jobs()), st.none() | st.lists(mutated(pods()), max_size=3))
@example(
    {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "indexed-no-completions"},
        "spec": {
            "completionMode": "Indexed",
            "parallelism": 2,
            "template": {"spec": {"containers": [{"name": "c", "image": "i"}]}},
        },
    },
    None,
)
@example(
    {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "huge-deadline"},
        "spec": {
            "activeDeadlineSeconds": 300000000000,
            "template": {"spec": {"containers": [{"name": "c", "image": "i"}]}},
        },
    },
    None,
)
def test_sync_on_generated_jobs(job: dict[str, Any], pod_list: list[dict[str, Any]] | None) -> None:
    pods_text = None if pod_list is None else _dump(pod_list)
    _check(*_run(_dump(job), pods_text))


@settings(FUZZ, max_examples=60)
@given(_odd_yaml, st.none() | _odd_yaml)
def test_sync_on_odd_yaml(job_text: str, pods_text: str | None) -> None:
    _check(*_run(job_text, pods_text))
