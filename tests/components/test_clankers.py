"""Clanker components under recording mocks: exact inputs, least-privilege policies, and the ECS model check."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import botocore.session
import pytest
from botocore.model import Shape
from botocore.validate import ParamValidator

from components.execution_role import CloudSettings
from components.targets.ecs import EcsClanker, EcsClankerArgs
from components.targets.ecs_cluster import ClankerCluster, ClankerClusterArgs
from components.targets.lambda_ import LambdaClanker, LambdaClankerArgs
from tests.conftest import Recorder

IMAGE = "000000000000.dkr.ecr.us-east-1.amazonaws.com/viberator-worker-claude@sha256:" + "a" * 64
REPOSITORY_ARN = "arn:aws:ecr:us-east-1:000000000000:repository/viberator-worker-claude"
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:viberator/dev/anthropic-AbCdEf"

LAMBDA = LambdaClankerArgs(
    function_name="viberator-dev-worker",
    image_uri=IMAGE,
    memory_mb=2048,
    timeout_seconds=600,
    ephemeral_storage_mb=1024,
    settings=CloudSettings(environment={"LOG_LEVEL": "debug"}, secrets={"ANTHROPIC_API_KEY": SECRET}),
)
ECS = EcsClankerArgs(
    family="viberator-dev-worker",
    image=IMAGE,
    repository_arn=REPOSITORY_ARN,
    region="us-east-1",
    cpu=1024,
    memory_mb=4096,
    ephemeral_storage_gb=50,
    settings=CloudSettings(environment={"LOG_LEVEL": "debug"}, secrets={"ANTHROPIC_API_KEY": SECRET}),
)


def test_lambda_function_inputs(record: Recorder) -> None:
    plan = record(lambda: LambdaClanker("worker", LAMBDA))
    # Each registration reaches the engine once its inputs resolve: the arrival order is not the program's.
    assert sorted((r.type, r.name, r.parent) for r in plan.resources) == sorted(
        [
            ("viberator:workers:LambdaClanker", "worker", None),
            ("aws:cloudwatch/logGroup:LogGroup", "worker-logs", "viberator:workers:LambdaClanker::worker"),
            ("aws:iam/role:Role", "worker-role", "viberator:workers:LambdaClanker::worker"),
            ("aws:iam/rolePolicy:RolePolicy", "worker-role-policy", "viberator:workers:LambdaClanker::worker"),
            ("aws:lambda/function:Function", "worker-function", "viberator:workers:LambdaClanker::worker"),
        ]
    )
    assert plan.named("worker-logs").inputs == {
        "name": "/aws/lambda/viberator-dev-worker",
        "retentionInDays": 30,
        "tags": {"Clanker": "worker"},
    }
    function = plan.named("worker-function").inputs
    role_arn = function.pop("role")
    assert role_arn.startswith("arn:aws:iam::000000000000:role/worker-role-")
    assert function == {
        "name": "viberator-dev-worker",
        "packageType": "Image",
        "imageUri": IMAGE,
        "imageConfig": {"commands": ["lambda"]},
        "architectures": ["x86_64"],
        "memorySize": 2048,
        "timeout": 600,
        "ephemeralStorage": {"size": 1024},
        "environment": {
            "variables": {
                "LOG_LEVEL": "debug",
                "VIBERATOR_SECRET_ARNS": json.dumps({"ANTHROPIC_API_KEY": SECRET}),
            }
        },
        "loggingConfig": {"logFormat": "Text", "logGroup": "/aws/lambda/viberator-dev-worker"},
        "tags": {"Clanker": "worker"},
    }


def test_lambda_role_reads_exactly_its_secrets_and_writes_only_its_logs(record: Recorder) -> None:
    plan = record(lambda: LambdaClanker("worker", LAMBDA))
    assert json.loads(plan.named("worker-role").inputs["assumeRolePolicy"])["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    assert json.loads(plan.named("worker-role-policy").inputs["policy"])["Statement"] == [
        {
            "Sid": "WriteLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/viberator-dev-worker:*",
        },
        {
            "Sid": "ReadListedSecrets",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": [SECRET],
        },
    ]


def test_lambda_without_secrets_gets_no_secret_statement_and_reserved_concurrency(record: Recorder) -> None:
    args = replace(LAMBDA, settings=replace(LAMBDA.settings, secrets={}), reserved_concurrency=5)
    plan = record(lambda: LambdaClanker("worker", args))
    assert [s["Sid"] for s in json.loads(plan.named("worker-role-policy").inputs["policy"])["Statement"]] == [
        "WriteLogs"
    ]
    function = plan.named("worker-function").inputs
    assert function["reservedConcurrentExecutions"] == 5
    assert "VIBERATOR_SECRET_ARNS" not in function["environment"]["variables"]


def test_ecs_task_definition_inputs(record: Recorder) -> None:
    plan = record(lambda: EcsClanker("worker", ECS))
    task = plan.named("worker-task").inputs
    assert {k: task[k] for k in ("family", "requiresCompatibilities", "networkMode", "cpu", "memory")} == {
        "family": "viberator-dev-worker",
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": "1024",
        "memory": "4096",
    }
    assert task["runtimePlatform"] == {"operatingSystemFamily": "LINUX", "cpuArchitecture": "X86_64"}
    assert task["ephemeralStorage"] == {"sizeInGib": 50}
    assert task["executionRoleArn"] != task["taskRoleArn"]
    (container,) = json.loads(task["containerDefinitions"])
    assert container == {
        "name": "worker",
        "image": IMAGE,
        "essential": True,
        "user": "10001:10001",
        "readonlyRootFilesystem": False,
        "environment": [
            {"name": "LOG_LEVEL", "value": "debug"},
        ],
        "secrets": [{"name": "ANTHROPIC_API_KEY", "valueFrom": SECRET}],
        "stopTimeout": 120,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": "/ecs/viberator-dev-worker",
                "awslogs-region": "us-east-1",
                "awslogs-stream-prefix": "worker",
            },
        },
    }


def test_ecs_arm64_runtime_platform(record: Recorder) -> None:
    plan = record(lambda: EcsClanker("worker", replace(ECS, architecture="arm64")))
    assert plan.named("worker-task").inputs["runtimePlatform"]["cpuArchitecture"] == "ARM64"


def test_ecs_execution_role_pulls_from_one_repository(record: Recorder) -> None:
    plan = record(lambda: EcsClanker("worker", ECS))
    assert json.loads(plan.named("worker-execution-policy").inputs["policy"])["Statement"] == [
        {"Sid": "RegistryLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {
            "Sid": "PullWorkerImage",
            "Effect": "Allow",
            "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            "Resource": REPOSITORY_ARN,
        },
        {
            "Sid": "WriteLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "arn:aws:logs:us-east-1:000000000000:log-group:/ecs/viberator-dev-worker:*",
        },
        {
            "Sid": "ReadListedSecrets",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": [SECRET],
        },
    ]
    # The task role (what the agent may do in AWS) has no policy at all.
    assert [r.name for r in plan.of_type("aws:iam/rolePolicy:RolePolicy")] == ["worker-execution-policy"]


def test_cluster_defaults_to_the_default_vpc(record: Recorder) -> None:
    args = ClankerClusterArgs(cluster_name="viberator-dev", protect=True, resource_tags={"Environment": "dev"})
    plan = record(lambda: ClankerCluster("workers", args))
    cluster = plan.named("workers-cluster")
    assert cluster.inputs == {
        "name": "viberator-dev",
        "settings": [{"name": "containerInsights", "value": "enabled"}],
        "tags": {"Environment": "dev"},
    }
    assert cluster.protect is True
    group = plan.named("workers-egress-only").inputs
    assert group["vpcId"] == "vpc-0a1b2c3d4e5f60718"
    assert "ingress" not in group
    assert group["egress"] == [
        {
            "description": "Outbound to registries and agent APIs",
            "protocol": "-1",
            "fromPort": 0,
            "toPort": 0,
            "cidrBlocks": ["0.0.0.0/0"],
            "ipv6CidrBlocks": ["::/0"],
        }
    ]


def test_cluster_uses_configured_network(record: Recorder) -> None:
    args = ClankerClusterArgs(
        cluster_name="viberator-dev", vpc_id="vpc-0123456789abcdef0", subnet_ids=("subnet-0123456789abcdef0",)
    )
    plan = record(lambda: ClankerCluster("workers", args))
    assert plan.named("workers-egress-only").inputs["vpcId"] == "vpc-0123456789abcdef0"


# --- The ECS API model check: container definitions as RegisterTaskDefinition would receive them. ---


def _register_task_definition_shape() -> Shape:
    model = botocore.session.get_session().get_service_model("ecs")
    return model.operation_model("RegisterTaskDefinition").input_shape


def _enum_violations(value: Any, shape: Shape, path: str) -> list[str]:
    """botocore's validator skips enums; walk the shape and check them."""
    problems: list[str] = []
    if shape.type_name == "structure" and isinstance(value, dict):
        for key, item in value.items():
            if key in shape.members:
                problems += _enum_violations(item, shape.members[key], f"{path}.{key}")
    elif shape.type_name == "list" and isinstance(value, list):
        for index, item in enumerate(value):
            problems += _enum_violations(item, shape.member, f"{path}[{index}]")  # type: ignore[attr-defined]
    elif shape.type_name == "map" and isinstance(value, dict):
        for key, item in value.items():
            problems += _enum_violations(item, shape.value, f"{path}.{key}")  # type: ignore[attr-defined]
    elif getattr(shape, "enum", None) and value not in shape.enum:  # only StringShape has enum
        problems.append(f"{path}={value!r} not in {shape.enum}")  # type: ignore[attr-defined]
    return problems


