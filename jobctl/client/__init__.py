"""A typed clientset shaped like client-go's (clientset.core_v1().pods(ns).create(...)).

``interface`` holds the contracts, ``errors`` the apimachinery error helpers, ``real``
the implementation over the official ``kubernetes`` client, and
``jobctl.testing.fake_clientset`` the in-memory fake used by unit tests.
"""
