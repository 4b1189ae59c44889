"""From flags to the serving stack: certificate, delegated auth, limits.

Port of what KCM's ``KubeControllerManagerOptions.ApplyTo`` does with
``SecureServing.WithLoopback``/``MaybeDefaultWithSelfSignedCerts``,
``Authentication.ApplyTo`` and ``Authorization.ApplyTo``: the secure listener's
certificate (given, or self-signed into ``--cert-dir``), and the TokenReview /
SubjectAccessReview clients built from ``--authentication-kubeconfig`` /
``--authorization-kubeconfig`` (the main client configuration when empty, as KCM falls
back to the in-cluster one).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jobctl.app.certs import maybe_default_with_self_signed_certs
from jobctl.app.delegated_auth import (
    DelegatingAuthenticator,
    DelegatingAuthorizer,
    access_reviewer,
    token_reviewer,
)
from jobctl.app.options import JobctlOptions


class ServingError(Exception):
    """The serving stack cannot be set up; ``str(err)`` is one line for the user."""


@dataclass
class SecureServing:
    cert_file: str
    key_file: str
    authenticator: DelegatingAuthenticator
    authorizer: DelegatingAuthorizer


def _api_client(opts: JobctlOptions, kubeconfig: str) -> Any:
    from kubernetes import client as k8s

    from jobctl.client import real

    try:
        if kubeconfig:
            configuration = real.load_configuration(kubeconfig, None, None)
        else:
            configuration = real.load_configuration(
                opts.kubeconfig or None, opts.master or None, opts.context or None
            )
    except real.ConfigError as err:
        raise ServingError(f"invalid delegated auth configuration: {err}") from None
    return k8s.ApiClient(configuration)


@contextlib.contextmanager
def secure_serving(opts: JobctlOptions) -> Iterator[SecureServing | None]:
    """The secure listener's configuration, or None with ``--secure-port=0``. A
    generated pair without ``--cert-dir`` lives in a private temporary directory that is
    removed on exit (KCM keeps it in memory)."""
    if not opts.secure_port:
        yield None
        return
    temp_dir = ""
    cert_dir = opts.cert_dir
    if not cert_dir and not opts.tls_cert_file:
        temp_dir = tempfile.mkdtemp(prefix="jobctl-certs-")
        cert_dir = temp_dir
    clients: list[Any] = []
    try:
        try:
            paths = maybe_default_with_self_signed_certs(
                opts.tls_cert_file, opts.tls_private_key_file, cert_dir
            )
        except OSError as err:
            raise ServingError(
                f"cannot write the self-signed certificate to {cert_dir}: {err.strerror or err}"
            ) from None
        authn_client = _api_client(opts, opts.authentication_kubeconfig)
        authz_client = _api_client(opts, opts.authorization_kubeconfig)
        clients += [authn_client, authz_client]
        yield SecureServing(
            cert_file=paths.cert_file,
            key_file=paths.key_file,
            authenticator=DelegatingAuthenticator(token_reviewer(authn_client)),
            authorizer=DelegatingAuthorizer(
                access_reviewer(authz_client),
                always_allow_paths=opts.authorization_always_allow_paths,
            ),
        )
    finally:
        for c in clients:
            with contextlib.suppress(Exception):
                c.close()
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)
