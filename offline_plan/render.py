"""The human view of a plan: resources grouped under their component with their key inputs, then outputs."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from offline_plan.engine import Plan, Registration

KEY_INPUTS: dict[str, tuple[str, ...]] = {
    "aws:ecr/repository:Repository": ("name", "imageTagMutability", "forceDelete"),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": ("policy",),
    "aws:ecr/repositoryPolicy:RepositoryPolicy": ("policy",),
    "docker-build:index:Image": ("target", "platforms", "tags", "push"),
    "aws:lambda/function:Function": ("name", "imageUri", "architectures", "memorySize", "timeout"),
    "aws:ecs/taskDefinition:TaskDefinition": ("family", "cpu", "memory", "runtimePlatform"),
    "aws:ecs/cluster:Cluster": ("name",),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "retentionInDays"),
    "aws:iam/rolePolicy:RolePolicy": ("policy",),
    "aws:ec2/securityGroup:SecurityGroup": ("namePrefix",),
}


def _summary(resource: Registration) -> str:
    shown = []
    for key in KEY_INPUTS.get(resource.type, ()):
        if key not in resource.inputs:
            continue
        value = resource.inputs[key]
        if key == "tags" and isinstance(value, list):
            value = [tag.rsplit(":", 1)[-1] for tag in value]  # the repository is the component's
        if key == "policy" and isinstance(value, str):
            # A lifecycle policy has rules; an IAM or repository policy has statements.
            document = json.loads(value)
            counted = "rules" if "rules" in document else "Statement"
            value = f"{len(document[counted])} {'rules' if counted == 'rules' else 'statements'}"
        shown.append(f"[dim]{key}=[/dim]{json.dumps(value) if not isinstance(value, str) else value}")
    flags = [flag for flag, on in (("protect", resource.protect), ("retainOnDelete", resource.retain_on_delete)) if on]
    if flags:
        shown.append(f"[yellow]{', '.join(flags)}[/yellow]")
    return "  ".join(shown)


def render_plan(plan: Plan, console: Console | None = None) -> None:
    console = console or Console()
    mode = {
        "first-preview": "first preview: every computed value unknown",
        "preview": "preview: digests unknown",
        "up": "up",
    }[plan.mode]
    root = Tree(f"[bold]{plan.project}[/bold] / stack [bold]{plan.stack}[/bold]  [dim]({mode})[/dim]")
    nodes: dict[str, Tree] = {}
    for resource in plan.resources:
        parent = nodes.get(resource.parent or "", root)
        label = f"[cyan]{resource.type}[/cyan] [bold]{resource.name}[/bold]"
        summary = _summary(resource)
        nodes[f"{resource.type}::{resource.name}"] = parent.add(f"{label}  {summary}" if summary else label)
    for read in plan.reads:
        root.add(f"[magenta]read {read.type}[/magenta] [bold]{read.inputs.get('id', read.name)}[/bold]")
    console.print(root)
    console.print(f"{len(plan.resources)} resources ({sum(r.custom for r in plan.resources)} cloud resources)")
    _print_outputs(plan.outputs, console)
    for warning in plan.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    for assumption in plan.assumptions:
        console.print(f"[yellow]assumes:[/yellow] {assumption}")
    console.print(
        f"[dim]Offline plan: computed values are deterministic placeholders (account {plan.account}, the stack's "
        "region, digests derived from the build inputs); nothing was sent to AWS.[/dim]"
    )


def _print_outputs(outputs: dict[str, Any], console: Console) -> None:
    images = Table(title=f"stack outputs: images (schemaVersion {outputs.get('schemaVersion')})", title_justify="left")
    for column in ("harness", "digest", "platform", "tags"):
        images.add_column(column)
    for harness, image in outputs.get("images", {}).items():
        tags = ", ".join(tag.rsplit(":", 1)[-1] for tag in image["tags"]) if isinstance(image["tags"], list) else ""
        images.add_row(harness, _short(image["digest"]), image["platform"], tags)
    clankers = Table(title="stack outputs: clankers", title_justify="left")
    for column in ("clanker", "agent", "target", "image", "runs as"):
        clankers.add_column(column)
    for name, clanker in outputs.get("clankers", {}).items():
        deployment = clanker["deploymentConfig"]
        image = deployment.get("imageUri") or deployment.get("containerImage", "")
        where = deployment.get("functionName") or deployment.get("family") or "local docker"
        clankers.add_row(name, clanker["agent"], clanker["target"], _short(image.rsplit("/", 1)[-1]), where)
    console.print(images)
    console.print(clankers)
    console.print("[dim]make plan FORMAT=json prints the full outputs document.[/dim]")


def _short(reference: str) -> str:
    """`…@sha256:0123456789ab…` keeps a digest recognisable in a narrow terminal."""
    head, sep, digest = reference.partition("sha256:")
    return f"{head}{sep}{digest[:12]}…" if sep and len(digest) > 12 else reference
