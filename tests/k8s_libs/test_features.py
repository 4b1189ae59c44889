"""Tests of jobctl.k8s_libs.features.

Ports a selection of k8s.io/component-base/featuregate/feature_gate_test.go and
featuregate/testing/feature_gate_test.go, plus checks of the mirrored Job gates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest

from jobctl.k8s_libs import features
from jobctl.k8s_libs.features import (
    ALPHA,
    BETA,
    DEFAULT_FEATURE_GATE,
    DEPRECATED,
    GA,
    FeatureGate,
    FeatureSpec,
    Version,
    feature_spec_at_emulation_and_min_compat_version,
    new_default_feature_gate,
    set_feature_gate_during_test,
    set_feature_gate_emulation_version_during_test,
    set_feature_gates_during_test,
)

TEST_ALPHA = "TestAlpha"
TEST_BETA = "TestBeta"
TEST_DEPRECATED = "TestDeprecated"
TEST_LOCKED_FALSE = "TestLockedFalse"
TEST_LOCKED_TRUE = "TestLockedTrue"


def _expect(gate: FeatureGate, want: Mapping[str, bool]) -> None:
    got = {name: gate.enabled(name) for name in want}
    assert got == dict(want)


def _flag_gate() -> FeatureGate:
    gate = FeatureGate()
    gate.add(
        {
            TEST_ALPHA: FeatureSpec(default=False, pre_release=ALPHA),
            TEST_BETA: FeatureSpec(default=False, pre_release=BETA),
            TEST_DEPRECATED: FeatureSpec(default=False, pre_release=DEPRECATED),
            TEST_LOCKED_FALSE: FeatureSpec(default=False, pre_release=GA, lock_to_default=True),
        }
    )
    return gate


def _state(
    all_alpha: bool = False,
    all_beta: bool = False,
    alpha: bool = False,
    beta: bool = False,
    deprecated: bool = False,
) -> dict[str, bool]:
    return {
        "AllAlpha": all_alpha,
        "AllBeta": all_beta,
        TEST_ALPHA: alpha,
        TEST_BETA: beta,
        TEST_DEPRECATED: deprecated,
        TEST_LOCKED_FALSE: False,
    }


@pytest.mark.parametrize(
    ("arg", "expect", "parse_error"),
    [
        pytest.param("", _state(), "", id="empty"),
        pytest.param("TestDeprecated=true", _state(deprecated=True), "", id="TestDeprecated=true"),
        pytest.param(
            "TestLockedFalse=true",
            _state(),
            "cannot set feature gate TestLockedFalse to true, feature is locked to false",
            id="TestLockedFalse=true",
        ),
        pytest.param(
            "fooBarBaz=true", _state(), "unrecognized feature gate: fooBarBaz", id="fooBarBaz=true"
        ),
        pytest.param("AllAlpha=false", _state(), "", id="AllAlpha=false"),
        pytest.param("AllAlpha=true", _state(all_alpha=True, alpha=True), "", id="AllAlpha=true"),
        pytest.param(
            "AllAlpha=banana", _state(), "invalid value of AllAlpha", id="AllAlpha=banana"
        ),
        pytest.param(
            "AllAlpha=false,TestAlpha=true",
            _state(alpha=True),
            "",
            id="AllAlpha=false,TestAlpha=true",
        ),
        pytest.param(
            "TestAlpha=true,AllAlpha=false",
            _state(alpha=True),
            "",
            id="TestAlpha=true,AllAlpha=false",
        ),
        pytest.param(
            "AllAlpha=true,TestAlpha=false",
            _state(all_alpha=True),
            "",
            id="AllAlpha=true,TestAlpha=false",
        ),
        pytest.param(
            "TestAlpha=false,AllAlpha=true",
            _state(all_alpha=True),
            "",
            id="TestAlpha=false,AllAlpha=true",
        ),
        pytest.param(
            "TestBeta=true,AllAlpha=false", _state(beta=True), "", id="TestBeta=true,AllAlpha=false"
        ),
        pytest.param("AllBeta=false", _state(), "", id="AllBeta=false"),
        pytest.param("AllBeta=true", _state(all_beta=True, beta=True), "", id="AllBeta=true"),
        pytest.param("AllBeta=banana", _state(), "invalid value of AllBeta", id="AllBeta=banana"),
        pytest.param(
            "AllBeta=false,TestBeta=true", _state(beta=True), "", id="AllBeta=false,TestBeta=true"
        ),
        pytest.param(
            "TestBeta=true,AllBeta=false", _state(beta=True), "", id="TestBeta=true,AllBeta=false"
        ),
        pytest.param(
            "AllBeta=true,TestBeta=false",
            _state(all_beta=True),
            "",
            id="AllBeta=true,TestBeta=false",
        ),
        pytest.param(
            "TestBeta=false,AllBeta=true",
            _state(all_beta=True),
            "",
            id="TestBeta=false,AllBeta=true",
        ),
        pytest.param(
            "TestAlpha=true,AllBeta=false",
            _state(alpha=True),
            "",
            id="TestAlpha=true,AllBeta=false",
        ),
    ],
)
def test_feature_gate_flag(arg: str, expect: dict[str, bool], parse_error: str) -> None:
    gate = _flag_gate()
    if parse_error:
        with pytest.raises(ValueError, match=parse_error):
            gate.set(arg)
    else:
        gate.set(arg)
    _expect(gate, expect)


def test_feature_gate_override() -> None:
    gate = FeatureGate()
    gate.add(
        {
            TEST_ALPHA: FeatureSpec(default=False, pre_release=ALPHA),
            TEST_BETA: FeatureSpec(default=False, pre_release=BETA),
        }
    )
    gate.set("TestAlpha=true,TestBeta=true")
    assert gate.validate() == []
    _expect(gate, {TEST_ALPHA: True, TEST_BETA: True})
    gate.set("TestAlpha=false")
    assert gate.validate() == []
    _expect(gate, {TEST_ALPHA: False, TEST_BETA: True})


def test_feature_gate_flag_defaults() -> None:
    gate = FeatureGate()
    gate.add(
        {
            TEST_ALPHA: FeatureSpec(default=False, pre_release=ALPHA),
            TEST_BETA: FeatureSpec(default=True, pre_release=BETA),
        }
    )
    _expect(gate, {TEST_ALPHA: False, TEST_BETA: True})


def test_feature_gate_known_features() -> None:
    gate = FeatureGate()
    gate.add(
        {
            TEST_ALPHA: FeatureSpec(default=False, pre_release=ALPHA),
            TEST_BETA: FeatureSpec(default=True, pre_release=BETA),
            "TestGA": FeatureSpec(default=True, pre_release=GA),
            TEST_DEPRECATED: FeatureSpec(default=False, pre_release=DEPRECATED),
        }
    )
    known = " ".join(gate.known_features())
    assert TEST_ALPHA in known
    assert TEST_BETA in known
    assert "TestGA" not in known
    assert TEST_DEPRECATED not in known
    assert "TestBeta=true|false (BETA - default=true)" in gate.known_features()
    assert set(gate.known()) == {
        "AllAlpha",
        "AllBeta",
        TEST_ALPHA,
        TEST_BETA,
        "TestGA",
        TEST_DEPRECATED,
    }


@pytest.mark.parametrize(
    ("setmap", "expect", "setmap_error"),
    [
        pytest.param(
            {"TestAlpha": True, "TestBeta": True},
            {TEST_ALPHA: True, TEST_BETA: True},
            "",
            id="set TestAlpha and TestBeta true",
        ),
        pytest.param(
            {"TestBeta": True}, {TEST_ALPHA: False, TEST_BETA: True}, "", id="set TestBeta true"
        ),
        pytest.param(
            {"TestAlpha": False},
            {TEST_ALPHA: False, TEST_BETA: False},
            "",
            id="set TestAlpha false",
        ),
        pytest.param(
            {"TestInvalid": True},
            {TEST_ALPHA: False, TEST_BETA: False},
            "unrecognized feature gate:",
            id="set TestInvalid true",
        ),
        pytest.param(
            {"TestLockedTrue": True, "TestLockedFalse": False},
            {TEST_ALPHA: False, TEST_BETA: False},
            "",
            id="set locked gates",
        ),
        pytest.param(
            {"TestLockedTrue": False},
            {TEST_ALPHA: False, TEST_BETA: False},
            "cannot set feature gate TestLockedTrue to false, feature is locked to true",
            id="set locked gates to non-default true",
        ),
        pytest.param(
            {"TestLockedFalse": True},
            {TEST_ALPHA: False, TEST_BETA: False},
            "cannot set feature gate TestLockedFalse to true, feature is locked to false",
            id="set locked gates to non-default false",
        ),
    ],
)
def test_feature_gate_set_from_map(
    setmap: dict[str, bool], expect: dict[str, bool], setmap_error: str
) -> None:
    gate = FeatureGate()
    gate.add(
        {
            TEST_ALPHA: FeatureSpec(default=False, pre_release=ALPHA),
            TEST_BETA: FeatureSpec(default=False, pre_release=BETA),
            TEST_LOCKED_TRUE: FeatureSpec(default=True, pre_release=GA, lock_to_default=True),
            TEST_LOCKED_FALSE: FeatureSpec(default=False, pre_release=GA, lock_to_default=True),
        }
    )
    if setmap_error:
        with pytest.raises(ValueError, match=setmap_error):
            gate.set_from_map(setmap)
    else:
        gate.set_from_map(setmap)
    _expect(gate, expect)


@pytest.mark.parametrize(
    ("setmap", "expect"),
    [
        pytest.param({"TestAlpha": False}, "TestAlpha=false", id="TestAlpha=false"),
        pytest.param(
            {"TestAlpha": False, "TestBeta": True},
            "TestAlpha=false,TestBeta=true",
            id="TestAlpha=false,TestBeta=true",
        ),
        pytest.param(
            {"TestGA": True, "TestAlpha": False, "TestBeta": True},
            "TestAlpha=false,TestBeta=true,TestGA=true",
            id="TestAlpha=false,TestBeta=true,TestGA=true",
        ),
    ],
)
def test_feature_gate_string(setmap: dict[str, bool], expect: str) -> None:
    gate = FeatureGate()
    gate.add(
        {
            "TestGA": FeatureSpec(default=True, pre_release=GA),
            TEST_ALPHA: FeatureSpec(default=False, pre_release=ALPHA),
            TEST_BETA: FeatureSpec(default=True, pre_release=BETA),
        }
    )
    gate.set_from_map(setmap)
    assert gate.string() == expect
    assert str(gate) == expect


def test_feature_gate_errors_leave_state_unchanged() -> None:
    """A rejected set changes nothing and does not poison later sets (deliberate deviation)."""
    gate = _flag_gate()
    gate.set("TestAlpha=true")
    with pytest.raises(ValueError, match="unrecognized feature gate: Nope"):
        gate.set("TestBeta=true,Nope=true")
    _expect(gate, _state(alpha=True))
    with pytest.raises(ValueError, match="missing bool value for TestBeta"):
        gate.set("TestBeta")
    gate.set("TestBeta=true")
    _expect(gate, _state(alpha=True, beta=True))
    with pytest.raises(ValueError, match="is not registered"):
        gate.enabled("Nope")


def test_reset_feature_value_to_default_and_explicitly_set() -> None:
    gate = _flag_gate()
    assert not gate.explicitly_set(TEST_ALPHA)
    gate.set("TestAlpha=true")
    assert gate.explicitly_set(TEST_ALPHA)
    gate.reset_feature_value_to_default(TEST_ALPHA)
    assert not gate.explicitly_set(TEST_ALPHA)
    assert not gate.enabled(TEST_ALPHA)


# --- versioned gates -------------------------------------------------------------------


def test_feature_spec_at_emulation_and_min_compat_version() -> None:
    specs = [
        FeatureSpec(version=Version(1, 29), default=False, pre_release=ALPHA),
        FeatureSpec(version=Version(1, 31), default=True, pre_release=BETA),
        FeatureSpec(version=Version(1, 33), default=True, pre_release=GA, lock_to_default=True),
    ]
    at = feature_spec_at_emulation_and_min_compat_version
    assert at(specs, Version(1, 28), None).pre_release == features.PRE_ALPHA
    assert at(specs, Version(1, 30), None) == specs[0]
    assert at(specs, Version(1, 32), None) == specs[1]
    assert at(specs, Version(1, 40), None) == specs[2]


def test_versioned_gate_emulation_version() -> None:
    gate = FeatureGate(Version(1, 30))
    gate.add_versioned(
        {
            "Feat": [
                FeatureSpec(version=Version(1, 29), default=False, pre_release=ALPHA),
                FeatureSpec(version=Version(1, 31), default=True, pre_release=BETA),
            ],
            "Later": [FeatureSpec(version=Version(1, 31), default=False, pre_release=ALPHA)],
        }
    )
    assert not gate.enabled("Feat")
    assert "Later" not in gate.known()
    with pytest.raises(ValueError, match="PreAlpha"):
        gate.set("Later=true")
    gate.set_emulation_version(Version(1, 31))
    assert gate.emulation_version() == Version(1, 31)
    assert gate.min_compatibility_version() == Version(1, 30)
    assert gate.enabled("Feat")
    gate.set("Later=true")
    assert gate.enabled("Later")


@pytest.mark.parametrize(
    ("specs", "error"),
    [
        pytest.param(
            [FeatureSpec(version=None)], "did not provide a version", id="missing version"
        ),
        pytest.param(
            [
                FeatureSpec(version=Version(1, 30), pre_release=BETA),
                FeatureSpec(version=Version(1, 29), pre_release=GA),
            ],
            "decreasing order",
            id="decreasing versions",
        ),
        pytest.param(
            [
                FeatureSpec(version=Version(1, 29), pre_release=BETA),
                FeatureSpec(version=Version(1, 30), pre_release=ALPHA),
            ],
            "regresses stability",
            id="stability regression",
        ),
        pytest.param(
            [
                FeatureSpec(
                    version=Version(1, 29), pre_release=GA, default=True, lock_to_default=True
                ),
                FeatureSpec(version=Version(1, 30), pre_release=DEPRECATED, default=True),
            ],
            "must not unlock",
            id="unlock after lock",
        ),
        pytest.param(
            [
                FeatureSpec(version=Version(1, 29), pre_release=BETA),
                FeatureSpec(version=Version(1, 30), pre_release=BETA),
            ],
            "transition without stability change",
            id="no-op transition",
        ),
    ],
)
def test_add_versioned_rejects_bad_histories(specs: list[FeatureSpec], error: str) -> None:
    gate = FeatureGate()
    with pytest.raises(ValueError, match=error):
        gate.add_versioned({"F": specs})
    assert "F" not in gate.get_all_versioned()


def test_add_versioned_same_spec_twice_is_ok_different_spec_is_not() -> None:
    gate = FeatureGate()
    spec = [FeatureSpec(version=Version(1, 29), pre_release=BETA, default=True)]
    gate.add_versioned({"F": spec})
    gate.add_versioned({"F": spec})
    with pytest.raises(ValueError, match="different spec already exists"):
        gate.add_versioned({"F": [FeatureSpec(version=Version(1, 29), pre_release=ALPHA)]})
    gate.close()
    with pytest.raises(ValueError, match="after adding it to the flag set"):
        gate.add_versioned({"G": spec})


V129, V130, V131, V132 = Version(1, 29), Version(1, 30), Version(1, 31), Version(1, 32)
FA, FB, FC, F_UNKNOWN = "FeatureA", "FeatureB", "FeatureC", "FeatureUnknown"


def _s(v: Version, pre: str = GA, default: bool = False, lock: bool = False) -> FeatureSpec:
    return FeatureSpec(version=v, pre_release=pre, default=default, lock_to_default=lock)


@pytest.mark.parametrize(
    ("specs", "initial_deps", "new_deps", "expected_err", "final_deps", "close_gate"),
    [
        pytest.param(
            {FA: [_s(V129)]},
            None,
            {FA: [F_UNKNOWN]},
            "cannot add dependency from FeatureA to unknown feature FeatureUnknown",
            None,
            False,
            id="dependency on unknown feature",
        ),
        pytest.param(
            {FA: [_s(V129)]},
            None,
            {F_UNKNOWN: [FA]},
            "cannot add dependency for unknown feature FeatureUnknown",
            None,
            False,
            id="unknown feature has dependency",
        ),
        pytest.param(
            {FA: [_s(V129)], FB: [_s(V129)], FC: [_s(V129)]},
            None,
            {FA: [FB], FB: [FC], FC: [FA]},
            "cycle detected with feature",
            None,
            False,
            id="cycle",
        ),
        pytest.param(
            {FA: [_s(V129)], FB: [_s(V129)], FC: [_s(V129)]},
            None,
            {FA: [FB, FC], FB: [FC]},
            "",
            None,
            False,
            id="valid: no cycle with overlapping dependencies",
        ),
        pytest.param(
            {FA: [_s(V129)]},
            None,
            {FA: [FA]},
            "cycle detected with feature FeatureA",
            None,
            False,
            id="self cycle",
        ),
        pytest.param(
            {FA: [_s(V129)], FB: [_s(V129)], FC: [_s(V129)]},
            {FA: [FB]},
            {FA: [FC]},
            "",
            {FA: [FB, FC]},
            False,
            id="merge dependencies",
        ),
        pytest.param(
            {FA: [_s(V129)], FB: [_s(V129)]},
            None,
            {FA: [FB]},
            "cannot add a feature gate dependency after adding it to the flag set",
            None,
            True,
            id="add after close",
        ),
        pytest.param(
            {FA: [_s(V129, BETA), _s(V130, GA)], FB: [_s(V129, BETA), _s(V130, GA)]},
            None,
            {FA: [FB]},
            "",
            None,
            False,
            id="valid: dependency is valid across all versions",
        ),
        pytest.param(
            {FA: [_s(V129, BETA)], FB: [_s(V129, ALPHA)]},
            None,
            {FA: [FB]},
            "BETA feature FeatureA cannot depend on ALPHA feature FeatureB at version 1.29",
            None,
            False,
            id="invalid: stability inversion",
        ),
        pytest.param(
            {
                FA: [_s(V129, ALPHA), _s(V130, BETA)],
                FB: [_s(V129, ALPHA), _s(V130, ALPHA, default=True)],
            },
            None,
            {FA: [FB]},
            "BETA feature FeatureA cannot depend on ALPHA feature FeatureB at version 1.30",
            None,
            False,
            id="invalid: stability inversion at later version",
        ),
        pytest.param(
            {
                FA: [_s(V129, ALPHA), _s(V130, BETA), _s(V132, GA)],
                FB: [_s(V129, ALPHA), _s(V131, BETA), _s(V132, GA)],
            },
            None,
            {FA: [FB]},
            "BETA feature FeatureA cannot depend on ALPHA feature FeatureB at version 1.30",
            None,
            False,
            id="invalid: stability inversion at earlier version",
        ),
        pytest.param(
            {FA: [_s(V129, ALPHA), _s(V131, BETA)], FB: [_s(V130, ALPHA), _s(V131, BETA)]},
            None,
            {FA: [FB]},
            "",
            None,
            False,
            id="valid: alpha feature depending on pre-alpha",
        ),
        pytest.param(
            {FA: [_s(V129, BETA, True)], FB: [_s(V129, BETA, True)]},
            None,
            {FA: [FB]},
            "",
            None,
            False,
            id="valid: default-enabled depends on default-enabled",
        ),
        pytest.param(
            {FA: [_s(V129, BETA, False)], FB: [_s(V129, BETA, True)]},
            None,
            {FA: [FB]},
            "",
            None,
            False,
            id="valid: default-disabled depends on default-enabled",
        ),
        pytest.param(
            {FA: [_s(V129, BETA, True)], FB: [_s(V129, BETA, False)]},
            None,
            {FA: [FB]},
            "default-enabled feature FeatureA cannot depend on default-disabled feature FeatureB "
            "at version 1.29",
            None,
            False,
            id="invalid: default-enabled depends on default-disabled",
        ),
        pytest.param(
            {
                FA: [_s(V129, ALPHA, False), _s(V130, BETA, True)],
                FB: [_s(V129, ALPHA, False), _s(V130, BETA, False)],
            },
            None,
            {FA: [FB]},
            "default-enabled feature FeatureA cannot depend on default-disabled feature FeatureB "
            "at version 1.30",
            None,
            False,
            id="invalid: default-enabled depends on default-disabled at a later version",
        ),
        pytest.param(
            {FA: [_s(V129, BETA, True)], FB: [_s(V129, BETA, False), _s(V130, BETA, True)]},
            None,
            {FA: [FB]},
            "default-enabled feature FeatureA cannot depend on default-disabled feature FeatureB "
            "at version 1.29",
            None,
            False,
            id="invalid: default-enabled depends on default-disabled at an earlier version",
        ),
        pytest.param(
            {FA: [_s(V129, GA, True, True)], FB: [_s(V129, GA, True, True)]},
            None,
            {FA: [FB]},
            "",
            None,
            False,
            id="valid: locked depends on locked",
        ),
        pytest.param(
            {FA: [_s(V129, GA, True, True)], FB: [_s(V129, GA, True, False)]},
            None,
            {FA: [FB]},
            "locked-to-default feature FeatureA cannot depend on unlocked feature FeatureB at "
            "version 1.29",
            None,
            False,
            id="invalid: locked depends on unlocked",
        ),
        pytest.param(
            {FA: [_s(V129, GA, True, False), _s(V130, GA, True, True)], FB: [_s(V129, GA, True)]},
            None,
            {FA: [FB]},
            "locked-to-default feature FeatureA cannot depend on unlocked feature FeatureB at "
            "version 1.30",
            None,
            False,
            id="invalid: locked depends on unlocked at a later version",
        ),
    ],
)
def test_add_dependencies(
    specs: dict[str, list[FeatureSpec]],
    initial_deps: dict[str, list[str]] | None,
    new_deps: dict[str, list[str]],
    expected_err: str,
    final_deps: dict[str, list[str]] | None,
    close_gate: bool,
) -> None:
    gate = FeatureGate()
    gate.add_versioned(specs)
    if initial_deps is not None:
        gate.add_dependencies(initial_deps)
    if close_gate:
        gate.close()
    if expected_err:
        with pytest.raises(ValueError, match=expected_err):
            gate.add_dependencies(new_deps)
        return
    gate.add_dependencies(new_deps)
    want = final_deps if final_deps is not None else new_deps
    assert gate.dependencies() == want
    assert gate.deep_copy().dependencies() == want


# --- featuregate/testing ---------------------------------------------------------------


def test_special_gates() -> None:
    gate = FeatureGate()
    gate.add(
        {
            "alpha_default_on": FeatureSpec(pre_release=ALPHA, default=True),
            "alpha_default_on_set_off": FeatureSpec(pre_release=ALPHA, default=True),
            "alpha_default_off": FeatureSpec(pre_release=ALPHA, default=False),
            "alpha_default_off_set_on": FeatureSpec(pre_release=ALPHA, default=False),
            "beta_default_on": FeatureSpec(pre_release=BETA, default=True),
            "beta_default_on_set_off": FeatureSpec(pre_release=BETA, default=True),
            "beta_default_off": FeatureSpec(pre_release=BETA, default=False),
            "beta_default_off_set_on": FeatureSpec(pre_release=BETA, default=False),
            "stable_default_on": FeatureSpec(pre_release=GA, default=True),
            "stable_default_on_set_off": FeatureSpec(pre_release=GA, default=True),
            "stable_default_off": FeatureSpec(pre_release=GA, default=False),
            "stable_default_off_set_on": FeatureSpec(pre_release=GA, default=False),
        }
    )
    for setting in (
        "alpha_default_on_set_off=false",
        "beta_default_on_set_off=false",
        "stable_default_on_set_off=false",
        "alpha_default_off_set_on=true",
        "beta_default_off_set_on=true",
        "stable_default_off_set_on=true",
    ):
        gate.set(setting)

    stable = {
        "stable_default_on": True,
        "stable_default_on_set_off": False,
        "stable_default_off": False,
        "stable_default_off_set_on": True,
    }
    before = {
        "AllAlpha": False,
        "AllBeta": False,
        "alpha_default_on": True,
        "alpha_default_on_set_off": False,
        "alpha_default_off": False,
        "alpha_default_off_set_on": True,
        "beta_default_on": True,
        "beta_default_on_set_off": False,
        "beta_default_off": False,
        "beta_default_off_set_on": True,
        **stable,
    }
    _expect(gate, before)

    with set_feature_gate_during_test(gate, "AllAlpha", True):
        all_alpha = {
            **before,
            "AllAlpha": True,
            "alpha_default_on_set_off": True,
            "alpha_default_off": True,
        }
        _expect(gate, all_alpha)
        with set_feature_gate_during_test(gate, "AllBeta", True):
            _expect(
                gate,
                {
                    **all_alpha,
                    "AllBeta": True,
                    "beta_default_on_set_off": True,
                    "beta_default_off": True,
                },
            )
    _expect(gate, before)


def test_set_feature_gate_in_test() -> None:
    gate = FeatureGate()
    gate.add({"feature": FeatureSpec(pre_release=ALPHA, default=False)})
    assert not gate.enabled("feature")
    with (
        set_feature_gate_during_test(gate, "feature", True),
        set_feature_gate_during_test(gate, "feature", True),
    ):
        assert gate.enabled("feature")
        with set_feature_gate_during_test(gate, "feature", False):
            assert not gate.enabled("feature")
        assert gate.enabled("feature")
    assert not gate.enabled("feature")
    assert not gate.explicitly_set("feature")


ALPHA_FEATURE = "AlphaFeature"
ALPHA_FEATURE_DEP = "AlphaFeatureDep"
BETA_OFF_FEATURE = "BetaOffFeature"
BETA_OFF_FEATURE_DEP = "BetaOffFeatureDep"
BETA_ON_FEATURE = "BetaOnFeature"
BETA_ON_FEATURE_DEP = "BetaOnFeatureDep"
GA_FEATURE = "GAFeature"

INITIAL_STATE = {
    "AllAlpha": False,
    "AllBeta": False,
    ALPHA_FEATURE: False,
    ALPHA_FEATURE_DEP: False,
    BETA_OFF_FEATURE: False,
    BETA_OFF_FEATURE_DEP: False,
    BETA_ON_FEATURE: True,
    BETA_ON_FEATURE_DEP: True,
    GA_FEATURE: True,
}


def _dependency_gate() -> FeatureGate:
    gate = FeatureGate()
    gate.add(
        {
            ALPHA_FEATURE: FeatureSpec(pre_release=ALPHA, default=False),
            ALPHA_FEATURE_DEP: FeatureSpec(pre_release=ALPHA, default=False),
            BETA_OFF_FEATURE: FeatureSpec(pre_release=BETA, default=False),
            BETA_OFF_FEATURE_DEP: FeatureSpec(pre_release=BETA, default=False),
            BETA_ON_FEATURE: FeatureSpec(pre_release=BETA, default=True),
            BETA_ON_FEATURE_DEP: FeatureSpec(pre_release=BETA, default=True),
            GA_FEATURE: FeatureSpec(pre_release=GA, default=True),
        }
    )
    gate.add_dependencies(
        {
            ALPHA_FEATURE: [BETA_ON_FEATURE_DEP, BETA_OFF_FEATURE_DEP, ALPHA_FEATURE_DEP],
            BETA_OFF_FEATURE: [BETA_ON_FEATURE_DEP, BETA_OFF_FEATURE_DEP],
            BETA_ON_FEATURE: [BETA_ON_FEATURE_DEP],
            GA_FEATURE: [],
        }
    )
    return gate


@pytest.mark.parametrize(
    ("overrides", "expected_overrides", "expect_error"),
    [
        pytest.param(
            {"AllBeta": True},
            {"AllBeta": True, BETA_OFF_FEATURE: True, BETA_OFF_FEATURE_DEP: True},
            False,
            id="AllBeta",
        ),
        pytest.param(
            {"AllBeta": False},
            {"AllBeta": False, BETA_ON_FEATURE: False, BETA_ON_FEATURE_DEP: False},
            False,
            id="AllBeta=false",
        ),
        pytest.param(
            {"AllBeta": True, "AllAlpha": True},
            {
                "AllAlpha": True,
                "AllBeta": True,
                ALPHA_FEATURE: True,
                ALPHA_FEATURE_DEP: True,
                BETA_OFF_FEATURE: True,
                BETA_OFF_FEATURE_DEP: True,
            },
            False,
            id="AllBeta+AllAlpha",
        ),
        pytest.param({"AllAlpha": True}, {}, True, id="AllAlpha"),
        pytest.param(
            {BETA_ON_FEATURE_DEP: False},
            {BETA_ON_FEATURE: False, BETA_ON_FEATURE_DEP: False},
            False,
            id="Automatically disable deps",
        ),
        pytest.param(
            {BETA_OFF_FEATURE_DEP: True},
            {BETA_OFF_FEATURE_DEP: True, BETA_OFF_FEATURE: False},
            False,
            id="Don't automatically enable deps",
        ),
        pytest.param(
            {BETA_ON_FEATURE: True, BETA_ON_FEATURE_DEP: False},
            {},
            True,
            id="Error when disabling dependency",
        ),
        pytest.param({BETA_OFF_FEATURE: True}, {}, True, id="Error when enabling dependent"),
    ],
)
def test_set_feature_gates_in_test_with_dependencies(
    overrides: dict[str, bool], expected_overrides: dict[str, bool], expect_error: bool
) -> None:
    gate = _dependency_gate()
    _expect(gate, INITIAL_STATE)
    if expect_error:
        with pytest.raises(ValueError, match="depends on features that are disabled"):
            set_feature_gates_during_test(gate, overrides)
        _expect(gate, INITIAL_STATE)
    else:
        with set_feature_gates_during_test(gate, overrides):
            _expect(gate, {**INITIAL_STATE, **expected_overrides})
    _expect(gate, INITIAL_STATE)


def test_set_feature_gate_during_test_with_cleanup_callback() -> None:
    gate = _dependency_gate()
    cleanups: list[Callable[[], None]] = []
    handle = set_feature_gate_during_test(gate, BETA_OFF_FEATURE_DEP, True, cleanup=cleanups.append)
    assert gate.enabled(BETA_OFF_FEATURE_DEP)
    assert len(cleanups) == 1
    cleanups[0]()
    assert not gate.enabled(BETA_OFF_FEATURE_DEP)
    handle.restore()  # idempotent
    assert not gate.enabled(BETA_OFF_FEATURE_DEP)


def test_set_feature_gate_emulation_version_during_test() -> None:
    gate = new_default_feature_gate()
    with pytest.raises(ValueError, match=r"locked to true.*set_feature_gate_emulation_version"):
        set_feature_gate_during_test(gate, features.JOB_MANAGED_BY, False)
    with set_feature_gate_emulation_version_during_test(gate, Version(1, 34)):
        assert gate.emulation_version() == Version(1, 34)
        assert gate.enabled(features.JOB_MANAGED_BY)
        with set_feature_gate_during_test(gate, features.JOB_MANAGED_BY, False):
            assert not gate.enabled(features.JOB_MANAGED_BY)
        assert gate.enabled(features.JOB_MANAGED_BY)
        # Gates introduced after the emulated version are unavailable, hence off.
        assert not gate.enabled(features.STALE_CONTROLLER_CONSISTENCY_JOB)
    assert gate.emulation_version() == Version(1, 37)
    assert gate.enabled(features.STALE_CONTROLLER_CONSISTENCY_JOB)


def test_changing_emulation_version_inside_gate_override_is_refused() -> None:
    gate = new_default_feature_gate()
    handle = set_feature_gate_during_test(gate, features.WORKLOAD_WITH_JOB, False)
    gate.set_emulation_version(Version(1, 36))
    with pytest.raises(RuntimeError, match="emulation version"):
        handle.restore()


# --- the mirrored gates ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "want_enabled", "want_pre_release", "want_locked"),
    [
        pytest.param(features.JOB_MANAGED_BY, True, GA, True, id="JobManagedBy"),
        pytest.param(features.WORKLOAD_WITH_JOB, False, ALPHA, False, id="WorkloadWithJob"),
        pytest.param(features.GENERIC_WORKLOAD, False, BETA, False, id="GenericWorkload"),
        pytest.param(
            features.STALE_CONTROLLER_CONSISTENCY_JOB,
            True,
            BETA,
            False,
            id="StaleControllerConsistencyJob",
        ),
        pytest.param(
            features.MUTABLE_SCHEDULING_DIRECTIVES_FOR_SUSPENDED_JOBS,
            True,
            BETA,
            False,
            id="MutableSchedulingDirectivesForSuspendedJobs",
        ),
        pytest.param(
            features.MUTABLE_POD_RESOURCES_FOR_SUSPENDED_JOBS,
            True,
            BETA,
            False,
            id="MutablePodResourcesForSuspendedJobs",
        ),
        pytest.param(features.POD_DELETION_COST, True, BETA, False, id="PodDeletionCost"),
        pytest.param(
            features.POD_OBSERVED_GENERATION_TRACKING,
            True,
            GA,
            True,
            id="PodObservedGenerationTracking",
        ),
        pytest.param(features.NODE_DECLARED_FEATURES, True, GA, True, id="NodeDeclaredFeatures"),
        pytest.param(
            features.CONTAINER_RESTART_RULES, True, BETA, False, id="ContainerRestartRules"
        ),
        pytest.param(
            features.RESTART_ALL_CONTAINERS_ON_CONTAINER_EXITS,
            True,
            BETA,
            False,
            id="RestartAllContainersOnContainerExits",
        ),
        pytest.param(features.IN_ORDER_INFORMERS, True, GA, True, id="InOrderInformers"),
        pytest.param(features.ATOMIC_FIFO, True, BETA, False, id="AtomicFIFO"),
        pytest.param(
            features.UNLOCK_WHILE_PROCESSING_FIFO, True, BETA, False, id="UnlockWhileProcessingFIFO"
        ),
        pytest.param(
            features.IN_ORDER_INFORMERS_BATCH_PROCESS,
            True,
            BETA,
            False,
            id="InOrderInformersBatchProcess",
        ),
        pytest.param(features.WATCH_LIST_CLIENT, True, BETA, False, id="WatchListClient"),
        pytest.param(
            features.INFORMER_RESOURCE_VERSION, True, GA, False, id="InformerResourceVersion"
        ),
        pytest.param(features.CLIENTS_ALLOW_CBOR, False, ALPHA, False, id="ClientsAllowCBOR"),
        pytest.param(features.CLIENTS_PREFER_CBOR, False, ALPHA, False, id="ClientsPreferCBOR"),
        pytest.param(
            features.CLIENTS_ALLOW_CA_ROTATION, True, BETA, False, id="ClientsAllowCARotation"
        ),
        pytest.param(
            features.CLIENTS_ALLOW_TLS_CACHE_GC, True, BETA, False, id="ClientsAllowTLSCacheGC"
        ),
    ],
)
def test_default_feature_gate_at_1_37(
    name: str, want_enabled: bool, want_pre_release: str, want_locked: bool
) -> None:
    assert DEFAULT_FEATURE_GATE.emulation_version() == Version(1, 37)
    assert DEFAULT_FEATURE_GATE.enabled(name) == want_enabled
    spec = DEFAULT_FEATURE_GATE.known()[name]
    assert spec.pre_release == want_pre_release
    assert spec.lock_to_default == want_locked


def test_default_feature_gate_dependencies() -> None:
    deps = DEFAULT_FEATURE_GATE.dependencies()
    assert deps[features.WORKLOAD_WITH_JOB] == [features.GENERIC_WORKLOAD]
    assert deps[features.STALE_CONTROLLER_CONSISTENCY_JOB] == [features.ATOMIC_FIFO]
    gate = new_default_feature_gate()
    with pytest.raises(ValueError, match="WorkloadWithJob is enabled, but depends"):
        gate.set("WorkloadWithJob=true")
    gate.set("WorkloadWithJob=true,GenericWorkload=true")
    assert gate.enabled(features.WORKLOAD_WITH_JOB)


def test_default_feature_gate_override_helper_restores() -> None:
    with set_feature_gate_during_test(DEFAULT_FEATURE_GATE, features.ATOMIC_FIFO, False):
        assert not DEFAULT_FEATURE_GATE.enabled(features.ATOMIC_FIFO)
        # The dependent gate is switched off with it.
        assert not DEFAULT_FEATURE_GATE.enabled(features.STALE_CONTROLLER_CONSISTENCY_JOB)
    assert DEFAULT_FEATURE_GATE.enabled(features.ATOMIC_FIFO)
    assert DEFAULT_FEATURE_GATE.enabled(features.STALE_CONTROLLER_CONSISTENCY_JOB)
    assert DEFAULT_FEATURE_GATE.string() == ""


def test_override_default() -> None:
    gate = FeatureGate()
    gate.add(
        {
            TEST_ALPHA: FeatureSpec(pre_release=ALPHA, default=False),
            TEST_LOCKED_TRUE: FeatureSpec(pre_release=GA, default=True, lock_to_default=True),
        }
    )
    gate.override_default(TEST_ALPHA, True)
    assert gate.enabled(TEST_ALPHA)
    with pytest.raises(ValueError, match="default is locked to true"):
        gate.override_default(TEST_LOCKED_TRUE, False)
    with pytest.raises(ValueError, match="is not registered"):
        gate.override_default("Nope", True)


@pytest.mark.parametrize(
    ("arg", "refused", "ignored"),
    [
        ("", [], []),
        ("JobManagedBy=true,InOrderInformersBatchProcess=false", [], []),
        ("WorkloadWithJob=true,GenericWorkload=true", ["WorkloadWithJob"], ["GenericWorkload"]),
        ("WorkloadWithJob=false", [], ["WorkloadWithJob"]),
        ("WatchListClient=false", [], ["WatchListClient"]),
        ("ClientsAllowCBOR=true,PodDeletionCost=true", ["ClientsAllowCBOR"], ["PodDeletionCost"]),
        (
            "AllAlpha=true,AllBeta=true",
            ["ClientsAllowCBOR", "ClientsPreferCBOR", "WorkloadWithJob"],
            ["GenericWorkload"],
        ),
    ],
)
def test_unimplemented_gate_settings(arg: str, refused: list[str], ignored: list[str]) -> None:
    gate = features.new_default_feature_gate()
    gate.set(arg)
    assert features.unimplemented_gate_settings(gate) == (refused, ignored)


def test_implemented_gates_are_known() -> None:
    known = features.new_default_feature_gate().known()
    assert set(known) >= features.IMPLEMENTED_GATES
