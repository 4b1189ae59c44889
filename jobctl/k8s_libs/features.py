"""Feature gates: port of k8s.io/component-base/featuregate plus the Job-related gates.

The gate definitions mirror ``pkg/features/kube_features.go`` of Kubernetes v1.37.2 (the
gates the Job controller, its helpers and the pod helpers it calls read) and every gate
of ``k8s.io/client-go/features`` (the informers read them). Upstream registers the
client-go gates into the same process-wide gate as the Kubernetes ones, so they share
``DEFAULT_FEATURE_GATE`` here as well.

Gates are versioned: each one carries the list of specs it had over the releases, and the
spec that applies is the newest one not later than the gate's emulation version (1.37 by
default). GA gates that upstream locks to their default cannot be changed; tests that need
the old behaviour lower the emulation version first, as upstream tests do.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

logger = logging.getLogger(__name__)


class Version(NamedTuple):
    """A major.minor version, the granularity feature specs use (apimachinery version)."""

    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> Version:
        """Parse ``"1.37"``; a patch component is rejected, as feature specs require."""
        parts = text.strip().split(".")
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise ValueError(f"invalid major.minor version {text!r}")
        return cls(int(parts[0]), int(parts[1]))

    def subtract_minor(self, diff: int) -> Version:
        """Port of Version.SubtractMinor."""
        return Version(self.major, max(self.minor - diff, 0))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


# Port of the featuregate prerelease values.
PRE_ALPHA = "PRE-ALPHA"
ALPHA = "ALPHA"
BETA = "BETA"
GA = ""
DEPRECATED = "DEPRECATED"

# The binary version this port mirrors (component-base DefaultKubeBinaryVersion).
DEFAULT_KUBE_BINARY_VERSION = Version(1, 37)


@dataclass(frozen=True)
class FeatureSpec:
    """Port of featuregate.FeatureSpec: a gate's default and maturity from ``version`` on."""

    default: bool = False
    lock_to_default: bool = False
    # The zero value, as in Go, is GA.
    pre_release: str = GA
    version: Version | None = None
    min_compatibility_version: Version | None = None

    def help_string(self, name: str, include_compat_ver: bool) -> str:
        """Port of FeatureSpec.HelpString: the flag help line, empty for GA/deprecated."""
        if self.pre_release in (GA, DEPRECATED, PRE_ALPHA):
            return ""
        default = "true" if self.default else "false"
        text = f"{name}=true|false ({self.pre_release} - default={default})"
        if include_compat_ver and self.min_compatibility_version is not None:
            return text + f" if --min-compatibility-version>={self.min_compatibility_version}"
        return text


VersionedSpecs = Sequence[FeatureSpec]

_ALL_ALPHA_GATE = "AllAlpha"
_ALL_BETA_GATE = "AllBeta"

_DEFAULT_FEATURES: dict[str, tuple[FeatureSpec, ...]] = {
    _ALL_ALPHA_GATE: (FeatureSpec(default=False, pre_release=ALPHA, version=Version(0, 0)),),
    _ALL_BETA_GATE: (FeatureSpec(default=False, pre_release=BETA, version=Version(0, 0)),),
}


def _set_unset_gates(
    level: str,
    known: Mapping[str, VersionedSpecs],
    enabled: dict[str, bool],
    val: bool,
    emu_ver: Version,
    min_compat_ver: Version | None,
) -> None:
    for name, specs in known.items():
        if name in (_ALL_ALPHA_GATE, _ALL_BETA_GATE):
            continue
        spec = feature_spec_at_emulation_and_min_compat_version(specs, emu_ver, min_compat_ver)
        if spec.pre_release == level and name not in enabled:
            enabled[name] = val


def _set_unset_alpha_gates(
    known: Mapping[str, VersionedSpecs],
    enabled: dict[str, bool],
    val: bool,
    emu_ver: Version,
    min_compat_ver: Version | None,
) -> None:
    """Port of setUnsetAlphaGates: AllAlpha sets every alpha gate not set explicitly."""
    _set_unset_gates(ALPHA, known, enabled, val, emu_ver, min_compat_ver)


def _set_unset_beta_gates(
    known: Mapping[str, VersionedSpecs],
    enabled: dict[str, bool],
    val: bool,
    emu_ver: Version,
    min_compat_ver: Version | None,
) -> None:
    """Port of setUnsetBetaGates: AllBeta sets every beta gate not set explicitly."""
    _set_unset_gates(BETA, known, enabled, val, emu_ver, min_compat_ver)


_SpecialFn = Callable[
    [Mapping[str, VersionedSpecs], dict[str, bool], bool, Version, "Version | None"], None
]

_SPECIAL_FEATURES: dict[str, _SpecialFn] = {
    _ALL_ALPHA_GATE: _set_unset_alpha_gates,
    _ALL_BETA_GATE: _set_unset_beta_gates,
}


def _stability_order(pre_release: str) -> int:
    """Port of stabilityOrder: a gate may not depend on a less stable one."""
    return {DEPRECATED: 0, PRE_ALPHA: 1, ALPHA: 1, BETA: 2, GA: 3}.get(pre_release, -1)


def _format_bool(value: bool) -> str:
    return "true" if value else "false"


