"""The worker runtime: runs one agent job inside a worker image, under Lambda, ECS or plain Docker.

It owns the job and result document formats (JSON Schema files in `schemas/`), the per-agent headless
invocation table, running the agent CLI, and Secrets Manager resolution for Lambda. It does not own image
contents (the Dockerfile beside this package) or where workers run (the Pulumi program).
"""

JOB_CONTRACT_VERSION = 1
"""Version of the job/result contract; published as the image label `io.viberator.job-contract`."""
