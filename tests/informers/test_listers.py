"""Ported tests: client-go tools/cache/listers_test.go (TestListAll), plus the typed pod
and job listers and GetPodJobs (listers/batch/v1/job_expansion.go has no upstream unit
test; its cases follow the function's documented rules).

TestListAll's object counts are scaled down 100x (100,000/1,000,000 objects become
1,000/10,000) to keep the suite fast; the Benchmark* functions are not ported.
"""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes.client import (
    V1Job,
    V1JobSpec,
    V1LabelSelector,
    V1LabelSelectorRequirement,
    V1ObjectMeta,
    V1Pod,
    V1PodTemplateSpec,
)

from jobctl.client.errors import StatusError, is_not_found
from jobctl.informers.index import (
    NAMESPACE_INDEX,
    Indexer,
    Indexers,
    meta_namespace_index_func,
)
from jobctl.informers.listers import (
    NoJobsForPodError,
    list_all,
    list_all_by_namespace,
    new_generic_lister,
    new_job_lister,
    new_pod_lister,
)
from jobctl.informers.store import Store, accessor, meta_namespace_key_func, new_indexer, new_store
from jobctl.k8s_libs.labels import Selector, everything, nothing, parse, selector_from_set


def _must_create_store(num_objects: int, num_matching: int, labels: dict[str, str]) -> Store:
    """Port of mustCreateStore: objects keyed by name, the first ``num_matching`` labelled."""
    store = new_store(lambda obj: accessor(obj).name)
    for i in range(num_objects):
        meta = V1ObjectMeta(name=f"obj-{i}", labels=labels if i < num_matching else {})
        store.add(meta)
    return store


@pytest.mark.parametrize(
    ("num_objects", "num_matching", "matching_labels", "selector", "expected_count"),
    [
        (1000, 100, {"match": "true"}, selector_from_set({"match": "true"}), 100),
        (10000, 0, {}, everything(), 10000),
        (10000, 0, {"nomatch": "true"}, selector_from_set({"match": "true"}), 0),
    ],
    ids=["subset match", "all match", "no match"],
)
def test_list_all(
    num_objects: int,
    num_matching: int,
    matching_labels: dict[str, str],
    selector: Selector,
    expected_count: int,
) -> None:
    store = _must_create_store(num_objects, num_matching, matching_labels)
    matching: list[Any] = []
    list_all(store, selector, matching.append)
    assert len(matching) == expected_count


def test_list_all_nothing_selector() -> None:
    store = _must_create_store(10, 10, {"match": "true"})
    matching: list[Any] = []
    list_all(store, nothing(), matching.append)
    assert matching == []


def _pod(name: str, namespace: str, labels: dict[str, str] | None = None) -> V1Pod:
    return V1Pod(metadata=V1ObjectMeta(name=name, namespace=namespace, labels=labels))


def _pod_indexer(*pods: V1Pod, with_namespace_index: bool = True) -> Indexer:
    indexers: Indexers = (
        {NAMESPACE_INDEX: meta_namespace_index_func} if with_namespace_index else {}
    )
    indexer = new_indexer(meta_namespace_key_func, indexers)
    for pod in pods:
        indexer.add(pod)
    return indexer


@pytest.mark.parametrize("with_namespace_index", [True, False], ids=["index", "full scan"])
def test_list_all_by_namespace(with_namespace_index: bool) -> None:
    indexer = _pod_indexer(
        _pod("a", "ns1", {"app": "x"}),
        _pod("b", "ns1", {"app": "y"}),
        _pod("c", "ns2", {"app": "x"}),
        with_namespace_index=with_namespace_index,
    )

    def names(namespace: str, selector: Selector) -> list[str]:
        got: list[Any] = []
        list_all_by_namespace(indexer, namespace, selector, got.append)
        return sorted(o.metadata.name for o in got)

    assert names("ns1", everything()) == ["a", "b"]
    assert names("ns1", parse("app=x")) == ["a"]
    assert names("", parse("app=x")) == ["a", "c"]
    assert names("ns2", nothing()) == []
    assert names("ns3", everything()) == []


def test_generic_lister() -> None:
    indexer = _pod_indexer(_pod("a", "ns1"), _pod("b", "ns2"))
    lister = new_generic_lister(indexer, "pod")
    assert sorted(o.metadata.name for o in lister.list(everything())) == ["a", "b"]
    assert lister.get("ns1/a").metadata.name == "a"
    assert [o.metadata.name for o in lister.by_namespace("ns2").list(everything())] == ["b"]
    assert lister.by_namespace("ns2").get("b").metadata.name == "b"
    with pytest.raises(StatusError) as exc:
        lister.by_namespace("ns2").get("a")
    assert is_not_found(exc.value)