def _parse_bool(text: str) -> bool:
    """Port of strconv.ParseBool."""
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ValueError(f'strconv.ParseBool: parsing "{text}": invalid syntax')


def feature_enabled(
    key: str,
    enabled: Mapping[str, bool],
    known: Mapping[str, VersionedSpecs],
    emulation_version: Version,
    min_compatibility_version: Version | None,
) -> bool:
    """Port of featureEnabled: the explicit value, else the default at the version."""
    if key in enabled:
        return enabled[key]
    if key in known:
        spec = feature_spec_at_emulation_and_min_compat_version(
            known[key], emulation_version, min_compatibility_version
        )
        return spec.default
    raise ValueError(f"feature {key!r} is not registered in FeatureGate")


def feature_spec_at_emulation_and_min_compat_version(
    specs: VersionedSpecs, emulation_version: Version, min_compatibility_version: Version | None
) -> FeatureSpec:
    """Port of featureSpecAtEmulationAndMinCompatVersion: the spec in force at a version.

    A gate with no spec at or before the emulation version is PRE-ALPHA (off, unsettable).
    """
    if min_compatibility_version is None:
        min_compatibility_version = emulation_version.subtract_minor(1)
    for spec in reversed(specs):
        assert spec.version is not None
        if spec.version > emulation_version:
            continue
        min_compat = spec.min_compatibility_version
        if min_compat is not None and min_compatibility_version < min_compat:
            continue
        return spec
    return FeatureSpec(default=False, pre_release=PRE_ALPHA, version=Version(0, 0))


