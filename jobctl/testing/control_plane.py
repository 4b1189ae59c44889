"""A real local control plane: etcd plus kube-apiserver on loopback ports.

Used by the integration tests (a session-scoped pytest fixture) and by ``make run``.
The binaries come from ``hack/build-control-plane.sh`` (built with the Go toolchain
from the Go module proxy and cached outside the repository), or from the folder named
by ``JOBCTL_ASSETS``. Nothing here fakes the API server.

Identities are static bearer tokens (``--token-auth-file``): an admin in group
``system:masters`` and a restricted user that the caller may bind to ``deploy/``'s
ClusterRole. Authorization is RBAC, as in a real cluster.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO_ROOT / "hack" / "build-control-plane.sh"
RESTRICTED_USER = "jobctl-restricted"
ADMIN_USER = "jobctl-admin"


class ControlPlaneError(RuntimeError):
    """The control plane could not be built, started or reached."""


def free_port() -> int:
    """Ask the kernel for a loopback port nobody listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def find_assets(with_kcm: bool = False) -> Path:
    """Return the folder holding kube-apiserver and etcd, building them if needed."""
    assets = os.environ.get("JOBCTL_ASSETS")
    wanted = ["kube-apiserver", "etcd"] + (["kube-controller-manager"] if with_kcm else [])
    if assets and all((Path(assets) / b).exists() for b in wanted):
        return Path(assets)
    cmd = [str(BUILD_SCRIPT)] + (["--with-kcm"] if with_kcm else [])
    log.info("building the control plane: %s", " ".join(cmd))
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        raise ControlPlaneError(f"{BUILD_SCRIPT.name} failed with exit code {proc.returncode}")
    return Path(proc.stdout.strip().splitlines()[-1])


def kube_controller_manager_args(
    assets: Path,
    kubeconfig: str | Path,
    controllers: str = "job",
    qps: float = 20,
    burst: int = 30,
) -> list[str]:
    """Command line of upstream kube-controller-manager running only ``controllers``,
    without leader election, service-account credentials or a serving port."""
    return [
        str(assets / "kube-controller-manager"),
        f"--kubeconfig={kubeconfig}",
        f"--controllers={controllers}",
        "--leader-elect=false",
        "--use-service-account-credentials=false",
        "--secure-port=0",
        f"--kube-api-qps={qps:g}",
        f"--kube-api-burst={burst}",
    ]


def jobctl_args(kubeconfig: str | Path, controller_name: str, *extra: str) -> list[str]:
    """Command line of a single jobctl replica (no leader election, no HTTP port)."""
    return [
        sys.executable,
        "-m",
        "jobctl",
        f"--kubeconfig={kubeconfig}",
        "--leader-elect=false",
        f"--controller-name={controller_name}",
        "--port=0",
        "--secure-port=0",
        *extra,
    ]


