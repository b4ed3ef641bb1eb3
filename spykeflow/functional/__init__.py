"""Pure functions: the framework-level math of SpykeFlow (numpy / scipy / TensorFlow only).

Classes elsewhere orchestrate; the functions here compute and can be tested on tiny inputs.
Import submodules directly, e.g. ``from spykeflow.functional import surrogate``.
"""
