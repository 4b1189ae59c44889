"""Port of k8s.io/kubernetes/pkg/controller/job (the Job controller and its policy helpers).

``util.py`` is job/util/utils.go and ``metrics.py`` is job/metrics/metrics.go.
"""