class FeatureGate:
    """Port of featuregate.featureGate: versioned, dependency-checked on/off switches.

    Reads are lock-free (each write publishes new dicts); writes hold ``_lock``, the same
    copy-on-write scheme upstream builds from atomic values.
    """

    def __init__(
        self,
        emulation_version: Version = DEFAULT_KUBE_BINARY_VERSION,
        min_compatibility_version: Version | None = None,
    ) -> None:
        """Port of NewVersionedFeatureGateWithMinCompatibility."""
        self._lock = threading.Lock()
        self._special: dict[str, _SpecialFn] = dict(_SPECIAL_FEATURES)
        self._known: dict[str, tuple[FeatureSpec, ...]] = dict(_DEFAULT_FEATURES)
        self._dependencies: dict[str, list[str]] = {}
        self._enabled: dict[str, bool] = {}
        self._enabled_raw: dict[str, bool] = {}
        self._closed = False
        self._queried: frozenset[str] = frozenset()
        self._emulation_version = emulation_version
        self._min_compatibility_version = (
            min_compatibility_version
            if min_compatibility_version is not None
            else emulation_version.subtract_minor(1)
        )

    # -- setting values --------------------------------------------------------------

    def set(self, value: str) -> None:
        """Port of featureGate.Set: apply ``"A=true,B=false"``; ValueError when invalid."""
        parsed: dict[str, bool] = {}
        for item in value.split(","):
            if not item:
                continue
            key, sep, raw = item.partition("=")
            key = key.strip()
            if not sep:
                raise ValueError(f"missing bool value for {key}")
            raw = raw.strip()
            try:
                parsed[key] = _parse_bool(raw)
            except ValueError as err:
                raise ValueError(f"invalid value of {key}={raw}, err: {err}") from None
        self.set_from_map(parsed)

    def validate(self) -> list[str]:
        """Port of featureGate.Validate: problems of the raw settings at the current version."""
        with self._lock:
            return self._unsafe_set_from_map(
                {},
                self._enabled_raw,
                self._emulation_version,
                self._min_compatibility_version,
                log=False,
            )

    def _unsafe_set_from_map(
        self,
        enabled: dict[str, bool],
        values: Mapping[str, bool],
        emulation_version: Version,
        min_compatibility_version: Version | None,
        log: bool = True,
    ) -> list[str]:
        """Port of unsafeSetFromMap: resolve ``values`` into ``enabled``; return errors."""
        errs: list[str] = []
        known = dict(self._known)
        for key, value in values.items():
            specs = known.get(key)
            if specs is None:
                return [f"unrecognized feature gate: {key}"]
            spec = feature_spec_at_emulation_and_min_compat_version(
                specs, emulation_version, min_compatibility_version
            )
            if spec.lock_to_default and spec.default != value:
                errs.append(
                    f"cannot set feature gate {key} to {_format_bool(value)}, "
                    f"feature is locked to {_format_bool(spec.default)}"
                )
                continue
            special = self._special.get(key)
            if special is not None:
                special(known, enabled, value, emulation_version, min_compatibility_version)
                enabled[key] = value
                continue
            if spec.pre_release == PRE_ALPHA:
                errs.append(
                    f"cannot set feature gate {key} to {_format_bool(value)}, feature is "
                    f"PreAlpha at emulated version {emulation_version}, min compatibility "
                    f"version {min_compatibility_version}"
                )
                continue
            enabled[key] = value
            if log and spec.pre_release == DEPRECATED:
                logger.info("setting deprecated feature gate %s=%s", key, value)
            elif log and spec.pre_release == GA:
                logger.info("setting GA feature gate %s=%s", key, value)
        if errs:
            return errs

        for feature, deps in self._dependencies.items():
            if not feature_enabled(
                feature, enabled, known, emulation_version, min_compatibility_version
            ):
                continue
            disabled = [
                dep
                for dep in deps
                if not feature_enabled(
                    dep, enabled, known, emulation_version, min_compatibility_version
                )
            ]
            if disabled:
                errs.append(
                    f"{feature} is enabled, but depends on features that are disabled: {disabled}"
                )
        return errs

    def set_from_map(self, values: Mapping[str, bool]) -> None:
        """Port of featureGate.SetFromMap: apply explicit values; ValueError on any problem.

        Unlike upstream, which keeps the raw values even when they are rejected, a failed
        call changes nothing: a rejected value would otherwise make every later call fail.
        """
        with self._lock:
            enabled = dict(self._enabled)
            enabled_raw = dict(self._enabled_raw)
            enabled_raw.update(values)
            errs = self._unsafe_set_from_map(
                enabled, enabled_raw, self._emulation_version, self._min_compatibility_version
            )
            if errs:
                raise ValueError("; ".join(errs))
            self._enabled_raw = enabled_raw
            self._enabled = enabled
            logger.debug("updated feature gates: %s", enabled)

    def string(self) -> str:
        """Port of featureGate.String: the explicitly resolved values, sorted."""
        return ",".join(sorted(f"{k}={_format_bool(v)}" for k, v in self._enabled.items()))

    def __str__(self) -> str:
        return self.string()

    # -- registering gates -----------------------------------------------------------

    def add(self, features: Mapping[str, FeatureSpec]) -> None:
        """Port of featureGate.Add: unversioned specs, valid at every version."""
        self.add_versioned(
            {name: [replace(spec, version=Version(0, 0))] for name, spec in features.items()}
        )

    def add_versioned(self, features: Mapping[str, VersionedSpecs]) -> None:
        """Port of featureGate.AddVersioned: register gates after checking their history."""
        with self._lock:
            if self._closed:
                raise ValueError("cannot add a feature gate after adding it to the flag set")
            known = dict(self._known)
            for name, specs in features.items():
                completed = _complete_specs(name, specs)
                existing = known.get(name)
                if existing is not None:
                    if existing == completed:
                        continue
                    raise ValueError(
                        f"feature gate {name!r} with different spec already exists: {existing}"
                    )
                known[name] = completed
            self._known = known

    def add_dependencies(self, dependencies: Mapping[str, Sequence[str]]) -> None:
        """Port of featureGate.AddDependencies: ``feature -> gates it needs enabled``."""
        with self._lock:
            if self._closed:
                raise ValueError(
                    "cannot add a feature gate dependency after adding it to the flag set"
                )
            known = self._known
            merged: dict[str, list[str]] = {k: list(v) for k, v in dependencies.items()}
            for name, deps in self._dependencies.items():
                merged.setdefault(name, []).extend(deps)
            merged = {name: sorted(set(deps)) for name, deps in merged.items()}

            for feature, deps in merged.items():
                versioned_feature = known.get(feature)
                if versioned_feature is None:
                    raise ValueError(f"cannot add dependency for unknown feature {feature}")
                for dep in deps:
                    versioned_dep = known.get(dep)
                    if versioned_dep is None:
                        raise ValueError(
                            f"cannot add dependency from {feature} to unknown feature {dep}"
                        )
                    for spec in reversed(versioned_feature):
                        assert spec.version is not None
                        dep_spec = feature_spec_at_emulation_and_min_compat_version(
                            versioned_dep, spec.version, spec.min_compatibility_version
                        )
                        if _stability_order(spec.pre_release) > _stability_order(
                            dep_spec.pre_release
                        ):
                            raise ValueError(
                                f"{spec.pre_release} feature {feature} cannot depend on "
                                f"{dep_spec.pre_release} feature {dep} at version {spec.version}"
                            )
                        if spec.default and not dep_spec.default:
                            raise ValueError(
                                f"default-enabled feature {feature} cannot depend on "
                                f"default-disabled feature {dep} at version {spec.version}"
                            )
                        if spec.lock_to_default and not dep_spec.lock_to_default:
                            raise ValueError(
                                f"locked-to-default feature {feature} cannot depend on "
                                f"unlocked feature {dep} at version {spec.version}"
                            )

            visited: set[str] = set()
            finished: set[str] = set()

            def detect_cycles(feature: str) -> None:
                if feature in finished:
                    return
                if feature in visited:
                    raise ValueError(f"cycle detected with feature {feature}")
                visited.add(feature)
                for dep in merged.get(feature, []):
                    detect_cycles(dep)
                finished.add(feature)

            for feature in merged:
                detect_cycles(feature)
            self._dependencies = merged

    def dependencies(self) -> dict[str, list[str]]:
        """Port of featureGate.Dependencies."""
        return {k: list(v) for k, v in self._dependencies.items()}

    def override_default(self, name: str, override: bool) -> None:
        """Port of featureGate.OverrideDefault: change a gate's default at this version."""
        self._override_default_at(
            name, override, self._emulation_version, self._min_compatibility_version
        )

    def override_default_at_version(self, name: str, override: bool, ver: Version) -> None:
        """Port of featureGate.OverrideDefaultAtVersion."""
        self._override_default_at(name, override, ver, None)

    def _override_default_at(
        self, name: str, override: bool, emu_ver: Version, min_compat_ver: Version | None
    ) -> None:
        """Port of overrideDefaultAtEmulationAndMinCompatVersion."""
        with self._lock:
            if self._closed:
                raise ValueError(
                    f"cannot override default for feature {name!r}: gates already added to a "
                    "flag set"
                )
            specs = self._known.get(name)
            if specs is None:
                raise ValueError(f"cannot override default: feature {name!r} is not registered")
            spec = feature_spec_at_emulation_and_min_compat_version(specs, emu_ver, min_compat_ver)
            if spec.lock_to_default:
                raise ValueError(
                    f"cannot override default: feature {name!r} default is locked to "
                    f"{_format_bool(spec.default)}"
                )
            if spec.pre_release == PRE_ALPHA:
                raise ValueError(
                    f"cannot override default: feature {name!r} is not available before "
                    f"version {emu_ver}"
                )
            known = dict(self._known)
            known[name] = tuple(replace(s, default=override) if s is spec else s for s in specs)
            self._known = known

    # -- reading ---------------------------------------------------------------------

    def enabled(self, key: str) -> bool:
        """Port of featureGate.Enabled; ValueError for an unregistered gate (Go panics)."""
        value = feature_enabled(
            key,
            self._enabled,
            self._known,
            self._emulation_version,
            self._min_compatibility_version,
        )
        if key not in self._queried:
            self._queried = self._queried | {key}
        return value

    def known(self) -> dict[str, FeatureSpec]:
        """Port of featureGate.GetAll: the spec of every gate available at this version."""
        result: dict[str, FeatureSpec] = {}
        for name, specs in self._known.items():
            spec = feature_spec_at_emulation_and_min_compat_version(
                specs, self._emulation_version, self._min_compatibility_version
            )
            if spec.pre_release != PRE_ALPHA:
                result[name] = spec
        return result

    def get_all_versioned(self) -> dict[str, list[FeatureSpec]]:
        """Port of featureGate.GetAllVersioned."""
        return {name: list(specs) for name, specs in self._known.items()}

    def known_features(self) -> list[str]:
        """Port of featureGate.KnownFeatures: sorted help lines, hiding GA/deprecated gates."""
        lines: list[str] = []
        for name, specs in self._known.items():
            if name in (_ALL_ALPHA_GATE, _ALL_BETA_GATE):
                first = specs[0]
                lines.append(
                    f"{name}=true|false ({first.pre_release} - "
                    f"default={_format_bool(first.default)})"
                )
                continue
            spec = feature_spec_at_emulation_and_min_compat_version(
                specs, self._emulation_version, self._min_compatibility_version
            )
            text = spec.help_string(name, False)
            compat_spec = feature_spec_at_emulation_and_min_compat_version(
                specs, self._emulation_version, self._emulation_version
            )
            compat_text = compat_spec.help_string(name, True)
            if spec == compat_spec:
                if text:
                    lines.append(text)
                continue
            parts = [p for p in (text, compat_text) if p]
            if parts:
                lines.append(", or ".join(parts))
        return sorted(lines)

    def explicitly_set(self, name: str) -> bool:
        """Port of featureGate.ExplicitlySet."""
        return name in self._enabled_raw

    def reset_feature_value_to_default(self, name: str) -> None:
        """Port of featureGate.ResetFeatureValueToDefault: forget an explicit value."""
        with self._lock:
            enabled = dict(self._enabled)
            enabled_raw = dict(self._enabled_raw)
            in_enabled = enabled.pop(name, None) is not None
            in_raw = enabled_raw.pop(name, None) is not None
            if in_raw and not in_enabled:
                raise ValueError(f"feature:{name} was explicitly set, but not in enabled map")
            self._enabled = enabled
            self._enabled_raw = enabled_raw

    def emulation_version(self) -> Version:
        """Port of featureGate.EmulationVersion."""
        return self._emulation_version

    def min_compatibility_version(self) -> Version:
        """Port of featureGate.MinCompatibilityVersion."""
        return self._min_compatibility_version

    def set_emulation_version(self, emulation_version: Version) -> None:
        """Port of featureGate.SetEmulationVersion (min compatibility = one minor lower)."""
        self.set_emulation_version_and_min_compatibility_version(
            emulation_version, emulation_version.subtract_minor(1)
        )

    def set_emulation_version_and_min_compatibility_version(
        self, emulation_version: Version, min_compatibility_version: Version
    ) -> None:
        """Port of SetEmulationVersionAndMinCompatibilityVersion: re-resolve the raw values."""
        if (
            emulation_version == self._emulation_version
            and min_compatibility_version == self._min_compatibility_version
        ):
            return
        with self._lock:
            enabled: dict[str, bool] = {}
            errs = self._unsafe_set_from_map(
                enabled, self._enabled_raw, emulation_version, min_compatibility_version
            )
            for feature in self._queried:
                new_val = feature_enabled(
                    feature, enabled, self._known, emulation_version, min_compatibility_version
                )
                old_val = feature_enabled(
                    feature,
                    self._enabled,
                    self._known,
                    self._emulation_version,
                    self._min_compatibility_version,
                )
                if new_val != old_val:
                    logger.info(
                        "changing emulation version changes already queried feature %s: %s -> %s",
                        feature,
                        old_val,
                        new_val,
                    )
            if errs:
                raise ValueError("; ".join(errs))
            self._enabled = enabled
            self._emulation_version = emulation_version
            self._min_compatibility_version = min_compatibility_version
            self._queried = frozenset()

    def close(self) -> None:
        """Port of featureGate.Close: no more gates may be added."""
        with self._lock:
            self._closed = True

    def deep_copy(self) -> FeatureGate:
        """Port of featureGate.DeepCopy: an independent gate with the same state."""
        with self._lock:
            copy = FeatureGate(self._emulation_version, self._min_compatibility_version)
            copy._known = dict(self._known)
            copy._enabled = dict(self._enabled)
            copy._enabled_raw = dict(self._enabled_raw)
            copy._dependencies = {k: list(v) for k, v in self._dependencies.items()}
            copy._closed = self._closed
            return copy


