"""jobctl side by side with upstream kube-controller-manager (hack/compare.py).

Every scenario of hack/compare_scenarios.yaml runs under both controllers at once on a
control plane of its own (the upstream Job controller would otherwise act on the other
tests' Jobs); any difference not listed in hack/compare_deviations.yaml fails the test.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest

from jobctl.testing.control_plane import REPO_ROOT, ControlPlane, find_assets


def _load_compare() -> ModuleType:
    """hack/ is not an installed package; load the harness from its file."""
    name = "hack.compare"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "hack" / "compare.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def compare_control_plane() -> Iterator[ControlPlane]:
    cp = ControlPlane(find_assets(with_kcm=True))
    try:
        cp.start()
        yield cp
    finally:
        cp.stop()


def test_jobctl_matches_upstream_kube_controller_manager(
    compare_control_plane: ControlPlane,
) -> None:
    compare = _load_compare()
    scenarios = compare.load_scenarios()
    results = compare.run_comparison(compare_control_plane, scenarios)
    unexplained, lines = compare.report(results, compare.load_deviations())
    text = "\n".join(lines)
    print(text)
    assert set(results) == {s["name"] for s in scenarios}
    unfinished = [
        f"{name}/{label}"
        for name, observations in results.items()
        for label, observation in observations.items()
        if not observation.finished
    ]
    assert not unfinished, f"scenarios that never finished: {unfinished}\n{text}"
    assert unexplained == 0, f"{unexplained} scenario(s) differ from upstream:\n{text}"
