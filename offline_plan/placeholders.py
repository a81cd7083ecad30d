"""Deterministic stand-ins for what AWS and the registry would compute, keyed by resource type and invoke token.

They mirror the real shapes (ECR URLs, ARNs, `sha256:` digests) so the outputs schema and the backend's parsers
can be exercised offline. Any invoke without a placeholder fails loudly: a new data source must be added here
rather than silently answered with nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import pulumi

ACCOUNT = "000000000000"
VPC_ID = "vpc-0a1b2c3d4e5f60718"
SUBNET_IDS = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]

# Inputs that don't change an image's bytes: where it is pushed, with which credentials, and cache plumbing.
NON_CONTENT_IMAGE_INPUTS = ("tags", "registries", "cacheFrom", "cacheTo", "push", "buildOnPreview", "exports")


def _hash(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _auto_name(logical: str) -> str:
    """Pulumi's auto-naming: the logical name plus a random suffix (here derived from the name)."""
    return f"{logical}-{_hash(logical)[:7]}"


def image_digest(inputs: Mapping[str, Any]) -> str:
    """A digest that changes exactly when the inputs that decide the image's content change."""
    content = {k: v for k, v in inputs.items() if k not in NON_CONTENT_IMAGE_INPUTS}
    return f"sha256:{_hash(content)}"


class PlaceholderMocks(pulumi.runtime.Mocks):
    def __init__(self, region: str, *, preview: bool, stack_outputs: Mapping[str, Mapping[str, Any]]):
        self.region = region
        self.preview = preview
        self.stack_outputs = stack_outputs

    def _repository(self, name: str) -> dict[str, Any]:
        return {
            "name": name,
            "repositoryUrl": f"{ACCOUNT}.dkr.ecr.{self.region}.amazonaws.com/{name}",
            "arn": f"arn:aws:ecr:{self.region}:{ACCOUNT}:repository/{name}",
            "registryId": ACCOUNT,
        }

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        computed = self._outputs.get(args.typ)
        outputs = computed(self, args.name, inputs) if computed else {}
        state = {**inputs, **outputs}
        return state.pop("__id", f"{args.name}-id"), state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        answer = self._invokes.get(args.token)
        if answer is None:
            raise NotImplementedError(f"offline plan has no placeholder for invoke {args.token}")
        return answer(self, dict(args.args)), []  # no check failures

    # Resource outputs by type token.
    def _ecr_repository(self, _name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"__id": inputs["name"], **self._repository(inputs["name"])}

    def _image(self, _name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        if self.preview:
            return {}  # build_on_preview=False: the digest is unknown until `up`
        digest = image_digest(inputs)
        return {"__id": digest, "digest": digest, "ref": f"{inputs['tags'][0]}@{digest}"}

    def _role(self, name: str, _inputs: dict[str, Any]) -> dict[str, Any]:
        physical = _auto_name(name)
        return {"__id": physical, "name": physical, "arn": f"arn:aws:iam::{ACCOUNT}:role/{physical}"}

    def _log_group(self, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        group = inputs.get("name") or _auto_name(name)
        return {
            "__id": group,
            "name": group,
            "arn": f"arn:aws:logs:{self.region}:{ACCOUNT}:log-group:{group}",
        }

    def _function(self, _name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        arn = f"arn:aws:lambda:{self.region}:{ACCOUNT}:function:{inputs['name']}"
        return {"__id": inputs["name"], "arn": arn, "qualifiedArn": f"{arn}:$LATEST", "version": "$LATEST"}

    def _cluster(self, _name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        return {
            "__id": inputs["name"],
            "arn": f"arn:aws:ecs:{self.region}:{ACCOUNT}:cluster/{inputs['name']}",
        }

    def _task_definition(self, _name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        family = inputs["family"]
        arn = f"arn:aws:ecs:{self.region}:{ACCOUNT}:task-definition/{family}:1"
        return {"__id": family, "arn": arn, "arnWithoutRevision": arn.rsplit(":", 1)[0], "revision": 1}

    def _security_group(self, name: str, _inputs: dict[str, Any]) -> dict[str, Any]:
        group = f"sg-{_hash(name)[:17]}"
        return {"__id": group, "arn": f"arn:aws:ec2:{self.region}:{ACCOUNT}:security-group/{group}"}

    def _stack_reference(self, _name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        stack = inputs["name"]
        if stack not in self.stack_outputs:
            raise LookupError(
                f"no outputs for the referenced stack {stack}: pass --stack-outputs {stack}=outputs.json "
                "(or STACK_OUTPUTS to make plan)"
            )
        return {"__id": stack, "outputs": dict(self.stack_outputs[stack]), "secretOutputNames": []}

    _outputs: ClassVar[dict[str, Callable[[PlaceholderMocks, str, dict[str, Any]], dict[str, Any]]]] = {
        "aws:ecr/repository:Repository": _ecr_repository,
        "docker-build:index:Image": _image,
        "aws:iam/role:Role": _role,
        "aws:cloudwatch/logGroup:LogGroup": _log_group,
        "aws:lambda/function:Function": _function,
        "aws:ecs/cluster:Cluster": _cluster,
        "aws:ecs/taskDefinition:TaskDefinition": _task_definition,
        "aws:ec2/securityGroup:SecurityGroup": _security_group,
        "pulumi:pulumi:StackReference": _stack_reference,
    }

    # Invoke results by token.
    def _authorization_token(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self.region,
            "userName": "AWS",
            "password": "offline-plan-placeholder",
            "authorizationToken": "offline-plan-placeholder",
            "proxyEndpoint": f"https://{args.get('registryId') or ACCOUNT}.dkr.ecr.{self.region}.amazonaws.com",
            "expiresAt": "2099-01-01T00:00:00Z",
        }

    def _get_repository(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": args["name"],
            "imageTagMutability": "IMMUTABLE_WITH_EXCLUSION",
            **self._repository(args["name"]),
        }

    def _get_vpc(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {"id": VPC_ID, "default": True, "cidrBlock": "172.31.0.0/16"}

    def _get_subnets(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {"id": self.region, "ids": list(SUBNET_IDS)}

    _invokes: ClassVar[dict[str, Callable[[PlaceholderMocks, dict[str, Any]], dict[str, Any]]]] = {
        "aws:ecr/getAuthorizationToken:getAuthorizationToken": _authorization_token,
        "aws:ecr/getRepository:getRepository": _get_repository,
        "aws:ec2/getVpc:getVpc": _get_vpc,
        "aws:ec2/getSubnets:getSubnets": _get_subnets,
    }
