"""Client configuration resolution as the jobctl binary uses it.

client-go's BuildConfigFromFlags order, with kubectl's loading rules: --kubeconfig,
then $KUBECONFIG, then in-cluster, then ~/.kube/config; --master overrides the server.
Every failure is one line (and becomes a one-line StartupError in the binary).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jobctl.app.controller_manager import StartupError, create_config
from jobctl.app.options import JobctlOptions
from jobctl.client.real import ConfigError, load_configuration


def kubeconfig(server_a: str, server_b: str, current: str = "ctx-a", token: str = "abc") -> str:
    return f"""\
apiVersion: v1
kind: Config
clusters:
- name: a
  cluster:
    server: {server_a}
    insecure-skip-tls-verify: true
- name: b
  cluster:
    server: {server_b}
    insecure-skip-tls-verify: true
users:
- name: u
  user:
    token: {token}
contexts:
- name: ctx-a
  context:
    cluster: a
    user: u
- name: ctx-b
  context:
    cluster: b
    user: u
current-context: {current}
"""


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No KUBECONFIG, no in-cluster variables, an empty home."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_PORT", raising=False)
    return home


def write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def test_explicit_kubeconfig_current_context(tmp_path: Path) -> None:
    path = write(tmp_path / "kc", kubeconfig("https://a.example:6443", "https://b.example:6443"))
    cfg = load_configuration(path)
    assert cfg.host == "https://a.example:6443"
    assert cfg.api_key.get("BearerToken") == "Bearer abc"


def test_context_selects_cluster(tmp_path: Path) -> None:
    path = write(tmp_path / "kc", kubeconfig("https://a.example:6443", "https://b.example:6443"))
    cfg = load_configuration(path, context="ctx-b")
    assert cfg.host == "https://b.example:6443"


def test_flag_wins_over_kubeconfig_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flag = write(tmp_path / "flag", kubeconfig("https://flag.example", "https://x.example"))
    env = write(tmp_path / "env", kubeconfig("https://env.example", "https://y.example"))
    monkeypatch.setenv("KUBECONFIG", env)
    assert load_configuration(flag).host == "https://flag.example"


def test_kubeconfig_env_wins_over_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isolated_env: Path
) -> None:
    write(isolated_env / ".kube" / "config", kubeconfig("https://home.example", "https://z"))
    env = write(tmp_path / "env", kubeconfig("https://env.example", "https://y.example"))
    monkeypatch.setenv("KUBECONFIG", env)
    assert load_configuration().host == "https://env.example"


def test_home_kubeconfig_is_the_fallback(isolated_env: Path) -> None:
    write(isolated_env / ".kube" / "config", kubeconfig("https://home.example", "https://z"))
    assert load_configuration().host == "https://home.example"


def test_master_overrides_server(tmp_path: Path) -> None:
    path = write(tmp_path / "kc", kubeconfig("https://a.example:6443", "https://b.example:6443"))
    cfg = load_configuration(path, master="https://override.example:443/")
    assert cfg.host == "https://override.example:443"
    assert cfg.api_key.get("BearerToken") == "Bearer abc"


def test_master_alone() -> None:
    assert load_configuration(master="http://127.0.0.1:8080").host == "http://127.0.0.1:8080"


def test_nothing_to_load_is_one_line() -> None:
    with pytest.raises(ConfigError) as exc:
        load_configuration()
    assert "\n" not in str(exc.value)
    assert "no configuration" in str(exc.value)


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    missing = str(tmp_path / "absent")
    with pytest.raises(ConfigError) as exc:
        load_configuration(missing)
    assert str(exc.value) == f"kubeconfig {missing}: no such file"


@pytest.mark.parametrize(
    "content",
    [
        "clusters: [unterminated\n  - : :\n",
        "apiVersion: v1\nkind: Config\ncurrent-context: nowhere\n",
        "just a string\n",
    ],
    ids=["invalid yaml", "unknown current context", "not a mapping"],
)
def test_bad_file_is_one_line(tmp_path: Path, content: str) -> None:
    path = write(tmp_path / "bad", content)
    with pytest.raises(ConfigError) as exc:
        load_configuration(path)
    text = str(exc.value)
    assert "\n" not in text
    assert text.startswith(f"kubeconfig {path}: ")


def test_unknown_context_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path / "kc", kubeconfig("https://a.example", "https://b.example"))
    with pytest.raises(ConfigError) as exc:
        load_configuration(path, context="nope")
    assert "\n" not in str(exc.value)
    assert "nope" in str(exc.value)


def test_binary_reports_bad_kubeconfig_as_startup_error(tmp_path: Path) -> None:
    path = write(tmp_path / "bad", "clusters: [unterminated\n")
    with pytest.raises(StartupError) as exc:
        create_config(JobctlOptions(kubeconfig=path))
    text = str(exc.value)
    assert "\n" not in text
    assert text.startswith(f"invalid client configuration: kubeconfig {path}: ")
