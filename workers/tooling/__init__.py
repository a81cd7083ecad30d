"""Local image tooling: build and push worker images, and make sure one is on the local engine (`ensure`).

This package drives the Docker CLI on the developer's (or CI's) machine; it never runs inside an image and
never touches Pulumi. Tag and repository names come from `workers.naming` and `workers.catalog`, the same
rules the Pulumi program uses, so an image built here carries the tags a deployment would give it.

Modules:
- `references`: pure rules for registries, references and the `ensure --version` mapping.
- `contract`: the image labels the tooling reads and the job-contract compatibility rule.
- `engine`: the one place that runs the docker binary; `process`: one docker CLI command, bounded in time.
- `platforms`: `--platform` parsed, and whether this machine can emulate a foreign one.
- `lock`: a machine-wide lock two runs of `ensure` (or of the Lambda emulator's download) take turns by.
- `build`: building (and pushing, and multi-platform manifest lists) one or more harnesses.
- `ensure`: local alias first, then a version-matched registry pull, else a message saying how to build.
- `ecr` (package): ECR reached on its own: account, region and host from AWS settings, a private login, push
  checks.
- `stack_outputs`: a stack's outputs, from `pulumi stack output --json`, a file, or (without a Pulumi CLI) the
  plan engine's command line run as a process of its own, read through the outputs contract's models.
- `run_job` (package): one job on one clanker from the stack outputs (docker, the Lambda emulator, Lambda, ECS);
  `lambda_emulator`: AWS's Lambda Runtime Interface Emulator, run on this machine.
- `signature`: sigstore signatures of digests, checked by skopeo.
- `sbom` (package): a worker image's SBOM and its attachment to the pushed digest as an OCI referrer.
- `report`: live progress, the summary table and the Markdown summary.
- `cli` (package): `python -m workers`: the argument parser and one runner per command.
"""