def _complete_specs(name: str, specs: VersionedSpecs) -> tuple[FeatureSpec, ...]:
    """Validate one gate's history as AddVersioned does; fill inherited min-compat versions."""
    completed: list[FeatureSpec] = []
    last: FeatureSpec | None = None
    was_beta = was_ga = was_deprecated = was_locked = False
    for i, spec in enumerate(specs):
        if spec.version is None:
            raise ValueError(f"feature {name!r} did not provide a version")
        if spec.min_compatibility_version is not None:
            if last is None or spec.version != last.version:
                raise ValueError(
                    f"feature {name!r} specified MinCompatibilityVersion: "
                    f"{spec.min_compatibility_version} without a preceding entry at the same "
                    "Version without MinCompatibilityVersion set"
                )
            if spec.min_compatibility_version > spec.version:
                raise ValueError(
                    f"feature {name!r} MinCompatibilityVersion {spec.min_compatibility_version} "
                    f"greater than Version {spec.version}"
                )
        if i == 0 and spec.pre_release == DEPRECATED and spec.version.minor != 0:
            raise ValueError(
                f"feature {name!r} introduced as deprecated must provide a 1.0 entry "
                "indicating initial state"
            )
        if last is not None:
            assert last.version is not None
            if spec.version < last.version:
                raise ValueError(
                    f"feature {name!r} lists version transitions in decreasing order "
                    f"({spec.version} < {last.version})"
                )
            if (
                spec.min_compatibility_version is not None
                and last.min_compatibility_version is not None
                and spec.min_compatibility_version < last.min_compatibility_version
            ):
                raise ValueError(
                    f"feature {name!r} lists min compatibility version transitions in "
                    "decreasing order"
                )
            if spec.version == last.version:
                if spec.min_compatibility_version == last.min_compatibility_version:
                    raise ValueError(
                        f"feature {name!r} lists duplicate entries with the same versions "
                        f"({spec.version} = {last.version})"
                    )
                if spec.pre_release != last.pre_release:
                    raise ValueError(
                        f"feature {name!r} lists stability changes with the same version"
                    )
                if spec.lock_to_default != last.lock_to_default:
                    raise ValueError(
                        f"feature {name!r} lists locked to default changes with the same version"
                    )
            if (
                spec.pre_release == last.pre_release
                and spec.default == last.default
                and spec.lock_to_default == last.lock_to_default
            ):
                raise ValueError(
                    f"feature {name!r} lists transition without stability change "
                    f"({last.version} -> {spec.version})"
                )
            if was_locked and not spec.lock_to_default:
                raise ValueError(f"feature {name!r} must not unlock after locking to default")
            if spec.pre_release != DEPRECATED and was_deprecated:
                raise ValueError(
                    f"deprecated feature {name!r} must not resurrect from its terminal state"
                )
            if (spec.pre_release == ALPHA and (was_beta or was_ga)) or (
                spec.pre_release == BETA and was_ga
            ):
                raise ValueError(
                    f"feature {name!r} regresses stability from more stable level to "
                    f"{spec.pre_release} in {spec.version}"
                )
        done = spec
        if done.min_compatibility_version is None and last is not None:
            done = replace(done, min_compatibility_version=last.min_compatibility_version)
        completed.append(done)
        last = done
        was_beta = was_beta or spec.pre_release == BETA
        was_ga = was_ga or spec.pre_release == GA
        was_deprecated = was_deprecated or spec.pre_release == DEPRECATED
        was_locked = was_locked or spec.lock_to_default
    return tuple(completed)