def test_pod_lister() -> None:
    indexer = _pod_indexer(
        _pod("a", "ns1", {"app": "x"}), _pod("b", "ns1", {"app": "y"}), _pod("c", "ns2")
    )
    lister = new_pod_lister(indexer)
    assert sorted(p.metadata.name for p in lister.list(everything())) == ["a", "b", "c"]
    assert [p.metadata.name for p in lister.pods("ns1").list(parse("app=x"))] == ["a"]
    assert lister.pods("ns2").get("c").metadata.name == "c"
    with pytest.raises(StatusError) as exc:
        lister.pods("ns2").get("a")
    assert is_not_found(exc.value)
    assert str(exc.value) == 'pod "a" not found'


def _job(
    name: str,
    namespace: str,
    selector: V1LabelSelector | None,
) -> V1Job:
    return V1Job(
        metadata=V1ObjectMeta(name=name, namespace=namespace),
        spec=V1JobSpec(selector=selector, template=V1PodTemplateSpec()),
    )


def _job_indexer(*jobs: V1Job) -> Indexer:
    indexer = new_indexer(meta_namespace_key_func, {NAMESPACE_INDEX: meta_namespace_index_func})
    for job in jobs:
        indexer.add(job)
    return indexer


def test_job_lister() -> None:
    lister = new_job_lister(_job_indexer(_job("j1", "ns", None), _job("j2", "other", None)))
    assert sorted(j.metadata.name for j in lister.list(everything())) == ["j1", "j2"]
    assert [j.metadata.name for j in lister.jobs("ns").list(everything())] == ["j1"]
    assert lister.jobs("other").get("j2").metadata.name == "j2"
    with pytest.raises(StatusError) as exc:
        lister.jobs("ns").get("j2")
    assert is_not_found(exc.value)
    assert str(exc.value) == 'job.batch "j2" not found'


_MATCHING = V1LabelSelector(match_labels={"job-name": "j"})
_BAD = V1LabelSelector(
    match_expressions=[V1LabelSelectorRequirement(key="job-name", operator="Bogus", values=["j"])]
)
_EXPR = V1LabelSelector(
    match_expressions=[V1LabelSelectorRequirement(key="job-name", operator="In", values=["j", "k"])]
)


@pytest.mark.parametrize(
    ("jobs", "pod", "expected", "error"),
    [
        ([_job("j", "ns", _MATCHING)], _pod("p", "ns", None), [], "because it has no labels"),
        ([_job("j", "ns", _MATCHING)], _pod("p", "ns", {}), [], "because it has no labels"),
        ([_job("j", "ns", _MATCHING)], _pod("p", "ns", {"job-name": "j"}), ["j"], None),
        (
            [_job("j", "ns", _MATCHING), _job("k", "ns", _EXPR)],
            _pod("p", "ns", {"job-name": "j"}),
            ["j", "k"],
            None,
        ),
        (
            [_job("j", "other", _MATCHING)],
            _pod("p", "ns", {"job-name": "j"}),
            [],
            "could not find jobs for pod p in namespace ns with labels: map[job-name:j]",
        ),
        (
            [_job("bad", "ns", _BAD), _job("j", "ns", _MATCHING)],
            _pod("p", "ns", {"job-name": "j"}),
            ["j"],
            None,
        ),
        (
            [_job("nil-selector", "ns", None)],
            _pod("p", "ns", {"job-name": "j"}),
            [],
            "could not find jobs",
        ),
        (
            [_job("empty-selector", "ns", V1LabelSelector())],
            _pod("p", "ns", {"job-name": "j"}),
            ["empty-selector"],
            None,
        ),
    ],
    ids=[
        "pod without labels",
        "pod with empty labels",
        "one matching job",
        "several matching jobs",
        "matching job in another namespace",
        "invalid selector skipped",
        "nil selector matches nothing",
        "empty selector matches everything",
    ],
)
def test_get_pod_jobs(
    jobs: list[V1Job], pod: V1Pod, expected: list[str], error: str | None
) -> None:
    lister = new_job_lister(_job_indexer(*jobs))
    if error is not None:
        with pytest.raises(NoJobsForPodError, match=error.replace("[", r"\[").replace("]", r"\]")):
            lister.get_pod_jobs(pod)
        return
    got = lister.get_pod_jobs(pod)
    assert sorted(j.metadata.name for j in got) == expected
    # Copies, like Go's struct values: replacing a field does not touch the cache.
    got[0].status = None
    cached = lister.jobs("ns").get(got[0].metadata.name)
    assert cached is not got[0]
