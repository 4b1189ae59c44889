"""Expectations the Job controller keeps between syncs.

``controller_expectations`` ports the pod creation/deletion expectations of
pkg/controller/controller_utils.go; ``uid_tracking_expectations`` ports the per-Job set of
pods whose tracking finalizer removal is still to be observed (tracking_utils.go).
"""