# ---------------------------------------------------------------------------------------
# Gate names (pkg/features/kube_features.go at v1.37.2). Only the gates the Job controller
# and the helpers it calls read are mirrored. JobPodFailurePolicy, JobBackoffLimitPerIndex,
# JobSuccessPolicy, JobPodReplacementPolicy, PodIndexLabel, ElasticIndexedJob,
# JobReadyPods, JobTrackingWithFinalizers and PodDisruptionConditions were removed
# upstream before 1.37: their behaviour is unconditional now.

# Kubernetes gates.
CONTAINER_RESTART_RULES = "ContainerRestartRules"
GENERIC_WORKLOAD = "GenericWorkload"
JOB_MANAGED_BY = "JobManagedBy"
MUTABLE_POD_RESOURCES_FOR_SUSPENDED_JOBS = "MutablePodResourcesForSuspendedJobs"
MUTABLE_SCHEDULING_DIRECTIVES_FOR_SUSPENDED_JOBS = "MutableSchedulingDirectivesForSuspendedJobs"
NODE_DECLARED_FEATURES = "NodeDeclaredFeatures"
POD_DELETION_COST = "PodDeletionCost"
POD_OBSERVED_GENERATION_TRACKING = "PodObservedGenerationTracking"
RESTART_ALL_CONTAINERS_ON_CONTAINER_EXITS = "RestartAllContainersOnContainerExits"
STALE_CONTROLLER_CONSISTENCY_JOB = "StaleControllerConsistencyJob"
WORKLOAD_WITH_JOB = "WorkloadWithJob"

