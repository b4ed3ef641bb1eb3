# dp_worker.py is a script the tests start in subprocesses, not a test module.
collect_ignore = ["dp_worker.py"]