def ecs_model_problems(task_inputs: dict[str, Any]) -> list[str]:
    request = {
        "family": task_inputs["family"],
        "containerDefinitions": json.loads(task_inputs["containerDefinitions"]),
        "requiresCompatibilities": task_inputs["requiresCompatibilities"],
        "networkMode": task_inputs["networkMode"],
        "cpu": task_inputs["cpu"],
        "memory": task_inputs["memory"],
        "runtimePlatform": task_inputs["runtimePlatform"],
    }
    shape = _register_task_definition_shape()
    report = ParamValidator().validate(request, shape)
    problems = [report.generate_report()] if report.has_errors() else []
    return problems + _enum_violations(request, shape, "RegisterTaskDefinition")


def test_container_definitions_match_the_ecs_api_model(record: Recorder) -> None:
    plan = record(lambda: EcsClanker("worker", ECS))
    assert ecs_model_problems(plan.named("worker-task").inputs) == []


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda c: c.update(logConfiguration={"logDriver": "cloudwatch"}), "logDriver='cloudwatch'"),
        (
            lambda c: c.update(stopTimeout="120"),
            "Invalid type for parameter containerDefinitions[0].stopTimeout",
        ),
        (lambda c: c.update(imageName="x"), 'Unknown parameter in containerDefinitions[0]: "imageName"'),
    ],
)
def test_the_ecs_model_check_catches_mistakes(record: Recorder, mutate: Any, expected: str) -> None:
    inputs = dict(record(lambda: EcsClanker("worker", ECS)).named("worker-task").inputs)
    containers = json.loads(inputs["containerDefinitions"])
    mutate(containers[0])
    inputs["containerDefinitions"] = json.dumps(containers)
    assert any(expected in problem for problem in ecs_model_problems(inputs))


def test_task_user_is_the_images_non_root_user() -> None:
    from components.targets.ecs import WORKER_USER
    from workers.catalog import DOCKERFILE

    users = re.findall(r"^USER\s+(\S+)\s*$", DOCKERFILE.read_text(), flags=re.MULTILINE)
    assert users, "every worker target switches to the non-root user"
    assert set(users) == {WORKER_USER}


def test_lambda_without_variables_sends_no_environment_block(record: Recorder) -> None:
    plan = record(lambda: LambdaClanker("worker", replace(LAMBDA, settings=CloudSettings())))
    assert "environment" not in plan.named("worker-function").inputs