# client-go gates (k8s.io/client-go/features/known_features.go at v0.37.2).
ATOMIC_FIFO = "AtomicFIFO"
CLIENTS_ALLOW_CA_ROTATION = "ClientsAllowCARotation"
CLIENTS_ALLOW_CBOR = "ClientsAllowCBOR"
CLIENTS_ALLOW_TLS_CACHE_GC = "ClientsAllowTLSCacheGC"
CLIENTS_PREFER_CBOR = "ClientsPreferCBOR"
IN_ORDER_INFORMERS = "InOrderInformers"
IN_ORDER_INFORMERS_BATCH_PROCESS = "InOrderInformersBatchProcess"
INFORMER_RESOURCE_VERSION = "InformerResourceVersion"
UNLOCK_WHILE_PROCESSING_FIFO = "UnlockWhileProcessingFIFO"
WATCH_LIST_CLIENT = "WatchListClient"


def _v(text: str) -> Version:
    return Version.parse(text)


DEFAULT_VERSIONED_KUBERNETES_FEATURE_GATES: dict[str, tuple[FeatureSpec, ...]] = {
    CONTAINER_RESTART_RULES: (
        FeatureSpec(version=_v("1.34"), default=False, pre_release=ALPHA),
        FeatureSpec(version=_v("1.35"), default=True, pre_release=BETA),
    ),
    GENERIC_WORKLOAD: (
        FeatureSpec(version=_v("1.35"), default=False, pre_release=ALPHA),
        FeatureSpec(version=_v("1.37"), default=False, pre_release=BETA),
    ),
    JOB_MANAGED_BY: (
        FeatureSpec(version=_v("1.30"), default=False, pre_release=ALPHA),
        FeatureSpec(version=_v("1.32"), default=True, pre_release=BETA),
        FeatureSpec(version=_v("1.35"), default=True, pre_release=GA, lock_to_default=True),
    ),
    MUTABLE_POD_RESOURCES_FOR_SUSPENDED_JOBS: (
        FeatureSpec(version=_v("1.35"), default=False, pre_release=ALPHA),
        FeatureSpec(version=_v("1.36"), default=True, pre_release=BETA),
    ),
    MUTABLE_SCHEDULING_DIRECTIVES_FOR_SUSPENDED_JOBS: (
        FeatureSpec(version=_v("1.35"), default=False, pre_release=ALPHA),
        FeatureSpec(version=_v("1.36"), default=True, pre_release=BETA),
    ),
    NODE_DECLARED_FEATURES: (
        FeatureSpec(version=_v("1.35"), default=False, pre_release=ALPHA),
        FeatureSpec(version=_v("1.36"), default=True, pre_release=BETA),
        FeatureSpec(version=_v("1.37"), default=True, pre_release=GA, lock_to_default=True),
    ),
    POD_DELETION_COST: (
        FeatureSpec(version=_v("1.21"), default=False, pre_release=ALPHA),
        FeatureSpec(version=_v("1.22"), default=True, pre_release=BETA),
    ),
    POD_OBSERVED_GENERATION_TRACKING: (
        FeatureSpec(version=_v("1.33"), default=False, pre_release=ALPHA),
        FeatureSpec(version=_v("1.34"), default=True, pre_release=BETA),
        FeatureSpec(version=_v("1.35"), default=True, pre_release=GA, lock_to_default=True),
    ),
    RESTART_ALL_CONTAINERS_ON_CONTAINER_EXITS: (
        FeatureSpec(version=_v("1.35"), default=False, pre_release=ALPHA),
        FeatureSpec(version=_v("1.36"), default=True, pre_release=BETA),
    ),
    STALE_CONTROLLER_CONSISTENCY_JOB: (
        FeatureSpec(version=_v("1.36"), default=True, pre_release=BETA),
    ),
    WORKLOAD_WITH_JOB: (FeatureSpec(version=_v("1.36"), default=False, pre_release=ALPHA),),
}

DEFAULT_KUBERNETES_FEATURE_GATE_DEPENDENCIES: dict[str, tuple[str, ...]] = {
    CONTAINER_RESTART_RULES: (),
    GENERIC_WORKLOAD: (),
    JOB_MANAGED_BY: (),
    MUTABLE_POD_RESOURCES_FOR_SUSPENDED_JOBS: (),
    MUTABLE_SCHEDULING_DIRECTIVES_FOR_SUSPENDED_JOBS: (),
    NODE_DECLARED_FEATURES: (),
    POD_DELETION_COST: (),
    POD_OBSERVED_GENERATION_TRACKING: (),
    RESTART_ALL_CONTAINERS_ON_CONTAINER_EXITS: (CONTAINER_RESTART_RULES, NODE_DECLARED_FEATURES),
    STALE_CONTROLLER_CONSISTENCY_JOB: (ATOMIC_FIFO,),
    WORKLOAD_WITH_JOB: (GENERIC_WORKLOAD,),
}

