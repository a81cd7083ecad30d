"""The pulumi_policy adapters: the pack's policies report what the rules find, through pulumi_policy's own API,
and the served pack answers the engine's analyzer calls.

The PolicyPack is never created in this process (that starts the analyzer server): the last tests run
`policy/__main__.py` as the engine does and talk to it over gRPC.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

from offline_plan.engine import Plan, Registration
from policy.pack import policies
from policy.rules import REPOSITORY, RESOURCE_RULES, STACK_RULES
from workers.catalog import PROJECT_DIR

OPTIONS = PolicyResourceOptions(False, [], False, [], PolicyCustomTimeouts(0, 0, 0), [], None)


class Violations(list[str]):
    """A report_violation callback that keeps the messages."""

    def __call__(self, message: str, urn: str | None = None) -> None:
        self.append(message)


def validate_resource(policy: ResourceValidationPolicy, registration: Registration, props: dict) -> list[str]:
    reported = Violations()
    args = ResourceValidationArgs(
        registration.type, unknown_checking_proxy(props), registration.urn, registration.name, OPTIONS, None
    )
    policy.validate(args, reported)
    return reported


def validate_stack(policy: StackValidationPolicy, plan: Plan) -> list[str]:
    reported = Violations()
    resources = [
        PolicyResource(r.type, unknown_checking_proxy(r.inputs), r.urn, r.name, OPTIONS, None, None, [], {})
        for r in plan.resources
    ]
    policy.validate(StackValidationArgs(resources), reported)
    return reported


def test_pack_serves_every_rule() -> None:
    assert [p.name for p in policies()] == [r.name for r in RESOURCE_RULES] + [r.name for r in STACK_RULES]


def test_pack_passes_every_committed_stack(stack_plan: Plan) -> None:
    reported: list[str] = []
    for policy in policies():
        if isinstance(policy, StackValidationPolicy):
            reported += validate_stack(policy, stack_plan)
        else:
            assert isinstance(policy, ResourceValidationPolicy)
            reported += [m for r in stack_plan.resources for m in validate_resource(policy, r, r.inputs)]
    assert reported == []


def test_pack_reports_a_violation(dev_plan: Plan) -> None:
    (policy,) = [p for p in policies() if p.name == "ecr-repository-scanned-and-immutable"]
    assert isinstance(policy, ResourceValidationPolicy)
    repository = dev_plan.of_type(REPOSITORY)[0]
    spoiled = json.loads(json.dumps(repository.inputs)) | {"imageScanningConfiguration": {"scanOnPush": False}}
    assert validate_resource(policy, repository, spoiled) == [
        "ECR repository must scan images on push (imageScanningConfiguration.scanOnPush)"
    ]


def test_pack_project_file_runs_in_the_project_environment() -> None:
    project = yaml.safe_load((PROJECT_DIR / "policy" / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "uv"}}
    assert (Path(PROJECT_DIR) / "policy" / "__main__.py").read_text().count("PolicyPack(") == 1


@pytest.fixture(scope="module")
def served_pack() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    # As the engine runs it: from another directory, unbuffered (pulumi_policy writes the port it serves on
    # without a flush; Pulumi's Python runtime sets PYTHONUNBUFFERED for every program and pack).
    process = subprocess.Popen(
        [sys.executable, str(PROJECT_DIR / "policy" / "__main__.py")],
        stdout=subprocess.PIPE,
        text=True,
        cwd="/",
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 60)
        assert ready, "the policy pack did not print its port within 60 s"
        port = int(process.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _struct(values: dict) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(values)
    return struct


def test_served_pack_lists_its_policies(served_pack: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = served_pack.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
    assert info.name == "viberator-guardrails"
    assert [p.name for p in info.policies] == [p.name for p in policies()]


def test_served_pack_passes_the_dev_stack_and_flags_a_violation(
    served_pack: analyzer_pb2_grpc.AnalyzerStub, dev_plan: Plan
) -> None:
    resources = [
        analyzer_pb2.AnalyzerResource(type=r.type, properties=_struct(r.inputs), urn=r.urn, name=r.name)
        for r in dev_plan.resources
    ]
    stack = served_pack.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources), timeout=30)
    assert [d.message for d in stack.diagnostics] == []
    for resource in resources:
        assert [
            d.message
            for d in served_pack.Analyze(
                analyzer_pb2.AnalyzeRequest(
                    type=resource.type, properties=resource.properties, urn=resource.urn, name=resource.name
                ),
                timeout=30,
            ).diagnostics
        ] == []

    repository = dev_plan.of_type(REPOSITORY)[0]
    spoiled = {**repository.inputs, "imageScanningConfiguration": {"scanOnPush": False}}
    request = analyzer_pb2.AnalyzeRequest(
        type=REPOSITORY, properties=_struct(spoiled), urn=repository.urn, name=repository.name
    )
    (diagnostic,) = served_pack.Analyze(request, timeout=30).diagnostics
    assert diagnostic.policyName == "ecr-repository-scanned-and-immutable"
    assert diagnostic.message.endswith(
        "ECR repository must scan images on push (imageScanningConfiguration.scanOnPush)"
    )
