"""The ecs target: a clanker that is a Fargate task definition running a harness image, with separate execution
and task roles, in the stack's cluster and network (components/targets/ecs_cluster.py).

Owns its config model (`target: ecs`), its component and its outputs entry. The component owns the task
definition, its log group, the execution role (what ECS needs to start the task: pull from this one repository,
write logs, inject the listed secrets) and the task role (what the agent itself may do: nothing in AWS by
default). The cluster and its security group, which all the stack's ecs clankers share, are `ClankerCluster`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

import pulumi
from pulumi_aws import ecs, iam
from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from components.config_model.clankers import ENVIRONMENT, SECRETS, CloudClanker, EnvVarName, PlainValue
from components.config_model.fields import secret_arn
from components.config_model.issues import ConfigIssue
from components.execution_role import CloudSettings, ServiceRole, execution_role, role_naming
from components.policies import ECS_TASKS_SERVICE, assume_role_policy, bedrock_policy, ecs_execution_policy
from components.tags import clanker_tags
from components.targets.base import ClankerStack, ClankerTarget, NameLimit, Placement
from components.targets.ecs_cluster import ClankerCluster, ClankerClusterArgs
from viberator_contract import EcsClankerEntry, EcsDeployment
from workers.naming import clanker_resource_name, stack_resource_name

FARGATE_MEMORY_MB: dict[int, range] = {
    256: range(512, 2048 + 1, 512),  # 512, 1024, 2048; 1536 is rejected below
    512: range(1024, 4096 + 1, 1024),
    1024: range(2048, 8192 + 1, 1024),
    2048: range(4096, 16384 + 1, 1024),
    4096: range(8192, 30720 + 1, 1024),
    8192: range(16384, 61440 + 1, 4096),
    16384: range(32768, 122880 + 1, 8192),
}
"""Fargate's valid memory sizes (MiB) for each CPU size (units): ECS RegisterTaskDefinition, `memory` ("If using
the Fargate launch type ... one of the following values"); tests/contracts/test_aws_lists.py reads the table from
botocore's ecs service model."""


def fargate_memory_choices(cpu: int) -> list[int]:
    if cpu == 256:
        return [512, 1024, 2048]
    return list(FARGATE_MEMORY_MB[cpu])


CONTAINER_NAME = "worker"
WORKER_USER = "10001:10001"
"""The image's non-root user; set on the task too, so a mis-built image can't run as root."""
CPU_ARCHITECTURE = {"x86_64": "X86_64", "arm64": "ARM64"}
EXECUTION_ROLE = ServiceRole(ECS_TASKS_SERVICE, role_suffix="execution-role", policy_suffix="execution-policy")
"""What ECS needs to start the task; the task role (what the agent may do) is the other one."""
NAME_LIMIT = NameLimit(
    longest=64 - len("-execution-role") - len("-1234567"),
    why="its IAM role `<name>-execution-role` plus Pulumi's 8-character suffix must fit 64 characters",
)
"""IAM role names are at most 64 characters, and Pulumi auto-names the execution role with a random suffix."""


def _ecs_secret_arn(value: str) -> str:
    secret_arn(value)
    return value


