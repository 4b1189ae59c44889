"""Fakes, harnesses, the pod simulator and the local control plane used by tests and demos."""
