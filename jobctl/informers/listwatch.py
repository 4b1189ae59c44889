"""Port of client-go tools/cache/listwatch.go: the list and watch contracts of a reflector.

Go's ``context.Context`` variants (``ListerWithContext``, ``ListWithContextFunc``, the
``To...WithContext`` adapters) collapse into the plain ones: jobctl drops contexts, and a
watch is ended by calling its ``stop``. ``new_list_watch_from_client`` is built on a
jobctl typed resource client (``clientset.core_v1().pods(namespace)``) instead of a REST
``Getter`` plus resource name and namespace, which that client already carries.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from jobctl.client.interface import ListOptions, ObjectList, WatchInterface


class Lister(Protocol):
    """Port of Lister: performs the initial (possibly paginated) list."""

    def list(self, options: ListOptions) -> ObjectList[Any]:
        """List with ``options``; the result's resource version seeds the watch."""
        ...


class Watcher(Protocol):
    """Port of Watcher: starts a watch at a resource version."""

    def watch(self, options: ListOptions) -> WatchInterface:
        """Start a watch; on error, clean up and raise (the caller then ignores it)."""
        ...


class ListerWatcher(Lister, Watcher, Protocol):
    """Port of ListerWatcher: both of the above."""


class _ResourceClient(Protocol):
    """What new_filtered_list_watch_from_client needs from a typed resource client."""

    def list(self, options: ListOptions | None = None) -> ObjectList[Any]: ...

    def watch(self, options: ListOptions | None = None) -> WatchInterface: ...


class ListWatcherWithWatchListSemanticsWrapper:
    """Port of listWatcherWithWatchListSemanticsWrapper: a ListWatch that knows whether
    its client explicitly lacks watch-list (streaming list) support."""

    def __init__(self, lw: ListWatch, unsupported_watch_list_semantics: bool) -> None:
        self.list_watch = lw
        self.unsupported_watch_list_semantics = unsupported_watch_list_semantics

    def list(self, options: ListOptions) -> ObjectList[Any]:
        """Delegate to the wrapped ListWatch."""
        return self.list_watch.list(options)

    def watch(self, options: ListOptions) -> WatchInterface:
        """Delegate to the wrapped ListWatch."""
        return self.list_watch.watch(options)

    def is_watch_list_semantics_unsupported(self) -> bool:
        """Port of IsWatchListSemanticsUnSupported (listwatch.go)."""
        return self.unsupported_watch_list_semantics


def does_client_not_support_watch_list_semantics(client: object) -> bool:
    """Port of watchlist.DoesClientNotSupportWatchListSemantics (client-go util/watchlist).

    True only when ``client`` has ``is_watch_list_semantics_unsupported`` returning True.
    """
    check = getattr(client, "is_watch_list_semantics_unsupported", None)
    if check is None:
        return False
    return bool(check())


def to_list_watcher_with_watch_list_semantics(lw: ListWatch, client: object) -> ListerWatcher:
    """Port of ToListWatcherWithWatchListSemantics: record the client's watch-list support.

    Go twin: ToListWatcherWithWatchListSemantics (listwatch.go).
    """
    return ListWatcherWithWatchListSemanticsWrapper(
        lw, does_client_not_support_watch_list_semantics(client)
    )


# Port of ListFunc and WatchFunc.
ListFunc = Callable[[ListOptions], ObjectList[Any]]
WatchFunc = Callable[[ListOptions], WatchInterface]


@dataclass
class ListWatch:
    """Port of ListWatch: a ListerWatcher made of two functions."""

    list_func: ListFunc | None = None
    watch_func: WatchFunc | None = None
    # Asks the reflector not to paginate; kept for parity with Go.
    disable_chunking: bool = False

    def list(self, options: ListOptions) -> ObjectList[Any]:
        """Port of ListWatch.List; pagination is the reflector's job, not done here.

        Go twin: ListWatch.List (listwatch.go).
        """
        if self.list_func is None:
            raise RuntimeError("ListWatch has no list_func")
        return self.list_func(options)

    def watch(self, options: ListOptions) -> WatchInterface:
        """Port of ListWatch.Watch (listwatch.go)."""
        if self.watch_func is None:
            raise RuntimeError("ListWatch has no watch_func")
        return self.watch_func(options)


def new_list_watch_from_client(client: _ResourceClient, field_selector: str = "") -> ListWatch:
    """Port of NewListWatchFromClient: list/watch one resource, filtered by a field selector.

    Go twin: NewListWatchFromClient (listwatch.go).
    """

    def options_modifier(options: ListOptions) -> None:
        options.field_selector = field_selector

    return new_filtered_list_watch_from_client(client, options_modifier)


def new_filtered_list_watch_from_client(
    client: _ResourceClient,
    options_modifier: Callable[[ListOptions], None] | None = None,
) -> ListWatch:
    """Port of NewFilteredListWatchFromClient (listwatch.go): list/watch through ``client``.

    ``options_modifier`` (Go's tweak function) edits a copy of the options of every list
    and watch call; the caller's ``ListOptions`` are never changed.
    """

    def list_func(options: ListOptions) -> ObjectList[Any]:
        opts = dataclasses.replace(options)
        if options_modifier is not None:
            options_modifier(opts)
        return client.list(opts)

    def watch_func(options: ListOptions) -> WatchInterface:
        opts = dataclasses.replace(options)
        if options_modifier is not None:
            options_modifier(opts)
        return client.watch(opts)

    return ListWatch(list_func=list_func, watch_func=watch_func)
