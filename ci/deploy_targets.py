"""Turn "deploy harness H to stack S" into the `pulumi up` arguments that touch only H.

A single-harness deploy updates that harness's image (its `HarnessImage` component and children: repository,
lifecycle policy, build) and every clanker whose agent is H (the clanker component and its function or task
definition, role, log group). Everything else in the stack is left as recorded in state.

The resources come from the real engine: the deploy first runs an untargeted `pulumi preview --json --show-sames`
of the same stack, and this reads that document, Pulumi's preview digest (pulumi/pulumi pkg/display/json.go,
`PreviewDigest`). Every resource the program registers is one of its steps: a component too (the step generator
diffs a component like any resource, pkg/resource/deploy/step_generator.go), unchanged ones only with
`--show-sames` (pkg/backend/display/display.go `shouldShow`: a `same` step is shown only when asked), and on a
stack's first deploy as `create` steps, which carry a `newState` and no `oldState`
(pkg/backend/display/json.go `getPreviewMetadataStep`). So the URNs are the engine's own, parent links included,
and a rename in `components/` cannot turn a targeted deploy into a no-op. Which clankers run H is read from the
config the preview ran with (the digest's `config`: each key's text as the program receives it, secrets blinded as
`[secret]`; pkg/engine/events.go `preludeEvent`). Only each clanker's `name` and `agent` are read: the program
already validated that config in the preview, and a blinded secret would fail a second full validation.

Each resource is listed explicitly (component and all descendants) rather than relying on the engine to expand a
component into its children, and `--target-dependents` additionally pulls in anything else whose inputs depend
on those resources. Resources the preview only reads (a stack reference) and resources it would delete (no
`newState`) are never targets: a resource the program no longer declares is removed by a whole-stack deploy.

    pulumi preview --json --show-sames --stack viberator/dev > preview.json
    python -m ci.deploy_targets --stack dev --harness claude preview.json   # one argument per line on stdout
    python -m ci.deploy_targets --stack prod --harness all preview.json     # prints nothing: the whole stack

Exit codes: 0 arguments printed (none for `all`); 2 unknown harness, a document that is not a preview digest of
the stack, or nothing of that harness in the stack (a deploy that would silently change nothing is an operator
error worth seeing).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from ci.script import add_stack_argument, script_parser, unusable
from components.config_model.fields import NAMESPACE
from components.harness_image import HarnessImage
from components.targets import TARGETS
from workers.catalog import HARNESS_NAMES

ALL = "all"
"""The dispatch choice that deploys the whole stack (no targets)."""

CLANKER_TYPES = frozenset(kind for target in TARGETS for kind in target.component_types)
"""Clanker components that own AWS resources, as each target names them (docker clankers register none: they run
on a developer's engine)."""

CLANKERS_KEY = f"{NAMESPACE}:clankers"


class NothingToDeploy(ValueError):
    """The stack has neither an image nor a clanker for the harness."""


class ResourceState(BaseModel):
    """The fields read here of a step's state (sdk/go/common/apitype/core.go, `ResourceV3`)."""

    model_config = ConfigDict(frozen=True)

    urn: str
    type: str
    parent: str = ""
    """The parent's URN; omitted for the root stack."""
    external: bool = False
    """A resource the program reads rather than manages (a `read` step: a stack reference)."""


class PreviewStep(BaseModel):
    """pkg/display/json.go, `PreviewStep`: `op` is one of pkg/resource/deploy/step.go's `StepOp`s."""

    model_config = ConfigDict(frozen=True)

    op: str
    urn: str
    new_state: ResourceState | None = Field(default=None, alias="newState")
    """Absent for a `delete`: the resource the step leaves behind, if any."""


class ClankerAgent(BaseModel):
    """What is read of a `viberator:clankers[]` entry (components/config_model/clankers.py, `ClankerBase`)."""

    name: str
    agent: str


CLANKERS = TypeAdapter(list[ClankerAgent])


class PreviewDigest(BaseModel):
    """pkg/display/json.go, `PreviewDigest` (diagnostics, durations and counts are not read)."""

    model_config = ConfigDict(frozen=True)

    config: dict[str, str] = Field(default_factory=dict)
    steps: list[PreviewStep] = Field(default_factory=list)


@dataclass(frozen=True)
class Resource:
    """A resource the program registers, as the engine names it."""

    urn: str
    type: str
    parent: str

    @property
    def name(self) -> str:
        # `urn:pulumi:<stack>::<project>::<qualified type>::<name>`; the name is everything after the third `::`
        # (sdk/go/common/resource/urn/urn.go, `New` and `Name`).
        return self.urn.split("::", 3)[3]


@dataclass(frozen=True)
class DeployScope:
    stack: str
    harness: str
    targets: tuple[str, ...]
    """Engine URNs, in the preview's order; empty means the whole stack."""

    def cli_args(self) -> list[str]:
        if not self.targets:
            return []
        return [*(f"--target={urn}" for urn in self.targets), "--target-dependents"]


def registered_resources(digest: PreviewDigest, stack: str) -> list[Resource]:
    """The resources the program declares, once each, in the preview's order. Raises ValueError for a preview of
    another stack."""
    resources: dict[str, Resource] = {}
    for step in digest.steps:
        if not step.urn.startswith(f"urn:pulumi:{stack}::"):
            raise ValueError(f"the preview is not of stack {stack!r}: it has a step for {step.urn}")
        state = step.new_state
        if state is not None and not state.external and state.urn not in resources:
            resources[state.urn] = Resource(state.urn, state.type, state.parent)
    return list(resources.values())


def clankers_running(digest: PreviewDigest, harness: str) -> set[str]:
    """Names of the stack's clankers whose agent (the image they run) is `harness`, from the config the preview ran
    with: `viberator:clankers` as JSON text (none when unset). Raises ValueError naming the key."""
    try:
        clankers = CLANKERS.validate_json(digest.config.get(CLANKERS_KEY, "[]"))
    except ValidationError as error:
        raise ValueError(
            f"the preview's config {CLANKERS_KEY} is not a list of clankers: {error.errors()[0]}"
        ) from None
    return {clanker.name for clanker in clankers if clanker.agent == harness}


def _with_descendants(roots: Sequence[Resource], resources: Sequence[Resource]) -> list[Resource]:
    children: dict[str, list[Resource]] = {}
    for resource in resources:
        children.setdefault(resource.parent, []).append(resource)
    selected: set[str] = set()
    pending = list(roots)
    while pending:
        resource = pending.pop()
        if resource.urn not in selected:
            selected.add(resource.urn)
            pending.extend(children.get(resource.urn, []))
    return [resource for resource in resources if resource.urn in selected]


def deploy_scope(digest: PreviewDigest, stack: str, harness: str) -> DeployScope:
    if harness not in (*HARNESS_NAMES, ALL):
        raise ValueError(f"unknown harness {harness!r}; known: {', '.join((*HARNESS_NAMES, ALL))}")
    resources = registered_resources(digest, stack)
    if harness == ALL:
        return DeployScope(stack, harness, ())
    wanted_clankers = clankers_running(digest, harness)
    roots = [
        resource
        for resource in resources
        if (resource.type == HarnessImage.TYPE and resource.name == harness)
        or (resource.type in CLANKER_TYPES and resource.name in wanted_clankers)
    ]
    if not roots:
        raise NothingToDeploy(
            f"stack {stack!r} has no image and no AWS clanker for harness {harness!r}: nothing to deploy"
        )
    return DeployScope(stack, harness, tuple(r.urn for r in _with_descendants(roots, resources)))


def read_digest(path: Path) -> PreviewDigest:
    """The preview digest `pulumi preview --json` wrote to `path` (raises ValueError naming the file)."""
    try:
        return PreviewDigest.model_validate(json.loads(path.read_text()))
    except OSError as error:
        raise ValueError(f"cannot read the preview {path}: {error.strerror}") from None
    except ValueError as error:  # json.JSONDecodeError and pydantic's ValidationError are ValueErrors
        # Streamed JSON events (PULUMI_ENABLE_STREAMING_JSON_PREVIEW) or another command's output land here.
        detail = error.errors()[0] if isinstance(error, ValidationError) else error
        raise ValueError(f"{path} is not the digest of `pulumi preview --json --show-sames`: {detail}") from None


def main(argv: list[str] | None = None) -> int:
    parser = script_parser(__name__, __doc__)
    add_stack_argument(parser)
    parser.add_argument("--harness", required=True, help=f"one of {', '.join((*HARNESS_NAMES, ALL))}")
    parser.add_argument("preview", type=Path, help="the output of `pulumi preview --json --show-sames` of the stack")
    args = parser.parse_args(argv)
    try:
        scope = deploy_scope(read_digest(args.preview), args.stack, args.harness)
    except ValueError as error:  # NothingToDeploy is a ValueError
        return unusable(error)
    for argument in scope.cli_args():
        print(argument)
    return 0


if __name__ == "__main__":
    sys.exit(main())
