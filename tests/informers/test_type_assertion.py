"""jobctl.informers.type_assertion: the memoised Protocol check answers as isinstance does."""

from __future__ import annotations

from typing import Any

from jobctl.informers import type_assertion
from jobctl.informers.store import TransactionStore, meta_namespace_key_func, new_indexer
from jobctl.informers.thread_safe_store import ThreadSafeStoreWithTransaction


class _PlainStore:
    """A store without transaction support."""

    def add(self, obj: Any) -> None: ...


def test_answers_match_isinstance_for_both_kinds_of_store() -> None:
    indexer = new_indexer(meta_namespace_key_func, {})
    storage: Any = getattr(indexer, "_cache_storage")  # noqa: B009
    plain = _PlainStore()
    for obj, proto in [
        (indexer, TransactionStore),
        (storage, ThreadSafeStoreWithTransaction),
        (plain, TransactionStore),
        (plain, ThreadSafeStoreWithTransaction),
    ]:
        want = isinstance(obj, proto)
        assert type_assertion.implements(obj, proto) is want
        # The second answer comes from the memo and is the same.
        assert type_assertion._answers[(type(obj), proto)] is want
        assert type_assertion.implements(obj, proto) is want
    assert type_assertion.implements(indexer, TransactionStore)
    assert not type_assertion.implements(plain, TransactionStore)
