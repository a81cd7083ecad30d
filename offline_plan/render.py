"""The human views of a plan and of a diff (rich).

The plan: resources grouped under their component (images in the stack config's harness order, then the
cluster, then the clankers in config order, docker clankers included), each with what a reviewer checks: physical
names, images, environment variable names, secret ARNs (the secrets' names, never their values), IAM actions and
resources per role; then a count per type and the stack outputs.

Every value is printed whole. The width is the terminal's, and unlimited when stdout is not a terminal (a file, a
pipe, a CI log), so `make plan > plan.txt` never breaks an image URI or an ARN mid-word and can be grepped.
Values are rich Text, never markup: `[secret]` and `["linux/amd64"]` are values, not styles.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from components.harness_image import HarnessImage
from components.targets import TARGETS
from components.targets.ecs_cluster import ClankerCluster
from components.targets.lambda_ import SECRET_ARNS_VARIABLE
from offline_plan.diff import ABSENT, OPS, value_changes
from offline_plan.engine import Plan, Registration

UNLIMITED_WIDTH = 1_000_000
"""Wider than any line a plan has: rich then wraps nothing (a table is as wide as its widest cell)."""

HARNESS_IMAGE = HarnessImage.TYPE
DOCKER_CLANKER = "docker clanker"
"""A docker clanker registers nothing: the tree lists it under this heading, from the outputs."""
CLANKERS = (*(kind for target in TARGETS for kind in sorted(target.component_types)), DOCKER_CLANKER)
"""The clanker components of every target, in the registry's order."""

# The tree's order: components first (images, the cluster, clankers of every target together, so they keep the
# config's order), then a component's resources in the order they depend on each other. Siblings of one rank
# follow the stack config, else their names.
TYPE_ORDER: tuple[tuple[str, ...], ...] = (
    (HARNESS_IMAGE,),
    (ClankerCluster.TYPE,),
    CLANKERS,
    ("aws:ecr/repository:Repository",),
    ("aws:ecr/lifecyclePolicy:LifecyclePolicy",),
    ("aws:ecr/repositoryPolicy:RepositoryPolicy",),
    ("docker-build:index:Image",),
    ("docker-build:index:Index",),
    ("aws:ec2/securityGroup:SecurityGroup",),
    ("aws:ecs/cluster:Cluster",),
    ("aws:iam/role:Role",),
    ("aws:iam/rolePolicy:RolePolicy",),
    ("aws:cloudwatch/logGroup:LogGroup",),
    ("aws:lambda/function:Function",),
    ("aws:ecs/taskDefinition:TaskDefinition",),
)
RANK = {type_: rank for rank, types in enumerate(TYPE_ORDER) for type_ in types}

KEY_INPUTS: dict[str, tuple[str, ...]] = {
    "aws:ecr/repository:Repository": ("name", "imageTagMutability", "forceDelete"),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": ("policy",),
    "aws:ecr/repositoryPolicy:RepositoryPolicy": ("policy",),
    "docker-build:index:Image": ("target", "platforms", "tags", "push"),
    "docker-build:index:Index": ("tag", "sources"),
    "aws:lambda/function:Function": ("name", "imageUri", "architectures", "memorySize", "timeout"),
    "aws:ecs/taskDefinition:TaskDefinition": ("family", "cpu", "memory", "runtimePlatform"),
    "aws:ecs/cluster:Cluster": ("name",),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "retentionInDays"),
    "aws:iam/rolePolicy:RolePolicy": ("role",),
    "aws:ec2/securityGroup:SecurityGroup": ("namePrefix",),
}


