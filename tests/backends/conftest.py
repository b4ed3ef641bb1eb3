# The case modules and the runner are imported by run_cases.py in a subprocess per backend,
# not collected by pytest.
collect_ignore_glob = ["cases_*.py", "run_cases.py", "harness.py"]
