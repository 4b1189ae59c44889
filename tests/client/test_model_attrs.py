"""jobctl.client.model_attrs: the kubernetes models read attributes without pydantic's
``__getattr__`` fallback; every other pydantic model keeps it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pytest
from kubernetes.client import V1ObjectMeta, V1Pod, V1PodStatus
from pydantic import BaseModel, ConfigDict, PrivateAttr

import jobctl  # noqa: F401  (installs model_attrs)
from jobctl.client import model_attrs


def _defines_getattr(cls: type) -> list[str]:
    return [k.__qualname__ for k in cls.__mro__ if "__getattr__" in k.__dict__]


@pytest.mark.parametrize("cls", [V1Pod, V1ObjectMeta, V1PodStatus])
def test_kubernetes_models_have_no_getattr_hook(cls: type[BaseModel]) -> None:
    assert model_attrs.installed()
    assert model_attrs.uses_plain_reads(cls)
    assert _defines_getattr(cls) == []


def test_kubernetes_model_reads_and_misses_behave_as_before() -> None:
    pod = V1Pod(metadata=V1ObjectMeta(name="p", namespace="ns"), status=V1PodStatus())
    assert pod.metadata is not None and pod.metadata.name == "p"
    assert pod.status is not None and pod.status.phase is None
    assert not hasattr(pod, "no_such_field")
    with pytest.raises(AttributeError, match="'V1Pod' object has no attribute 'no_such_field'"):
        _ = pod.no_such_field
    assert getattr(pod, "no_such_field", "fallback") == "fallback"


def test_other_models_keep_private_attributes_and_extras() -> None:
    class WithPrivate(BaseModel):
        x: int = 1
        _secret: int = PrivateAttr(default=7)

    class WithExtras(BaseModel):
        model_config = ConfigDict(extra="allow")

    private = WithPrivate()
    assert private._secret == 7
    extras: Any = WithExtras.model_validate({"y": 3})
    assert extras.y == 3
    assert "__getattr__" in WithPrivate.__dict__ and "__getattr__" in WithExtras.__dict__
    with pytest.raises(AttributeError):
        _ = extras.z


def test_subclass_of_a_kubernetes_model_outside_the_client_keeps_the_hook() -> None:
    class AnnotatedPod(V1Pod):  # type: ignore[misc]
        _note: str = PrivateAttr(default="hello")

    assert not model_attrs.uses_plain_reads(AnnotatedPod)
    assert AnnotatedPod()._note == "hello"


def test_own_getattr_is_left_alone() -> None:
    class Dynamic(BaseModel):
        def __getattr__(self, item: str) -> Any:
            return f"dynamic {item}"

    assert Dynamic().anything == "dynamic anything"


def test_install_is_idempotent() -> None:
    assert model_attrs.install() is True
    assert model_attrs.install() is True
    assert "__getattr__" not in BaseModel.__dict__


def test_models_defined_before_install_keep_the_hook() -> None:
    """A fresh interpreter: a model with a private attribute defined before jobctl is
    imported still reads it afterwards, and the kubernetes models lose the hook."""
    code = textwrap.dedent(
        """
        from pydantic import BaseModel, PrivateAttr
        from kubernetes.client import V1Pod

        class Early(BaseModel):
            _p: int = PrivateAttr(default=5)

        assert "__getattr__" in BaseModel.__dict__
        import jobctl
        assert "__getattr__" not in BaseModel.__dict__
        assert Early()._p == 5, "early model lost its hook"
        assert not any("__getattr__" in k.__dict__ for k in V1Pod.__mro__)
        print("ok")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
