"""LambdaClanker: a Lambda function that runs a harness image, with its own role and log group.

Owns: the function, its execution role and inline policy, and its log group (created first, so the function
never writes into an unmanaged group with infinite retention). Does not own the image: `image_uri` arrives
pinned (`repo@sha256:…`) or floating (`repo:<env>-latest`) as the clanker's config chose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import lambda_

from components.config import lambda_variables
from components.execution_role import ServiceRole, execution_role
from components.policies import LAMBDA_SERVICE, lambda_execution_policy
from components.tags import clanker_tags
from workers.catalog import LAMBDA_COMMAND

LAMBDA_ROLE = ServiceRole(LAMBDA_SERVICE, role_suffix="role", policy_suffix="role-policy")


@dataclass(frozen=True)
class LambdaClankerArgs:
    function_name: str
    """Physical name, `viberator-<env>-<clanker>`: stable, so the backend can invoke it by name."""
    image_uri: pulumi.Input[str]
    architecture: str = "x86_64"
    """Must match the image's platform."""
    memory_mb: int = 4096
    timeout_seconds: int = 900
    ephemeral_storage_mb: int = 4096
    reserved_concurrency: int | None = None
    """None: draw from the account's unreserved pool."""
    environment: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    """Env var name -> Secrets Manager ARN; the role may read exactly these."""
    log_retention_days: int = 30
    follows_digest: pulumi.Input[str] | None = None
    """For a floating clanker: the digest its tag names now. Lambda resolves a tag to a digest only when the
    function's code is updated, and the provider calls UpdateFunctionCode only when `filename`,
    `source_code_hash`, `s3_*`, `image_uri` or `architectures` change (terraform-provider-aws
    internal/service/lambda/function.go, `needsFunctionCodeUpdate`); the tag's URI never changes, so the
    digest goes in `source_code_hash` and every move of the tag re-resolves it."""
    resource_tags: Mapping[str, str] = field(default_factory=dict)
    """The stack's tags; the clanker tag is added here."""
    protect: bool = False
    """Protect the function and its role and log group: a replaced function gets a new ARN and loses the
    permissions and concurrency others granted it (production)."""


class LambdaClanker(pulumi.ComponentResource):
    function_name: pulumi.Output[str]
    function_arn: pulumi.Output[str]
    image_uri: pulumi.Output[str]
    architecture: str

    def __init__(self, name: str, args: LambdaClankerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("viberator:workers:LambdaClanker", name, None, opts)
        tags = clanker_tags(args.resource_tags, name)
        child = pulumi.ResourceOptions(parent=self, protect=args.protect)
        logged = execution_role(
            name,
            LAMBDA_ROLE,
            (f"/aws/lambda/{args.function_name}", args.log_retention_days),
            lambda log_group_arn: log_group_arn.apply(
                lambda arn: lambda_execution_policy(arn, list(args.secrets.values()))
            ),
            tags,
            child,
        )

        variables = lambda_variables(args.environment, args.secrets)

        function = lambda_.Function(
            f"{name}-function",
            name=args.function_name,
            package_type="Image",
            image_uri=args.image_uri,
            image_config=lambda_.FunctionImageConfigArgs(commands=list(LAMBDA_COMMAND)),
            architectures=[args.architecture],
            role=logged.role.arn,
            memory_size=args.memory_mb,
            timeout=args.timeout_seconds,
            ephemeral_storage=lambda_.FunctionEphemeralStorageArgs(size=args.ephemeral_storage_mb),
            reserved_concurrent_executions=args.reserved_concurrency,
            # No block at all rather than an empty one, which the API reports back as absent (a perpetual diff).
            environment=lambda_.FunctionEnvironmentArgs(variables=variables) if variables else None,
            logging_config=lambda_.FunctionLoggingConfigArgs(log_format="Text", log_group=logged.log_group.name),
            source_code_hash=args.follows_digest,
            tags=tags,
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=[logged.log_group, logged.policy])
            ),
        )

        self.function_name = function.name
        self.function_arn = function.arn
        self.image_uri = pulumi.Output.from_input(args.image_uri)
        self.architecture = args.architecture
        self.register_outputs({"functionName": self.function_name, "functionArn": self.function_arn})