DEFAULT_VERSIONED_CLIENT_GO_FEATURE_GATES: dict[str, tuple[FeatureSpec, ...]] = {
    ATOMIC_FIFO: (FeatureSpec(version=_v("1.36"), default=True, pre_release=BETA),),
    CLIENTS_ALLOW_CA_ROTATION: (FeatureSpec(version=_v("1.36"), default=True, pre_release=BETA),),
    CLIENTS_ALLOW_CBOR: (FeatureSpec(version=_v("1.32"), default=False, pre_release=ALPHA),),
    CLIENTS_ALLOW_TLS_CACHE_GC: (FeatureSpec(version=_v("1.36"), default=True, pre_release=BETA),),
    CLIENTS_PREFER_CBOR: (FeatureSpec(version=_v("1.32"), default=False, pre_release=ALPHA),),
    IN_ORDER_INFORMERS: (
        FeatureSpec(version=_v("1.33"), default=True, pre_release=BETA),
        FeatureSpec(version=_v("1.36"), default=True, pre_release=GA, lock_to_default=True),
    ),
    IN_ORDER_INFORMERS_BATCH_PROCESS: (
        FeatureSpec(version=_v("1.35"), default=True, pre_release=BETA),
    ),
    INFORMER_RESOURCE_VERSION: (
        FeatureSpec(version=_v("1.30"), default=False, pre_release=ALPHA),
        FeatureSpec(version=_v("1.35"), default=True, pre_release=GA),
    ),
    UNLOCK_WHILE_PROCESSING_FIFO: (
        FeatureSpec(version=_v("1.36"), default=True, pre_release=BETA),
    ),
    WATCH_LIST_CLIENT: (
        FeatureSpec(version=_v("1.30"), default=False, pre_release=BETA),
        FeatureSpec(version=_v("1.35"), default=True, pre_release=BETA),
    ),
}


def new_default_feature_gate() -> FeatureGate:
    """Build a gate registered like upstream's DefaultMutableFeatureGate (features init)."""
    gate = FeatureGate(DEFAULT_KUBE_BINARY_VERSION)
    gate.add_versioned(DEFAULT_VERSIONED_CLIENT_GO_FEATURE_GATES)
    gate.add_versioned(DEFAULT_VERSIONED_KUBERNETES_FEATURE_GATES)
    gate.add_dependencies(DEFAULT_KUBERNETES_FEATURE_GATE_DEPENDENCIES)
    return gate


# Process-wide gate: port of utilfeature.DefaultFeatureGate / DefaultMutableFeatureGate.
DEFAULT_FEATURE_GATE: FeatureGate = new_default_feature_gate()


# ---------------------------------------------------------------------------------------
# Test helpers: port of k8s.io/component-base/featuregate/testing.

CleanupFn = Callable[[Callable[[], None]], None]


class FeatureGateOverride:
    """Handle returned by the ``set_*_during_test`` helpers.

    The override is applied on creation. ``restore`` undoes it (idempotent); using the
    handle as a context manager restores on exit. Passing ``cleanup`` (for example pytest's
    ``request.addfinalizer``) registers ``restore`` the way Go's ``t.Cleanup`` does.
    """

    def __init__(self, restore: Callable[[], None], cleanup: CleanupFn | None) -> None:
        self._restore_fn = restore
        self._restored = False
        if cleanup is not None:
            cleanup(self.restore)

    def restore(self) -> None:
        if self._restored:
            return
        self._restored = True
        self._restore_fn()

    def __enter__(self) -> FeatureGateOverride:
        return self

    def __exit__(self, *exc: object) -> None:
        self.restore()


def set_feature_gates_during_test(
    gate: FeatureGate, features: Mapping[str, bool], *, cleanup: CleanupFn | None = None
) -> FeatureGateOverride:
    """Port of featuregatetesting.SetFeatureGatesDuringTest.

    Sets the given gates until the returned handle is restored. Gates that are enabled
    and depend (directly or not) on a gate being switched off here are switched off too,
    unless set explicitly. AllAlpha/AllBeta override every alpha/beta gate individually.
    Raises ValueError (and changes nothing) when a value cannot be set.
    """
    original_emu_ver = gate.emulation_version()
    overrides: dict[str, bool] = {}

    if _ALL_ALPHA_GATE in features or _ALL_BETA_GATE in features:
        for name, spec in gate.known().items():
            if spec.pre_release == ALPHA and _ALL_ALPHA_GATE in features:
                overrides[name] = features[_ALL_ALPHA_GATE]
            elif spec.pre_release == BETA and _ALL_BETA_GATE in features:
                overrides[name] = features[_ALL_BETA_GATE]
    overrides.update(features)

    dependencies = gate.dependencies()
    for feature in dependencies:
        if feature in overrides or not gate.enabled(feature):
            continue
        disabled, dep = _has_disabled_dependency(feature, dependencies, features)
        if disabled:
            logger.debug(
                "disabling feature %s since it depends on disabled feature %s", feature, dep
            )
            overrides[feature] = False

    original_values = {name: gate.enabled(name) for name in overrides}
    originally_unset = [name for name in overrides if not gate.explicitly_set(name)]

    def restore() -> None:
        if gate.emulation_version() != original_emu_ver:
            raise RuntimeError(
                f"change of feature gate emulation version from {original_emu_ver} to "
                f"{gate.emulation_version()} in the chain of set_feature_gate_during_test is "
                "not allowed; use set_feature_gate_emulation_version_during_test"
            )
        gate.set_from_map(original_values)
        for name in originally_unset:
            gate.reset_feature_value_to_default(name)

    try:
        gate.set_from_map(overrides)
    except ValueError as err:
        hints = [
            hint
            for name, value in features.items()
            if (hint := _suggest_change_emulation_version(gate, name, value))
        ]
        raise ValueError(" ".join([f"failed to set feature gates: {err}", *hints])) from None
    return FeatureGateOverride(restore, cleanup)


