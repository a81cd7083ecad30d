"""EcsClanker: a Fargate task definition that runs a harness image, with separate execution and task roles.

Owns: the task definition, its log group, the execution role (what ECS needs to start the task: pull from
this one repository, write logs, inject the listed secrets) and the task role (what the agent itself may do:
nothing in AWS by default). Does not own the cluster or network (`ClankerCluster`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_aws import ecs, iam

from components.execution_role import ServiceRole, execution_role
from components.policies import ECS_TASKS_SERVICE, assume_role_policy, ecs_execution_policy
from components.tags import clanker_tags

CONTAINER_NAME = "worker"
WORKER_USER = "10001:10001"
"""The image's non-root user; set on the task too, so a mis-built image can't run as root."""
CPU_ARCHITECTURE = {"x86_64": "X86_64", "arm64": "ARM64"}
EXECUTION_ROLE = ServiceRole(ECS_TASKS_SERVICE, role_suffix="execution-role", policy_suffix="execution-policy")
"""What ECS needs to start the task; the task role (what the agent may do) is the other one."""


@dataclass(frozen=True)
class EcsClankerArgs:
    family: str
    """Task definition family, `viberator-<env>-<clanker>`."""
    image: pulumi.Input[str]
    """`repo@sha256:…` (pinned) or `repo:<env>-latest` (floating)."""
    repository_arn: pulumi.Input[str]
    """The one repository the execution role may pull from."""
    region: str
    """For the awslogs driver."""
    architecture: str = "x86_64"
    cpu: int = 1024
    memory_mb: int = 4096
    ephemeral_storage_gb: int | None = None
    environment: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    """Env var name -> Secrets Manager ARN, injected by ECS at start."""
    log_retention_days: int = 30
    resource_tags: Mapping[str, str] = field(default_factory=dict)
    """The stack's tags; the clanker tag is added here."""
    protect: bool = False
    """Protect the log group and the roles (production). Never the task definition: every change to its
    containers (each image roll) replaces it (`container_definitions` is ForceNew in terraform-provider-aws,
    offline_plan/diff.py FORCE_NEW), and the engine refuses to replace a protected resource."""


def container_definitions(args: EcsClankerArgs, clanker: str, image: str, log_group_name: str) -> list[dict[str, Any]]:
    """The task's one container, in the shape of ECS RegisterTaskDefinition's `containerDefinitions`."""
    return [
        {
            "name": CONTAINER_NAME,
            "image": image,
            "essential": True,
            "user": WORKER_USER,
            "readonlyRootFilesystem": False,  # agents write to their workspace and home directory
            "environment": [{"name": k, "value": v} for k, v in sorted(args.environment.items())],
            "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(args.secrets.items())],
            # ECS stops tasks with SIGTERM; the worker needs time to stop its agent and write the result.
            "stopTimeout": 120,
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": log_group_name,
                    "awslogs-region": args.region,
                    "awslogs-stream-prefix": clanker,
                },
            },
        }
    ]


class EcsClanker(pulumi.ComponentResource):
    task_definition_arn: pulumi.Output[str]
    family: pulumi.Output[str]
    container_image: pulumi.Output[str]
    container_name: str

    def __init__(self, name: str, args: EcsClankerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("viberator:workers:EcsClanker", name, None, opts)
        tags = clanker_tags(args.resource_tags, name)
        child = pulumi.ResourceOptions(parent=self)
        protected = pulumi.ResourceOptions(parent=self, protect=args.protect)
        execution = execution_role(
            name,
            EXECUTION_ROLE,
            (f"/ecs/{args.family}", args.log_retention_days),
            lambda log_group_arn: pulumi.Output.all(args.repository_arn, log_group_arn).apply(
                lambda arns: ecs_execution_policy(arns[0], arns[1], list(args.secrets.values()))
            ),
            tags,
            protected,
        )
        task_role = iam.Role(
            f"{name}-task-role", assume_role_policy=assume_role_policy(ECS_TASKS_SERVICE), tags=tags, opts=protected
        )

        image = pulumi.Output.from_input(args.image)
        task_definition = ecs.TaskDefinition(
            f"{name}-task",
            family=args.family,
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu=str(args.cpu),
            memory=str(args.memory_mb),
            runtime_platform=ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture=CPU_ARCHITECTURE[args.architecture]
            ),
            ephemeral_storage=(
                ecs.TaskDefinitionEphemeralStorageArgs(size_in_gib=args.ephemeral_storage_gb)
                if args.ephemeral_storage_gb is not None
                else None
            ),
            execution_role_arn=execution.role.arn,
            task_role_arn=task_role.arn,
            container_definitions=pulumi.Output.all(image, execution.log_group.name).apply(
                lambda values: json.dumps(container_definitions(args, name, values[0], values[1]))
            ),
            tags=tags,
            opts=child,
        )

        self.task_definition_arn = task_definition.arn
        self.family = task_definition.family
        self.container_image = image
        self.container_name = CONTAINER_NAME
        self.register_outputs({"taskDefinitionArn": self.task_definition_arn, "containerImage": image})
