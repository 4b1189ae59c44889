"""Small ports of the Kubernetes libraries the controller leans on, one module each:

- ``labels.py``: k8s.io/apimachinery/pkg/labels (+ metav1 label-selector helpers)
- ``clock.py``: k8s.io/utils/clock and its testing fake
- ``features.py``: k8s.io/component-base/featuregate with the gates of pkg/features and
  client-go/features
- ``pod_util.py``: k8s.io/kubernetes/pkg/api/v1/pod (podutil)
- ``klog.py``: the logr/klog call shape (``V(n).Info(msg, kv...)``) over ``logging``
"""
