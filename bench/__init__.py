"""Benchmarks that print figures (never timed assertions): `make bench-plan` (bench/plan.py) and `make bench-test`
(bench/tests.py). The image benchmark needs the real-build tier's engine and lives with it (tests/images/bench.py).
"""
