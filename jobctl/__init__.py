"""jobctl: a Python port of the Kubernetes Job controller and the client-go machinery it runs on.

The design is that of Kubernetes (pkg/controller/job, client-go), by The Kubernetes
Authors; see NOTICE.
"""

from jobctl.client import model_attrs as _model_attrs

# Plain (specialised) attribute reads on the kubernetes client's models; see the module.
_model_attrs.install()

__version__ = "0.1.0"
UPSTREAM_RELEASE = "v1.37.2"
