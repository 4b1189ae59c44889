"""A pod control wrapper for offline syncs: pod names, patch targets and KCM's events.

``FakePodControl`` (upstream's) records templates, deleted names and raw patch bytes,
and records no event. ``RecordingPodControl`` wraps any pod control and adds what a
person reading a sync wants to see:

* every patch with the pod it went to (``patched``);
* every created pod with the name the API server would give it (``created``): the
  prefix ``RealPodControl`` uses (the explicit generateName, or getPodsPrefix of the
  owner's name) plus five random characters, as apiserver's SimpleNameGenerator does;
* with a recorder, the events ``RealPodControl`` records through it: SuccessfulCreate
  "Created pod: <name>" / FailedCreate "Error creating: <err>" and SuccessfulDelete
  "Deleted pod: <name>" / FailedDelete "Error deleting: <err>" (none for a pod already
  gone, as upstream).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Any

from kubernetes.client import V1OwnerReference, V1PodTemplateSpec

from jobctl.client.errors import NAMESPACE_TERMINATING_CAUSE, has_status_cause, is_not_found
from jobctl.controller.controller_utils import (
    FAILED_CREATE_POD_REASON,
    FAILED_DELETE_POD_REASON,
    SUCCESSFUL_CREATE_POD_REASON,
    SUCCESSFUL_DELETE_POD_REASON,
    PodControlInterface,
    get_pod_from_template,
)
from jobctl.k8s_libs.api import EVENT_TYPE_NORMAL, EVENT_TYPE_WARNING
from jobctl.testing.builders import RAND_ALPHABET

# apiserver's names.SimpleNameGenerator: at most 63 - 5 characters of prefix, then five
# characters of the util/rand alphabet.
_MAX_GENERATED_NAME_LENGTH = 58
_RANDOM_LENGTH = 5


@dataclass(frozen=True)
class PodPatch:
    """One pod patch: the pod it went to and the raw strategic merge patch bytes."""

    namespace: str
    name: str
    data: bytes


@dataclass(frozen=True)
class CreatedPod:
    """One pod creation: its name as the API server would make it, and its template."""

    namespace: str
    name: str
    generate_name: str
    template: V1PodTemplateSpec


def generate_name(base: str, rng: random.Random) -> str:
    """Port of SimpleNameGenerator.GenerateName with an injected random source."""
    if len(base) > _MAX_GENERATED_NAME_LENGTH:
        base = base[:_MAX_GENERATED_NAME_LENGTH]
    return base + "".join(rng.choice(RAND_ALPHABET) for _ in range(_RANDOM_LENGTH))


class RecordingPodControl:
    """Wraps a pod control (see the module docstring); the wrapped one still records.

    ``recorder`` None records no event. ``seed`` makes the generated names repeatable.
    """

    def __init__(
        self,
        inner: PodControlInterface,
        recorder: Any = None,
        seed: str | int | None = None,
    ) -> None:
        self.inner = inner
        self.recorder = recorder
        self.lock = threading.Lock()
        self.patched: list[PodPatch] = []
        self.created: list[CreatedPod] = []
        self.deleted: list[tuple[str, str]] = []
        self._seed = seed
        # One random source per prefix: the names do not depend on which creating
        # thread runs first.
        self._rngs: dict[str, random.Random] = {}

    def create_pods(
        self,
        namespace: str,
        template: V1PodTemplateSpec,
        controller_object: Any,
        controller_ref: V1OwnerReference | None,
    ) -> None:
        """``create_pods`` of the wrapped control, then the create event."""
        self.create_pods_with_generate_name(
            namespace, template, controller_object, controller_ref, ""
        )

    def create_pods_with_generate_name(
        self,
        namespace: str,
        template: V1PodTemplateSpec,
        controller_object: Any,
        controller_ref: V1OwnerReference | None,
        generate_name_: str,
    ) -> None:
        """``create_pods_with_generate_name`` of the wrapped control, then the event."""
        try:
            self.inner.create_pods_with_generate_name(
                namespace, template, controller_object, controller_ref, generate_name_
            )
        except Exception as err:
            if not has_status_cause(err, NAMESPACE_TERMINATING_CAUSE):
                self._event(
                    controller_object,
                    EVENT_TYPE_WARNING,
                    FAILED_CREATE_POD_REASON,
                    "Error creating: %v",
                    err,
                )
            raise
        prefix = generate_name_ or _template_prefix(template, controller_object)
        with self.lock:
            rng = self._rngs.get(prefix)
            if rng is None:
                rng = random.Random(None if self._seed is None else f"{self._seed}/{prefix}")
                self._rngs[prefix] = rng
            name = generate_name(prefix, rng)
            self.created.append(CreatedPod(namespace, name, prefix, template))
        self._event(
            controller_object,
            EVENT_TYPE_NORMAL,
            SUCCESSFUL_CREATE_POD_REASON,
            "Created pod: %v",
            name,
        )

    def delete_pod(self, namespace: str, pod_id: str, obj: Any) -> None:
        """``delete_pod`` of the wrapped control, then the delete event."""
        try:
            self.inner.delete_pod(namespace, pod_id, obj)
        except Exception as err:
            if not is_not_found(err):
                self._event(
                    obj, EVENT_TYPE_WARNING, FAILED_DELETE_POD_REASON, "Error deleting: %v", err
                )
            raise
        with self.lock:
            self.deleted.append((namespace, pod_id))
        self._event(obj, EVENT_TYPE_NORMAL, SUCCESSFUL_DELETE_POD_REASON, "Deleted pod: %v", pod_id)

    def patch_pod(self, namespace: str, name: str, data: bytes) -> None:
        """``patch_pod`` of the wrapped control, remembering which pod it went to."""
        with self.lock:
            self.patched.append(PodPatch(namespace, name, bytes(data)))
        self.inner.patch_pod(namespace, name, data)

    def _event(self, obj: Any, event_type: str, reason: str, fmt: str, arg: Any) -> None:
        if self.recorder is not None:
            self.recorder.eventf(obj, event_type, reason, fmt, arg)


def _template_prefix(template: V1PodTemplateSpec, controller_object: Any) -> str:
    """The generateName ``RealPodControl`` gives a pod made from ``template``."""
    pod = get_pod_from_template(template, controller_object, None)
    return (pod.metadata.generate_name if pod.metadata is not None else None) or ""
