"""Scripts the GitHub workflows call (`.github/workflows/`), kept in the repo so they are tested offline.

Each is `python -m ci.<name>` over what an earlier step saved (`pulumi preview --json`, `pulumi stack output
--json`, the GitHub API's answers): `deploy_targets` turns "deploy harness X to stack Y" into `pulumi up` target
arguments, `build_summary` renders a deploy's outputs for the job summary, `verify_promotion`, `record_promotion`
and `wait_for_replicas` gate and record a promotion, `review_stacks` and `preview_comment` serve pull requests,
`prune_signatures` removes orphaned signatures. `script` is what they share: how they are called, how they read a
saved file, and exit 2 for input they cannot use.
"""
