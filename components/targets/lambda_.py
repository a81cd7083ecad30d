"""The lambda target: a clanker that is a Lambda function running a harness image, with its own role and log
group.

Owns its config model (`viberator:clankers[]` with `target: lambda`), its rules, its component and its outputs
entry. The component owns the function, its execution role and inline policy, and its log group (created first,
so the function never writes into an unmanaged group with infinite retention). Does not own the image:
`image_uri` arrives pinned (`repo@sha256:…`) or floating (`repo:<env>-latest`) as the clanker's config chose."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, ClassVar, Literal

import pulumi
from pulumi_aws import lambda_
from pydantic import AfterValidator, Field

from components.config_model.clankers import ENVIRONMENT, SECRETS, CloudClanker, PlainValue
from components.config_model.fields import secret_arn
from components.config_model.issues import ConfigIssue
from components.config_model.parsed_stack import ParsedStack
from components.execution_role import CloudSettings, ServiceRole, execution_role
from components.policies import LAMBDA_SERVICE, lambda_execution_policy
from components.tags import clanker_tags
from components.targets.base import ClankerStack, ClankerTarget, Placement
from viberator_contract import LambdaClankerEntry, LambdaDeployment
from workers.catalog import LAMBDA_COMMAND
from workers.naming import clanker_resource_name

LAMBDA_ENV_VAR_PATTERN = r"^[a-zA-Z][a-zA-Z0-9_]+$"
"""Lambda's Environment.Variables key pattern, `[a-zA-Z]([a-zA-Z0-9_])+` (Lambda API reference, Environment)."""
LAMBDA_RESERVED_VARIABLES = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
        "TZ",
    }
)
"""Lambda's reserved keys ("Defined runtime environment variables", Lambda Developer Guide): the runtime sets
them and the API refuses them. Others with AWS_ prefixes (AWS_LAMBDA_EXEC_WRAPPER, AWS_XRAY_*) may be set.
ECS reserves none: an ECS clanker may set AWS_REGION (Claude Code on Bedrock reads it)."""
SECRET_ARNS_VARIABLE = "VIBERATOR_SECRET_ARNS"
"""Lambda cannot inject secrets as env vars: the program passes the ARNs in this one and the worker's runtime
resolves them at cold start (workers/image/viberator_worker/secret_env.py), whole secrets only."""
LAMBDA_ENVIRONMENT_MAX_BYTES = 4096
"""Lambda: "The total size of all environment variables doesn't exceed 4 KB"; the size counted is the bytes of
every key and value (Lambda Developer Guide, "Working with Lambda environment variables")."""


def lambda_variables(environment: Mapping[str, str], secrets: Mapping[str, str]) -> dict[str, str]:
    """The environment variables a Lambda clanker's function gets: its own and the one carrying its secrets."""
    variables = dict(environment)
    if secrets:
        variables[SECRET_ARNS_VARIABLE] = json.dumps(dict(secrets), sort_keys=True)
    return variables


def lambda_environment_bytes(variables: Mapping[str, str]) -> int:
    return sum(len(name.encode()) + len(value.encode()) for name, value in variables.items())


def _not_lambda_reserved(name: str) -> str:
    if name in LAMBDA_RESERVED_VARIABLES:
        raise ValueError(f"{name} is one of Lambda's reserved runtime variables, which a function can't set")
    if name == SECRET_ARNS_VARIABLE:
        raise ValueError(f"{name} is set by the program: it carries this clanker's `secrets`")
    return name


def _whole_secret_arn(value: str) -> str:
    if secret_arn(value)["selector"]:
        raise ValueError(
            "a JSON-key or version selector works only on ecs: a Lambda clanker's runtime reads the whole secret"
        )
    return value


LambdaVariableName = Annotated[str, Field(pattern=LAMBDA_ENV_VAR_PATTERN), AfterValidator(_not_lambda_reserved)]


LAMBDA_MEMORY_MB = (128, 10240)
LAMBDA_TIMEOUT_SECONDS = (1, 900)
LAMBDA_EPHEMERAL_STORAGE_MB = (512, 10240)
"""A function's limits (Lambda Developer Guide, "Lambda quotas", gettingstarted-limits: "up to 15 minutes in a
single invocation and a single function can use up to 10,240 MB of memory", 128 MB the least; CloudFormation's
AWS::Lambda::Function EphemeralStorage: "any whole number between 512 and 10,240 MB"). Not botocore's shapes,
which allow 32768 MB and 5400 s: those are Lambda Managed Instances', not a function's like these."""


