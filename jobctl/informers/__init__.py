"""Port of client-go tools/cache: stores, indexers, FIFOs, reflector and shared informers.

One module per upstream Go file (``store.go`` -> ``store.py``, ``the_real_fifo.go`` ->
``real_fifo.py``, ...). Import from the modules themselves.
"""