def plan_console() -> Console:
    """A console for stdout: the terminal's width, or unlimited when stdout is a file or a pipe."""
    console = Console()
    if not console.is_terminal:
        console.width = UNLIMITED_WIDTH  # COLUMNS too would cut values
    return console


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _document(value: Any) -> Any:
    """The JSON a policy or container-definitions input holds; None while it is unknown (a preview)."""
    try:
        return json.loads(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _key_input(key: str, value: Any) -> str:
    if key == "tags" and isinstance(value, list):
        return _shown([tag.rsplit(":", 1)[-1] for tag in value])  # the repository is the component's
    if key == "policy" and (document := _document(value)):
        # A lifecycle policy has rules; a repository policy has statements (its principals are the consumers').
        return f"{len(document['rules'])} rules" if "rules" in document else f"{len(document['Statement'])} statements"
    return _shown(value)


def _label(resource: Registration) -> Text:
    label = Text.assemble((resource.type, "cyan"), " ", (resource.name, "bold"))
    for key in KEY_INPUTS.get(resource.type, ()):
        if key in resource.inputs:
            label.append_text(Text.assemble("  ", (f"{key}=", "dim"), _key_input(key, resource.inputs[key])))
    if resource.type == "aws:iam/role:Role" and (document := _document(resource.inputs.get("assumeRolePolicy"))):
        services = [s["Principal"].get("Service") for s in document["Statement"] if "Principal" in s]
        label.append_text(Text.assemble("  ", ("assumed by ", "dim"), ", ".join(map(_shown, services))))
    flags = [flag for flag, on in (("protect", resource.protect), ("retainOnDelete", resource.retain_on_delete)) if on]
    if flags:
        label.append(f"  {', '.join(flags)}", "yellow")
    return label


def _detail(key: str, value: str) -> Text:
    return Text.assemble((f"{key} ", "dim"), value)


def _environment(names: Iterable[str], secrets: dict[str, str]) -> list[Text]:
    """Variable names (their values may be anything a stack config holds) and each secret's ARN."""
    lines = [_detail("environment", ", ".join(names) or "(none)")]
    lines += [_detail("secret", f"{name} from {arn}") for name, arn in secrets.items()]
    return lines


def _details(resource: Registration) -> list[Text]:
    """The lines under a resource: what the key inputs leave out but a reviewer needs."""
    inputs = resource.inputs
    if resource.type == "aws:lambda/function:Function":
        variables = inputs.get("environment", {}).get("variables", {})
        if not isinstance(variables, dict):  # one secret config value makes the whole map secret
            return [_detail("environment", _shown(variables))]
        secrets = _document(variables.get(SECRET_ARNS_VARIABLE)) or {}
        return _environment([name for name in variables if name != SECRET_ARNS_VARIABLE], secrets)
    if resource.type == "aws:ecs/taskDefinition:TaskDefinition":
        containers = _document(inputs.get("containerDefinitions"))
        if containers is None:
            return [_detail("containers", _shown(inputs.get("containerDefinitions")))]
        lines = []
        for container in containers:
            lines.append(_detail("container", f"{container['name']} image {container['image']}"))
            lines += _environment(
                (variable["name"] for variable in container.get("environment", [])),
                {secret["name"]: secret["valueFrom"] for secret in container.get("secrets", [])},
            )
        return lines
    if resource.type == "aws:iam/rolePolicy:RolePolicy":
        document = _document(inputs.get("policy"))
        if document is None:
            return [_detail("policy", _shown(inputs.get("policy")))]
        return [
            _detail(
                f"{statement.get('Sid', 'statement')}:",
                f"{statement['Effect']} {', '.join(_listed(statement['Action']))} on "
                f"{', '.join(_listed(statement['Resource']))}",
            )
            for statement in document["Statement"]
        ]
    return []


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _sort_key(plan: Plan, type_: str, name: str) -> tuple[int, int, str]:
    listed = plan.harnesses if type_ == HARNESS_IMAGE else plan.clankers if type_ in CLANKERS else []
    return RANK.get(type_, len(TYPE_ORDER)), listed.index(name) if name in listed else len(listed), name


def _docker_clankers(plan: Plan) -> dict[str, Text]:
    """Docker clankers register nothing (a local daemon runs them): the tree shows them from the outputs."""
    return {
        name: Text.assemble(
            (DOCKER_CLANKER, "cyan"),
            " ",
            (name, "bold"),
            "  ",
            ("image=", "dim"),
            _shown(clanker["deploymentConfig"]["containerImage"]),
            ("  (nothing in the cloud: a local Docker daemon runs it)", "dim"),
        )
        for name, clanker in plan.outputs.get("clankers", {}).items()
        if clanker["target"] == "docker"
    }


def _tree(plan: Plan, title: Text) -> Tree:
    children: dict[str | None, list[Registration]] = defaultdict(list)
    for resource in plan.resources:
        children[resource.parent].append(resource)

    def add(node: Tree, resource: Registration) -> None:
        branch = node.add(_label(resource))
        for line in _details(resource):
            branch.add(line)
        for child in sorted(
            children[f"{resource.type}::{resource.name}"], key=lambda r: _sort_key(plan, r.type, r.name)
        ):
            add(branch, child)

    root = Tree(title)
    entries: list[tuple[tuple[int, int, str], Registration | Text]] = [
        (_sort_key(plan, r.type, r.name), r) for r in children[None]
    ]
    entries += [(_sort_key(plan, DOCKER_CLANKER, name), label) for name, label in _docker_clankers(plan).items()]
    for _, entry in sorted(entries, key=lambda e: e[0]):
        if isinstance(entry, Registration):
            add(root, entry)
        else:
            root.add(entry)
    for read in plan.reads:
        root.add(Text.assemble((f"read {read.type}", "magenta"), " ", (str(read.inputs.get("id", read.name)), "bold")))
    return root


def render_plan(plan: Plan, console: Console) -> None:
    mode = {
        "first-preview": "first preview: every computed value unknown",
        "preview": "preview: digests unknown",
        "up": "up",
    }[plan.mode]
    title = Text.assemble((plan.project, "bold"), " / stack ", (plan.stack, "bold"), (f"  ({mode})", "dim"))
    console.print(_tree(plan, title))
    counts = Table("type", "count")
    for type_, count in sorted(Counter(r.type for r in plan.resources).items()):
        counts.add_row(type_, str(count))
    console.print(counts)
    reads = f", {len(plan.reads)} read" if plan.reads else ""
    console.print(f"{len(plan.resources)} resources ({sum(r.custom for r in plan.resources)} cloud resources){reads}")
    _print_outputs(plan, console)
    for warning in plan.warnings:
        console.print(Text.assemble(("warning: ", "yellow"), warning))
    for assumption in plan.assumptions:
        console.print(Text.assemble(("assumes: ", "yellow"), assumption))
    console.print(
        f"Offline plan: computed values are deterministic placeholders (account {plan.account}, the stack's "
        "region, digests derived from the build inputs); nothing was sent to AWS.",
        style="dim",
        markup=False,
    )


def _ordered(items: dict[str, Any], listed: list[str]) -> list[tuple[str, Any]]:
    return sorted(
        items.items(), key=lambda item: (listed.index(item[0]) if item[0] in listed else len(listed), item[0])
    )


def _print_outputs(plan: Plan, console: Console) -> None:
    outputs = plan.outputs
    if "images" not in outputs:  # another project's stack (access/): its outputs as they are
        console.print("stack outputs:", json.dumps(outputs, indent=2), markup=False)
        return
    images = Table("harness", "imageUri", "platform", "tags")
    for harness, image in _ordered(outputs.get("images", {}), plan.harnesses):
        tags = ", ".join(tag.rsplit(":", 1)[-1] for tag in image["tags"]) if isinstance(image["tags"], list) else ""
        images.add_row(harness, _shown(image["imageUri"]), image["platform"], tags)
    clankers = Table("clanker", "agent", "target", "image", "runs as")
    for name, clanker in _ordered(outputs.get("clankers", {}), plan.clankers):
        deployment = clanker["deploymentConfig"]
        image = deployment.get("imageUri") or deployment.get("containerImage", "")
        where = deployment.get("functionName") or deployment.get("family") or "local docker"
        clankers.add_row(name, clanker["agent"], clanker["target"], _shown(image), _shown(where))
    console.print(f"stack outputs: images (schemaVersion {outputs.get('schemaVersion')})", markup=False)
    console.print(images)
    console.print("stack outputs: clankers", markup=False)
    console.print(clankers)
    console.print("make plan FORMAT=json prints the full outputs document.", style="dim")


OP_STYLE = {"create": ("+", "green"), "update": ("~", "yellow"), "replace": ("+-", "magenta"), "delete": ("-", "red")}


def _change_line(before: Any, after: Any) -> Text:
    shown = [("(none)", "dim") if value is ABSENT else (_shown(value), "") for value in (before, after)]
    return Text.assemble(shown[0], (" → ", "dim"), shown[1])


def render_diff(diff: dict[str, Any], console: Console) -> None:
    """`pulumi preview --diff`'s shape: one line per changed resource, the changed inputs old → new beneath."""
    base = diff["base"]
    against = f"{base['ref']} ({base['commit'][:12]})" if "ref" in base else base["file"]
    console.print(Text.assemble("stack ", (diff["stack"], "bold"), f": what the change from {against} does"))
    for change in diff["changes"]:
        symbol, style = OP_STYLE[change["op"]]
        line = Text.assemble(
            (f"{symbol} {change['op']:<8}", style), (change["type"], "cyan"), " ", (change["name"], "bold")
        )
        if change["op"] in ("update", "replace"):
            line.append(f"  ({', '.join(change['changedInputs'])})", "dim")
        tree = Tree(line)
        if change["op"] in ("update", "replace"):
            for key in change["changedInputs"]:
                for value in value_changes(change["before"].get(key, ABSENT), change["after"].get(key, ABSENT), key):
                    tree.add(Text.assemble((f"{value.path}: ", "dim"), _change_line(value.before, value.after)))
        console.print(tree)
    if diff["outputs"]:
        outputs = Tree("outputs")
        for path, sides in diff["outputs"].items():
            outputs.add(
                Text.assemble(
                    (f"{path}: ", "dim"), _change_line(sides.get("before", ABSENT), sides.get("after", ABSENT))
                )
            )
        console.print(outputs)
    summary = ", ".join(f"{diff['summary'][op]} to {op}" for op in OPS)
    if diff["changes"] or diff["outputs"]:
        summary += f"; {len(diff['outputs'])} outputs change"
    else:
        summary = "no change"
    console.print(Text.assemble(("Summary: ", "bold"), summary))