class LambdaClankerConfig(CloudClanker):
    target: Literal["lambda"] = Field(description="A Lambda function running the image, with its role and log group.")
    # Lambda Developer Guide, "Defined runtime environment variables": the execution role's credentials.
    role_credentials: ClassVar[tuple[str, ...]] = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    # One role: the same function role reads the secrets at cold start (the worker's runtime,
    # workers/image/viberator_worker/secret_env.py; its policy: components/policies.py lambda_execution_policy).
    role_reads_secrets: ClassVar[bool] = True
    environment: dict[LambdaVariableName, PlainValue] = Field(
        default_factory=dict,
        description=f"{ENVIRONMENT} Lambda's reserved variables are refused, and all of a function's variables "
        "(the program's included) must fit 4 KB.",
    )
    secrets: dict[LambdaVariableName, Annotated[str, AfterValidator(_whole_secret_arn)]] = Field(
        default_factory=dict, description=f"{SECRETS} Whole secrets only."
    )
    memory_mb: int = Field(
        4096, ge=LAMBDA_MEMORY_MB[0], le=LAMBDA_MEMORY_MB[1], description="Agents need room: default 4 GiB."
    )
    timeout_seconds: int = Field(
        900, ge=LAMBDA_TIMEOUT_SECONDS[0], le=LAMBDA_TIMEOUT_SECONDS[1], description="Lambda's maximum: runs are long."
    )
    ephemeral_storage_mb: int = Field(
        4096,
        ge=LAMBDA_EPHEMERAL_STORAGE_MB[0],
        le=LAMBDA_EPHEMERAL_STORAGE_MB[1],
        description="Room for a cloned repository.",
    )
    reserved_concurrency: int | None = Field(None, ge=0, description="Unset: the account's pool.")


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
    settings: CloudSettings = field(default_factory=CloudSettings)
    """Its environment, secrets, log retention, tags and protection. Protected are the function and its role and
    log group: a replaced function gets a new ARN and loses the permissions and concurrency others granted it."""
    follows_digest: pulumi.Input[str] | None = None
    """For a floating clanker: the digest its tag names now. Lambda resolves a tag to a digest only when the
    function's code is updated, and the provider calls UpdateFunctionCode only when `filename`,
    `source_code_hash`, `s3_*`, `image_uri` or `architectures` change (terraform-provider-aws
    internal/service/lambda/function.go, `needsFunctionCodeUpdate`); the tag's URI never changes, so the
    digest goes in `source_code_hash` and every move of the tag re-resolves it."""


class LambdaClanker(pulumi.ComponentResource):
    TYPE = "viberator:workers:LambdaClanker"

    function_name: pulumi.Output[str]
    function_arn: pulumi.Output[str]
    image_uri: pulumi.Output[str]
    architecture: str

    def __init__(self, name: str, args: LambdaClankerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        tags = clanker_tags(args.settings.resource_tags, name)
        child = pulumi.ResourceOptions(parent=self, protect=args.settings.protect)
        logged = execution_role(
            name,
            LAMBDA_ROLE,
            (f"/aws/lambda/{args.function_name}", args.settings.log_retention_days),
            lambda log_group_arn: log_group_arn.apply(
                lambda arn: lambda_execution_policy(
                    arn, list(args.settings.secrets.values()), args.settings.secret_keys, args.settings.bedrock
                )
            ),
            tags,
            child,
            args.settings.roles,
        )

        variables = lambda_variables(args.settings.environment, args.settings.secrets)

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


def deploy(stack: ClankerStack, placements: Sequence[Placement[LambdaClankerConfig]]) -> dict[str, LambdaClankerEntry]:
    return {placement.clanker.name: _function(stack, placement) for placement in placements}


def _function(stack: ClankerStack, placement: Placement[LambdaClankerConfig]) -> LambdaClankerEntry:
    clanker, image = placement.clanker, placement.image
    function = LambdaClanker(
        clanker.name,
        LambdaClankerArgs(
            function_name=clanker_resource_name(stack.environment, clanker.name),
            image_uri=placement.image_reference(),
            architecture=placement.architecture,
            memory_mb=clanker.memory_mb,
            timeout_seconds=clanker.timeout_seconds,
            ephemeral_storage_mb=clanker.ephemeral_storage_mb,
            reserved_concurrency=clanker.reserved_concurrency,
            settings=stack.settings_of(clanker),
            follows_digest=image.floating.digest if clanker.image == "floating" else None,
        ),
    )
    return placement.entry(
        LambdaClankerEntry,
        LambdaDeployment.model_construct(
            image_uri=function.image_uri,
            function_name=function.function_name,
            function_arn=function.function_arn,
            architecture=function.architecture,
            platform=placement.platform,
            # What an invoker sizes its wait by, and what `run-job --local` gives the emulator.
            memory_mb=clanker.memory_mb,
            timeout_seconds=clanker.timeout_seconds,
        ),
        region=stack.region,
    )


def environment_fits(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    """Lambda's 4 KB limit on a function's variables, which AWS enforces only at deploy time."""
    for i, clanker in parsed.clankers():
        if not isinstance(clanker, LambdaClankerConfig):
            continue
        variables = lambda_variables(clanker.worker_environment, clanker.secrets)
        size = lambda_environment_bytes(variables)
        if size <= LAMBDA_ENVIRONMENT_MAX_BYTES:
            continue
        sizes = sorted(((lambda_environment_bytes({k: v}), k) for k, v in variables.items()), reverse=True)
        largest = ", ".join(
            f"{name} {bytes_} bytes" + (" (the secrets' ARNs)" if name == SECRET_ARNS_VARIABLE else "")
            for bytes_, name in sizes[:3]
        )
        yield parsed.issue(
            ("clankers", i, "environment"),
            f"the function's variables would total {size} bytes of names and values, and Lambda allows "
            f"{LAMBDA_ENVIRONMENT_MAX_BYTES} (4 KB); the largest: {largest}. Move large values out (a secret, "
            "or a file in the image)",
        )


def cross_region(
    clanker: LambdaClankerConfig, key: str, region: str, image_region: str, setting: str
) -> list[ConfigIssue]:
    """Lambda runs images only from a repository in its own region: an image left elsewhere is an error."""
    return [
        ConfigIssue(
            path=f"{key}.target",
            value="lambda",
            message=f"clanker {clanker.name} runs in {region}, and its {clanker.agent} image is in "
            f"{image_region} with no replica in {region}: Lambda runs images only from its own region; "
            f"add {{region: {region}}} to {setting}",
        )
    ]


TARGET = ClankerTarget(
    name="lambda",
    config_model=LambdaClankerConfig,
    deploy=deploy,
    component_types=frozenset({LambdaClanker.TYPE}),
    rules=(environment_fits,),
    runs_image_index=False,
    cross_region=cross_region,
)
