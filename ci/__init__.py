"""Scripts the GitHub workflows call (`.github/workflows/`), kept in the repo so they are tested offline.

`deploy_targets` turns "deploy harness X to stack Y" into `pulumi up` target arguments, read off the stack's
`pulumi preview --json`; `build_summary` renders a deploy's stack outputs as Markdown for the job summary. Neither
talks to AWS or the Pulumi backend: the workflow runs the Pulumi CLI and hands them its output.
"""
