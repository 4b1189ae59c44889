"""Port of the parts of k8s.io/kubernetes/pkg/controller the Job controller uses:
controller_utils.go, controller_ref_manager.go and util/consistency (``consistency.py``).
The expectations of controller_utils.go live in the fixed package ``jobctl/expectations/``.
"""
