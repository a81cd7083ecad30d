"""The offline plan engine: the real program under Pulumi mocks, recording every registration.

One implementation serves `make plan` (human and JSON output), the tests and the scanners. Computed values are
deterministic placeholders (account 000000000000, the stack's region, digests derived from the build inputs), so
two runs over the same inputs print the same plan.
"""
