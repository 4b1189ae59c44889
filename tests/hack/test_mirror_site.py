"""``make mirror``: every mirrored function appears with its Go source and its Python twin."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from hack.mirror_lib import GoSource, load_gaps, load_map
from hack.mirror_site import _page_name, build

_GO = GoSource()
pytestmark = pytest.mark.skipif(
    _GO.missing_root() is not None,
    reason=f"pinned Go source not in the Go module cache ({_GO.missing_root()}); "
    "hack/build-control-plane.sh downloads it",
)

_SECTION = re.compile(r"<section class='pair' id='([^']+)'>(.*?)</section>", re.S)


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    out = tmp_path_factory.mktemp("mirror")
    return out, build(out, go=_GO)


def test_every_mirrored_function_has_both_sides(site: tuple[Path, list[str]]) -> None:
    tmp_path, pages = site
    rows = load_map()
    assert sorted(pages) == sorted({r.go_path for r in rows})
    sections: dict[str, dict[str, str]] = {}
    for go_path in pages:
        page = (tmp_path / _page_name(go_path)).read_text("utf-8")
        sections[go_path] = dict(_SECTION.findall(page))
    for row in rows:
        section = sections[row.go_path].get(row.go_func)
        assert section is not None, f"{row.go_path} {row.go_func}: no section"
        go_side, _, py_side = section.partition(f"data-py='{row.module}.{row.py_name}'")
        assert py_side, f"{row.go_func}: no Python twin {row.module}.{row.py_name}"
        assert f"data-go='{row.go_func}'" in go_side
        method = row.go_func.rsplit(".", 1)[-1]
        assert re.search(rf"func\b[^\n]*\b{method}\b", _text(go_side)), row.go_func
        name = row.py_name.rsplit(".", 1)[-1]
        assert re.search(rf"(?<![A-Za-z_])(def|class) {name}\b", _text(py_side)), row.py_name


def test_index_lists_coverage_and_every_gap_reason(site: tuple[Path, list[str]]) -> None:
    tmp_path, _ = site
    index = html.unescape((tmp_path / "index.html").read_text("utf-8"))
    for gap in load_gaps():
        assert gap.reason in index, gap
    assert f"href='{_page_name('kubernetes/pkg/controller/job/job_controller.go')}'" in index


def test_sync_job_links_its_twin_and_a_covering_test(site: tuple[Path, list[str]]) -> None:
    tmp_path, _ = site
    go_path = "kubernetes/pkg/controller/job/job_controller.go"
    page = (tmp_path / _page_name(go_path)).read_text("utf-8")
    section = dict(_SECTION.findall(page))["Controller.syncJob"]
    assert "href='#py-jobctl.job.job_controller.Controller.sync_job'" in section
    links = re.findall(r"href='([^'#]+\.py\.html)#L-(\d+)'[^>]*>(test_\w+)<", section)
    assert any(name == "test_controller_sync_job" for _, _, name in links), links
    test_page, line, _ = links[0]
    assert f'id="L-{line}"' in (tmp_path / test_page).read_text("utf-8") or (
        f'name="L-{line}"' in (tmp_path / test_page).read_text("utf-8")
    )