@dataclass
class _Process:
    name: str
    args: list[str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log_file = self.log_path.open("ab")
        try:
            self.popen = subprocess.Popen(
                self.args,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            log_file.close()

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        if self.popen is None:
            return
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout)
        self.popen = None

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class ControlPlane:
    """etcd + kube-apiserver started on free loopback ports under a temporary folder."""

    assets: Path
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="jobctl-cp-")))
    extra_apiserver_flags: list[str] = field(default_factory=list)
    keep_workdir: bool = False

    def __post_init__(self) -> None:
        self.etcd_port = free_port()
        self.etcd_peer_port = free_port()
        self.apiserver_port = free_port()
        self.admin_token = secrets.token_hex(16)
        self.restricted_token = secrets.token_hex(16)
        self._etcd: _Process | None = None
        self._apiserver: _Process | None = None

    @property
    def host(self) -> str:
        return f"https://127.0.0.1:{self.apiserver_port}"

    @property
    def admin_kubeconfig(self) -> Path:
        return self.workdir / "admin.kubeconfig"

    @property
    def restricted_kubeconfig(self) -> Path:
        return self.workdir / "restricted.kubeconfig"

    # ---- lifecycle -----------------------------------------------------------------

    def start(self, timeout: float = 120.0) -> ControlPlane:
        """Start etcd, then kube-apiserver, and wait until /readyz answers ok."""
        try:
            self._write_identities()
            self._start_etcd()
            self._start_apiserver()
            self.wait_ready(timeout)
        except BaseException:
            # Leave no process behind when start-up fails half-way.
            self.stop()
            raise
        # The serving certificate (and the CA in the same file) exists once it is up.
        self._write_kubeconfigs()
        return self

    def stop(self) -> None:
        """Stop both processes (apiserver first) and remove the work folder."""
        for proc in (self._apiserver, self._etcd):
            if proc is not None:
                proc.stop()
        if not self.keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def restart_apiserver(self, timeout: float = 120.0) -> None:
        """Stop and start kube-apiserver on the same port and etcd (state survives)."""
        if self._apiserver is not None:
            self._apiserver.stop()
        self._start_apiserver()
        self.wait_ready(timeout)

    def stop_apiserver(self) -> None:
        if self._apiserver is not None:
            self._apiserver.stop()

    def start_apiserver(self, timeout: float = 120.0) -> None:
        self._start_apiserver()
        self.wait_ready(timeout)

    def __enter__(self) -> ControlPlane:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- internals -----------------------------------------------------------------

    def _write_identities(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "tokens.csv").write_text(
            f'{self.admin_token},{ADMIN_USER},1,"system:masters"\n'
            f"{self.restricted_token},{RESTRICTED_USER},2\n"
        )
        key = self.workdir / "sa.key"
        if not key.exists():
            subprocess.run(
                ["openssl", "genrsa", "-out", str(key), "2048"],
                check=True,
                capture_output=True,
            )
            subprocess.run(
                [
                    "openssl",
                    "rsa",
                    "-in",
                    str(key),
                    "-pubout",
                    "-out",
                    str(self.workdir / "sa.pub"),
                ],
                check=True,
                capture_output=True,
            )

    def _write_kubeconfigs(self) -> None:
        self._write_kubeconfig(self.admin_kubeconfig, ADMIN_USER, self.admin_token)
        self._write_kubeconfig(self.restricted_kubeconfig, RESTRICTED_USER, self.restricted_token)

    def _write_kubeconfig(self, path: Path, user: str, token: str) -> None:
        path.write_text(
            "apiVersion: v1\n"
            "kind: Config\n"
            "clusters:\n"
            "- name: local\n"
            "  cluster:\n"
            f"    server: {self.host}\n"
            f"    certificate-authority: {self.workdir / 'certs' / 'apiserver.crt'}\n"
            "users:\n"
            f"- name: {user}\n"
            "  user:\n"
            f"    token: {token}\n"
            "contexts:\n"
            "- name: local\n"
            "  context:\n"
            "    cluster: local\n"
            f"    user: {user}\n"
            "current-context: local\n"
        )

    def _start_etcd(self) -> None:
        client = f"http://127.0.0.1:{self.etcd_port}"
        peer = f"http://127.0.0.1:{self.etcd_peer_port}"
        self._etcd = _Process(
            "etcd",
            [
                str(self.assets / "etcd"),
                "--name=jobctl",
                f"--data-dir={self.workdir / 'etcd-data'}",
                f"--listen-client-urls={client}",
                f"--advertise-client-urls={client}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=jobctl={peer}",
                "--unsafe-no-fsync=true",
                "--log-level=warn",
            ],
            self.workdir / "etcd.log",
        )
        self._etcd.start()

    def _start_apiserver(self) -> None:
        self._apiserver = _Process(
            "kube-apiserver",
            [
                str(self.assets / "kube-apiserver"),
                f"--etcd-servers=http://127.0.0.1:{self.etcd_port}",
                f"--cert-dir={self.workdir / 'certs'}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={self.apiserver_port}",
                "--service-cluster-ip-range=10.0.0.0/24",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={self.workdir / 'sa.pub'}",
                f"--service-account-signing-key-file={self.workdir / 'sa.key'}",
                f"--token-auth-file={self.workdir / 'tokens.csv'}",
                "--authorization-mode=RBAC",
                # No service-account controller runs, so pods could not get the default SA.
                "--disable-admission-plugins=ServiceAccount",
                "--allow-privileged=true",
                # Loopback cannot be advertised as the kubernetes Service endpoint.
                "--endpoint-reconciler-type=none",
                *self.extra_apiserver_flags,
            ],
            self.workdir / "kube-apiserver.log",
        )
        self._apiserver.start()

    def wait_ready(self, timeout: float) -> None:
        """Poll /readyz until it answers 200, failing fast if a process died."""
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        request = urllib.request.Request(
            f"{self.host}/readyz", headers={"Authorization": f"Bearer {self.admin_token}"}
        )
        deadline = time.monotonic() + timeout
        last_error = ""
        while time.monotonic() < deadline:
            for proc in (self._etcd, self._apiserver):
                if proc is not None and not proc.alive():
                    raise ControlPlaneError(
                        f"{proc.name} exited during start-up; last log lines:\n{proc.tail()}"
                    )
            try:
                with urllib.request.urlopen(request, context=context, timeout=5) as resp:
                    if resp.status == 200:
                        log.info("kube-apiserver ready at %s", self.host)
                        return
            except (urllib.error.URLError, OSError) as err:
                last_error = str(err)
            time.sleep(0.25)
        raise ControlPlaneError(
            f"kube-apiserver not ready after {timeout:.0f}s ({last_error}); "
            f"last log lines:\n{self._apiserver.tail() if self._apiserver else ''}"
        )