def set_feature_gate_during_test(
    gate: FeatureGate, name: str, value: bool, *, cleanup: CleanupFn | None = None
) -> FeatureGateOverride:
    """Port of featuregatetesting.SetFeatureGateDuringTest: one gate, restored afterwards."""
    return set_feature_gates_during_test(gate, {name: value}, cleanup=cleanup)


def set_feature_gate_versions_during_test(
    gate: FeatureGate,
    emulation_version: Version,
    min_compatibility_version: Version,
    *,
    cleanup: CleanupFn | None = None,
) -> FeatureGateOverride:
    """Port of featuregatetesting.SetFeatureGateVersionsDuringTest."""
    original_emu = gate.emulation_version()
    original_min = gate.min_compatibility_version()
    gate.set_emulation_version_and_min_compatibility_version(
        emulation_version, min_compatibility_version
    )

    def restore() -> None:
        gate.set_emulation_version_and_min_compatibility_version(original_emu, original_min)

    return FeatureGateOverride(restore, cleanup)


def set_feature_gate_emulation_version_during_test(
    gate: FeatureGate, version: Version, *, cleanup: CleanupFn | None = None
) -> FeatureGateOverride:
    """Port of featuregatetesting.SetFeatureGateEmulationVersionDuringTest."""
    return set_feature_gate_versions_during_test(
        gate, version, version.subtract_minor(1), cleanup=cleanup
    )


def _has_disabled_dependency(
    feature: str, dependencies: Mapping[str, Sequence[str]], features: Mapping[str, bool]
) -> tuple[bool, str]:
    """Port of hasDisabledDependency: is some transitive dependency switched off here?"""
    if feature in features:
        return (not features[feature]), feature
    for dep in dependencies.get(feature, ()):
        disabled, which = _has_disabled_dependency(dep, dependencies, features)
        if disabled:
            return disabled, which
    return False, ""


def _suggest_change_emulation_version(gate: FeatureGate, name: str, value: bool) -> str:
    """Port of suggestChangeEmulationVersion: hint for gates locked at this version."""
    specs = gate.get_all_versioned().get(name)
    if not specs or len(specs) < 2:
        return ""
    last = specs[-1]
    emu = gate.emulation_version()
    if (
        last.lock_to_default
        and last.version is not None
        and not last.version > emu
        and last.default != value
    ):
        prior = last.version.subtract_minor(1)
        return (
            f"Feature {name} is locked at version {emu}. Try "
            f"set_feature_gate_emulation_version_during_test(gate, Version(1, {prior.minor})) "
            "first."
        )
    return ""


# ---------------------------------------------------------------------------------------
# What jobctl implements (not upstream: KCM implements every gate it registers).

# The gates whose behaviour jobctl has ported: the code reads them and acts on them.
IMPLEMENTED_GATES: frozenset[str] = frozenset(
    {
        JOB_MANAGED_BY,
        MUTABLE_SCHEDULING_DIRECTIVES_FOR_SUSPENDED_JOBS,
        STALE_CONTROLLER_CONSISTENCY_JOB,
        ATOMIC_FIFO,
        IN_ORDER_INFORMERS,
        IN_ORDER_INFORMERS_BATCH_PROCESS,
        INFORMER_RESOURCE_VERSION,
        UNLOCK_WHILE_PROCESSING_FIFO,
    }
)


def unimplemented_gate_settings(gate: FeatureGate) -> tuple[list[str], list[str]]:
    """The gates set on the command line (directly or through AllAlpha/AllBeta) whose
    feature jobctl does not implement, as ``(refused, ignored)``.

    ``refused``: alpha gates switched on — an operator would believe an experimental
    feature is running when nothing happens, so start-up stops. ``ignored``: every other
    setting of an unimplemented gate (KCM accepts them all; jobctl warns).
    """
    refused: list[str] = []
    ignored: list[str] = []
    for name, spec in sorted(gate.known().items()):
        if name in IMPLEMENTED_GATES or name in (_ALL_ALPHA_GATE, _ALL_BETA_GATE):
            continue
        value = gate.enabled(name)
        if not gate.explicitly_set(name) and value == spec.default:
            continue
        if spec.pre_release == ALPHA and value:
            refused.append(name)
        else:
            ignored.append(name)
    return refused, ignored
