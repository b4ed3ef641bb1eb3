"""Thin Keras 3 layers wrapping :mod:`spykeflow.functional` (validate in ``__init__``, weights in
``build``, one functional call in ``call``, ``get_config`` round-trips)."""
