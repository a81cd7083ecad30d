"""The worker runtime: runs one agent job inside a worker image, under Lambda, ECS or plain Docker.

It owns the job and result document formats (JSON Schema files in `schemas/`), the per-agent headless
invocation table, running the agent CLI, and Secrets Manager resolution for Lambda. It does not own image
contents (the Dockerfile beside this package) or where workers run (the Pulumi program).
"""

JOB_CONTRACT_VERSION = 2
"""Version of the job/result contract; published as the image label `io.viberator.job-contract`. A major version
changes whenever a job valid before may be refused after (docs/contract.md, "How the contract evolves"):
2 removed the job's `workdir` and took only data in `env` and the agent's allowed options in `extra_args`."""