class EcsClankerConfig(CloudClanker):
    target: Literal["ecs"] = Field(description="A Fargate task definition in the stack's cluster and network.")
    # ECS Developer Guide, "Amazon ECS environment variables": the SDKs' container credential provider fetches the
    # task role's credentials from the endpoint this names (there is no AWS_ACCESS_KEY_ID in a task).
    role_credentials: ClassVar[tuple[str, ...]] = ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",)
    # The execution role reads the secrets (ECS injects them at start, ecs_execution_policy), and its credentials
    # "aren't directly accessible by the containers in the task" (ECS Developer Guide, "Amazon ECS task execution
    # IAM role"): the container's are the task role's, which reads none.
    role_reads_secrets: ClassVar[bool] = False
    environment: dict[EnvVarName, PlainValue] = Field(default_factory=dict, description=ENVIRONMENT)
    secrets: dict[EnvVarName, Annotated[str, AfterValidator(_ecs_secret_arn)]] = Field(
        default_factory=dict,
        description=f"{SECRETS} ECS also takes a `:<json-key>:<version-stage>:<version-id>` selector (all three "
        "fields, empty ones as `::`).",
    )
    cpu: Literal[256, 512, 1024, 2048, 4096, 8192, 16384] = Field(1024, description="Fargate CPU units.")
    memory_mb: int = Field(4096, description="From Fargate's table for the chosen cpu.")
    # ECS's EphemeralStorage.sizeInGiB: "The minimum supported value is 21 GiB and the maximum supported value is
    # 200 GiB" (botocore's ecs model, which tests/contracts/test_aws_lists.py reads).
    ephemeral_storage_gb: int | None = Field(None, ge=21, le=200, description="Unset: Fargate's 20 GiB.")

    @field_validator("memory_mb")
    @classmethod
    def _fargate_pair(cls, memory_mb: int, info: ValidationInfo) -> int:
        cpu = info.data.get("cpu")
        if cpu is None:  # cpu itself is invalid and reported on its own
            return memory_mb
        choices = fargate_memory_choices(cpu)
        if memory_mb not in choices:
            step = choices[-1] - choices[-2]
            allowed = (
                ", ".join(map(str, choices))
                if len(choices) <= 4
                else f"{choices[0]} to {choices[-1]} in steps of {step}"
            )
            raise ValueError(f"not a Fargate size for cpu {cpu}: choose {allowed}")
        return memory_mb


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
    settings: CloudSettings = field(default_factory=CloudSettings)
    """Its environment, secrets (injected by ECS at start), log retention, tags and protection: protected are the
    log group and the roles, never the task definition: every change to its
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
            "environment": [{"name": k, "value": v} for k, v in sorted(args.settings.environment.items())],
            "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(args.settings.secrets.items())],
            # ECS stops tasks with SIGTERM; the worker needs time to stop its agent and write the result.
            "stopTimeout": 120,
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": log_group_name,
                    "awslogs-region": args.region,
                    "awslogs-stream-prefix": clanker,  # EcsClanker.log_stream_prefix
                },
            },
        }
    ]


class EcsClanker(pulumi.ComponentResource):
    TYPE = "viberator:workers:EcsClanker"

    task_definition_arn: pulumi.Output[str]
    family: pulumi.Output[str]
    container_image: pulumi.Output[str]
    container_name: str
    log_group: pulumi.Output[str]
    log_stream_prefix: str
    """The awslogs stream prefix: a task's stream is `<prefix>/<container name>/<task id>`."""

    def __init__(self, name: str, args: EcsClankerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        tags = clanker_tags(args.settings.resource_tags, name)
        child = pulumi.ResourceOptions(parent=self)
        protected = pulumi.ResourceOptions(parent=self, protect=args.settings.protect)
        execution = execution_role(
            name,
            EXECUTION_ROLE,
            (f"/ecs/{args.family}", args.settings.log_retention_days),
            lambda log_group_arn: pulumi.Output.all(args.repository_arn, log_group_arn).apply(
                lambda arns: ecs_execution_policy(
                    arns[0], arns[1], list(args.settings.secrets.values()), args.settings.secret_keys
                )
            ),
            tags,
            protected,
            args.settings.roles,
        )
        naming = role_naming(args.settings.roles, name, "task-role")
        task_role = iam.Role(
            f"{name}-task-role",
            assume_role_policy=assume_role_policy(ECS_TASKS_SERVICE),
            tags=tags,
            opts=protected,
            name=naming.name,
            permissions_boundary=naming.boundary,
            path=naming.path,
        )
        bedrock = args.settings.bedrock
        if bedrock is not None:  # the agent's credentials are the task role's; it has no policy otherwise
            iam.RolePolicy(
                f"{name}-task-policy",
                role=task_role.id,
                policy=execution.log_group.arn.apply(lambda arn: bedrock_policy(arn, bedrock)),
                opts=protected,
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
        self.log_group = execution.log_group.name
        self.log_stream_prefix = name
        self.register_outputs({"taskDefinitionArn": self.task_definition_arn, "containerImage": image})


def _cluster(stack: ClankerStack) -> ClankerCluster:
    network = stack.network
    return ClankerCluster(
        "workers",
        ClankerClusterArgs(
            cluster_name=stack_resource_name(stack.environment),
            vpc_id=network.vpc_id if network else None,
            subnet_ids=tuple(network.subnet_ids) if network else (),
            assign_public_ip=network.assign_public_ip if network else True,
            protect=stack.protect,
            resource_tags=stack.tags,
        ),
    )


def deploy(stack: ClankerStack, placements: Sequence[Placement[EcsClankerConfig]]) -> dict[str, EcsClankerEntry]:
    """The task definitions, and the one cluster and security group they all run in (only if there are any)."""
    if not placements:
        return {}
    cluster = _cluster(stack)
    return {placement.clanker.name: _task(stack, placement, cluster) for placement in placements}


def _task(stack: ClankerStack, placement: Placement[EcsClankerConfig], cluster: ClankerCluster) -> EcsClankerEntry:
    clanker = placement.clanker
    task = EcsClanker(
        clanker.name,
        EcsClankerArgs(
            family=clanker_resource_name(stack.environment, clanker.name),
            image=placement.image_reference(),
            repository_arn=placement.image.repository_arn,
            region=stack.region,
            architecture=placement.architecture,
            cpu=clanker.cpu,
            memory_mb=clanker.memory_mb,
            ephemeral_storage_gb=clanker.ephemeral_storage_gb,
            settings=stack.settings_of(clanker),
        ),
    )
    return placement.entry(
        EcsClankerEntry,
        EcsDeployment.model_construct(
            container_image=task.container_image,
            task_definition_arn=task.task_definition_arn,
            family=task.family,
            container_name=task.container_name,
            cluster=cluster.cluster_arn,
            subnets=cluster.subnet_ids,
            security_groups=cluster.security_group_ids,
            assign_public_ip=cluster.assign_public_ip,
            architecture=placement.architecture,
            platform=placement.platform,
            log_group=task.log_group,
            log_stream_prefix=task.log_stream_prefix,
        ),
        region=stack.region,
    )


def cross_region(
    clanker: EcsClankerConfig, key: str, region: str, image_region: str, setting: str
) -> list[ConfigIssue]:
    """ECS pulls across regions, at a price: worth a warning, not an error."""
    pulumi.log.warn(
        f"clanker {clanker.name} (ecs) runs in {region} and pulls its {clanker.agent} image from "
        f"{image_region}: every task start transfers the image across regions (inter-region data transfer "
        f"charges and a slower start); add {{region: {region}}} to {setting}"
    )
    return []


TARGET = ClankerTarget(
    name="ecs",
    config_model=EcsClankerConfig,
    deploy=deploy,
    component_types=frozenset({EcsClanker.TYPE}),
    name_limit=NAME_LIMIT,
    runs_in_network=True,
    cross_region=cross_region,
)
