"""Config models, without Pulumi: defaults, every field's bounds, the Fargate table, and error messages."""

from __future__ import annotations

from typing import Any

import pytest

from components.config import ConfigError, StackConfig, parse_pulumi_config, parse_stack_config
from components.config_model.fields import AGENT_ENV_VARIABLE
from components.targets.lambda_ import (
    LAMBDA_ENVIRONMENT_MAX_BYTES,
    LAMBDA_RESERVED_VARIABLES,
    lambda_environment_bytes,
    lambda_variables,
)
from tests.agent_secrets import agent_keyed_json, with_agent_key
from workers.catalog import HARNESS_NAMES

SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:viberator/dev/anthropic-AbCdEf"


def parse(stack: str = "dev", **values: Any) -> StackConfig:
    return parse_stack_config(values, stack=stack, region="us-east-1")


def errors(stack: str = "dev", **values: Any) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse(stack, **values)
    return [str(issue) for issue in raised.value.issues]


def clanker(target: str = "lambda", **fields: Any) -> dict[str, Any]:
    return with_agent_key({"name": "worker", "agent": "claude", "target": target, **fields})


def test_defaults() -> None:
    config = parse()
    assert config.environment == "dev"
    assert config.harnesses == list(HARNESS_NAMES)
    assert config.platform == "linux/amd64"
    assert config.keep_images == 30
    assert config.pushes_latest is True
    assert config.protect_resources is False
    assert config.builds_images is True
    assert config.clankers == []


def test_prod_is_protected_by_default_and_never_force_deletes() -> None:
    assert parse("prod").protect_resources is True
    assert errors("prod", forceDelete=True) == [
        "viberator:forceDelete = true: a production or protected stack never force-deletes repositories"
    ]


def test_environment_defaults_to_stack_but_can_be_set() -> None:
    assert parse("staging-eu").environment == "staging-eu"
    assert parse("x", environment="qa").environment == "qa"


def test_missing_region_is_named() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_stack_config({}, stack="dev", region=None)
    assert [str(i) for i in raised.value.issues] == ["aws:region = (missing): Field required"]


@pytest.mark.parametrize(
    ("target", "field", "low", "high"),
    [
        ("lambda", "memoryMb", 128, 10240),
        ("lambda", "timeoutSeconds", 1, 900),
        ("lambda", "ephemeralStorageMb", 512, 10240),
        ("ecs", "ephemeralStorageGb", 21, 200),
    ],
)
def test_clanker_field_bounds(target: str, field: str, low: int, high: int) -> None:
    parse(clankers=[clanker(target, **{field: low})])
    parse(clankers=[clanker(target, **{field: high})])
    for bad in (low - 1, high + 1):
        (message,) = errors(clankers=[clanker(target, **{field: bad})])
        assert message.startswith(f"viberator:clankers[0].{field} = {bad}: ")


def test_reserved_concurrency_bounds() -> None:
    assert parse(clankers=[clanker(reservedConcurrency=0)]).clankers[0].reserved_concurrency == 0
    (message,) = errors(clankers=[clanker(reservedConcurrency=-1)])
    assert message.startswith("viberator:clankers[0].reservedConcurrency = -1")


@pytest.mark.parametrize("keep", [0, 1001])
def test_keep_images_bounds(keep: int) -> None:
    (message,) = errors(keepImages=keep)
    assert message.startswith(f"viberator:keepImages = {keep}: ")


FARGATE_TABLE = {
    256: [512, 1024, 2048],
    512: list(range(1024, 4097, 1024)),
    1024: list(range(2048, 8193, 1024)),
    2048: list(range(4096, 16385, 1024)),
    4096: list(range(8192, 30721, 1024)),
    8192: list(range(16384, 61441, 4096)),
    16384: list(range(32768, 122881, 8192)),
}


@pytest.mark.parametrize(("cpu", "memory"), [(c, m) for c, ms in FARGATE_TABLE.items() for m in ms])
def test_every_valid_fargate_pair_parses(cpu: int, memory: int) -> None:
    parsed = parse(clankers=[clanker("ecs", cpu=cpu, memoryMb=memory)]).clankers[0]
    assert (parsed.cpu, parsed.memory_mb) == (cpu, memory)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("cpu", "memory"),
    [(256, 1536), (256, 4096), (512, 512), (1024, 9216), (4096, 31744), (8192, 18432), (16384, 36864)],
)
def test_invalid_fargate_pairs_name_the_memory(cpu: int, memory: int) -> None:
    (message,) = errors(clankers=[clanker("ecs", cpu=cpu, memoryMb=memory)])
    assert message.startswith(f"viberator:clankers[0].memoryMb = {memory}: not a Fargate size for cpu {cpu}")


def test_invalid_cpu() -> None:
    (message,) = errors(clankers=[clanker("ecs", cpu=300)])
    assert message.startswith("viberator:clankers[0].cpu = 300: ")


def test_unknown_keys_are_rejected_per_target() -> None:
    assert errors(clankers=[clanker("lambda", cpu=256)]) == [
        "viberator:clankers[0].cpu = 256: `cpu` is an ecs field; this clanker's target is lambda"
    ]
    assert errors(clankers=[clanker("docker", environment={"A": "b"})]) == [
        'viberator:clankers[0].environment = {"A": "b"}: `environment` is a lambda and ecs field; this clanker\'s '
        "target is docker; set them where the container is started (docker run -e, compose)"
    ]
    assert errors(clankers=[clanker("ecs", memoryMB=2048)]) == [
        "viberator:clankers[0].memoryMB = 2048: unknown key: did you mean memoryMb?"
    ]
    assert errors(colour="blue")[0].startswith('viberator:colour = "blue": unknown key; known: environment, ')
    # A nested setting's unknown key is matched against that setting's own keys, not the top level's.
    assert 'viberator:builder.nmae = "remote": unknown key: did you mean name?' in errors(builder={"nmae": "remote"})


def test_unknown_target() -> None:
    assert errors(clankers=[clanker("k8s")]) == [
        'viberator:clankers[0].target = "k8s": target must be one of: lambda, ecs, docker'
    ]


def test_errors_across_clankers_are_reported_together() -> None:
    messages = errors(
        clankers=[
            clanker(memoryMb=1),
            {**clanker("ecs", cpu=512, memoryMb=512), "name": "b"},
            {**clanker(), "name": "Bad_Name"},
        ]
    )
    assert [m.split(" = ")[0] for m in messages] == [
        "viberator:clankers[0].memoryMb",
        "viberator:clankers[1].memoryMb",
        "viberator:clankers[2].name",
    ]


def test_names_are_unique_and_fit_the_lambda_limit() -> None:
    assert errors(clankers=[clanker(), clanker()]) == [
        'viberator:clankers[1].name = "worker": duplicate of clankers[0]'
    ]
    longest = "a" * (64 - len("viberator-dev-"))
    parse(clankers=[{**clanker(), "name": longest}])
    (message,) = errors(clankers=[{**clanker(), "name": longest + "a"}])
    assert message.endswith("must fit 64 characters, so at most 50")


def test_agent_must_be_built_by_the_stack() -> None:
    assert errors(harnesses=["codex"], clankers=[clanker()]) == [
        'viberator:clankers[0].agent = "claude": this stack has no image for it: add it to viberator:harnesses'
    ]
    assert errors(clankers=[clanker(agent="cursor")])[0].startswith(
        'viberator:clankers[0].agent = "cursor": unknown agent'
    )


def test_architecture_defaults_to_the_image_platform_and_must_match_it() -> None:
    config = parse(harnessPlatforms={"claude": "linux/arm64"}, clankers=[clanker()])
    assert config.platforms_of(config.clankers[0].agent) == ("linux/arm64",)
    (message,) = errors(harnessPlatforms={"claude": "linux/arm64"}, clankers=[clanker(architecture="x86_64")])
    assert message.startswith(
        'viberator:clankers[0].architecture = "x86_64": no platform of the claude image runs it (built for '
        "linux/arm64): add linux/amd64 to viberator:harnessPlatforms.claude"
    )


def test_platforms_follow_the_clankers_architectures_unless_listed() -> None:
    both = [clanker(architecture="arm64"), clanker(name="b", target="ecs", cpu=1024, memoryMb=2048)]
    assert parse(clankers=both).platforms_of("claude") == ("linux/amd64", "linux/arm64")
    assert parse(clankers=[clanker(architecture="arm64")]).platforms_of("claude") == ("linux/arm64",)
    assert parse(clankers=[]).platforms_of("claude") == ("linux/amd64",)
    listed = parse(harnessPlatforms={"claude": ["linux/arm64", "linux/amd64"]}, clankers=[clanker()])
    assert listed.platforms_of("claude") == ("linux/arm64", "linux/amd64")
    (message,) = errors(harnessPlatforms={"claude": ["linux/arm64", "linux/arm64"]}, clankers=[clanker()])
    twice = '["linux/arm64", "linux/arm64"]'
    assert message == f"viberator:harnessPlatforms.claude = {twice}: lists no platform, or one twice"


def test_a_floating_lambda_of_several_platforms_is_refused() -> None:
    floating = clanker(image="floating", architecture="arm64")
    (message,) = errors(clankers=[floating, clanker(name="b", target="ecs", cpu=1024, memoryMb=2048)])
    assert message.startswith('viberator:clankers[0].image = "floating": the claude image is built for linux/amd64, ')
    assert "Lambda does not run" in message


def test_secrets_must_be_secrets_manager_arns() -> None:
    parse(clankers=[clanker(secrets={"ANTHROPIC_API_KEY": SECRET})])
    (message,) = errors(clankers=[clanker(secrets={"ANTHROPIC_API_KEY": "sk-plaintext"})])
    assert message.startswith('viberator:clankers[0].secrets.ANTHROPIC_API_KEY = "sk-plaintext": must be a Secrets')


@pytest.mark.parametrize(
    "value",
    ["sk-ant-api03-abcdefghijklmnopqrstuvwxyz", "AKIAIOSFODNN7EXAMPLE", "ghp_" + "a" * 36],
)
def test_plaintext_credentials_are_refused_without_echoing_them(value: str) -> None:
    (message,) = errors(clankers=[clanker(environment={"HELPER": value})])
    assert message.startswith("viberator:clankers[0].environment.HELPER = '(redacted)': holds ")
    assert value not in message


def test_credential_names_must_use_secrets() -> None:
    (message,) = errors(clankers=[clanker(environment={"OPENAI_API_KEY": "hunter2"})])
    assert "OPENAI_API_KEY name credentials" in message
    assert "hunter2" not in message


def test_env_and_secrets_must_not_overlap() -> None:
    secrets = {"TOKEN_LIMIT": SECRET, "ANTHROPIC_API_KEY": SECRET}
    (message,) = errors(clankers=[clanker(environment={"TOKEN_LIMIT": ""}, secrets=secrets)])
    assert "TOKEN_LIMIT set in both environment and secrets" in message


def test_shared_repositories_never_push_latest() -> None:
    config = parse(repositories="existing")
    assert config.pushes_latest is False
    assert errors(repositories="existing", pushLatest=True)[0].startswith("viberator:pushLatest = true: ")


def test_image_source_and_floating_clankers() -> None:
    config = parse(images={"from": "acme/viberator-workers/dev"}, clankers=[clanker()])
    assert config.builds_images is False
    assert errors(images={"from": "dev"})[0].startswith('viberator:images.from = "dev": must be a fully qualified')
    assert errors(images={"from": "a/b/dev"}, clankers=[clanker(image="floating")])[0].startswith(
        'viberator:clankers[0].image = "floating": a promoting stack'
    )


def test_field_and_cross_field_errors_are_reported_in_one_run() -> None:
    messages = errors(
        clankers=[
            {**clanker(), "name": "a", "memoryMb": 1},
            {**clanker(), "name": "b"},
            {**clanker(), "name": "b", "agent": "cursor"},
        ]
    )
    assert [m.split(":", 2)[1].split(" = ")[0] for m in messages] == [
        "clankers[0].memoryMb",
        "clankers[2].name",
        "clankers[2].agent",
    ]


def test_ecs_names_leave_room_for_the_role_name() -> None:
    longest = "e" * 41
    parse(clankers=[{**clanker("ecs"), "name": longest}])
    (message,) = errors(clankers=[{**clanker("ecs"), "name": longest + "e"}])
    assert message.endswith("must fit 64 characters, so at most 41")


@pytest.mark.parametrize("revision", ["latest", "v1-latest"])
def test_image_revision_cannot_make_a_movable_tag(revision: str) -> None:
    (message,) = errors(imageRevision=revision)
    assert message.startswith(f'viberator:imageRevision = "{revision}": the tag dev-{revision} would be one of')


def test_image_revision_must_be_tag_safe() -> None:
    (message,) = errors(imageRevision="-x")
    assert message.startswith('viberator:imageRevision = "-x": a tag-safe revision')


def cli(stack: str = "dev", **config: str) -> list[str]:
    """Issues of a config map as the Pulumi CLI passes it (every namespace, values as text)."""
    with pytest.raises(ConfigError) as raised:
        parse_pulumi_config({"aws:region": "us-east-1", **config}, stack=stack)
    return [str(issue) for issue in raised.value.issues]


def test_text_values_reach_the_models_as_text_and_are_coerced_where_typed() -> None:
    config = parse_pulumi_config(
        {
            "aws:region": "us-east-1",
            "aws:profile": "viberator-dev",  # the provider's: allowed, not read here
            "viberator:environment": "2024",
            "viberator:imageRevision": "20240601",
            "viberator:keepImages": "10",
            "viberator:logRetentionDays": "90",
            "viberator:pushLatest": "false",
            "viberator:harnesses": '["claude"]',
            "viberator:clankers": agent_keyed_json([{"name": "w", "agent": "claude", "target": "lambda"}]),  # has logs
        },
        stack="dev",
    )
    assert (config.environment, config.image_revision) == ("2024", "20240601")
    assert (config.keep_images, config.log_retention_days, config.push_latest) == (10, 90, False)
    assert config.harnesses == ["claude"]


def test_keys_the_program_never_reads_are_named_with_the_command_that_sets_them() -> None:
    assert cli(**{"viberator-workers:keepImages": "10", "keepImages": "10"}) == [
        "viberator-workers:keepImages = 10: the namespace viberator-workers, which this program never reads: did "
        "you mean viberator:keepImages? `pulumi config set viberator:keepImages 10`",
        "keepImages = 10: no namespace, which this program never reads: did you mean viberator:keepImages? "
        "`pulumi config set viberator:keepImages 10`",
    ]
    (message,) = cli(**{"acme:colour": "blue"})
    assert message.startswith('acme:colour = "blue": this program reads only viberator:* and its providers')


def test_lambda_counts_every_variable_it_gets_against_4_kb() -> None:
    secrets = {"ANTHROPIC_API_KEY": SECRET}
    arns = lambda_environment_bytes(lambda_variables({}, secrets))
    # The program also names the variables the agent may see (PROMPT) in VIBERATOR_AGENT_ENV.
    injected = lambda_environment_bytes(lambda_variables({AGENT_ENV_VARIABLE: "PROMPT"}, secrets))
    room = LAMBDA_ENVIRONMENT_MAX_BYTES - injected - len("PROMPT")
    parse(clankers=[clanker(environment={"PROMPT": "x" * room}, secrets=secrets)])
    (message,) = errors(clankers=[clanker(environment={"PROMPT": "x" * (room + 1)}, secrets=secrets)])
    assert message.startswith(f"viberator:clankers[0].environment = {LAMBDA_ENVIRONMENT_MAX_BYTES + 1}: ")
    assert f"the largest: PROMPT {room + 1 + len('PROMPT')} bytes, VIBERATOR_SECRET_ARNS {arns} bytes" in message
    # ECS has no such limit here: the same variables go into its task definition.
    parse(clankers=[clanker("ecs", environment={"PROMPT": "x" * 5000}, secrets=secrets)])


@pytest.mark.parametrize("name", sorted(LAMBDA_RESERVED_VARIABLES))
def test_lambda_reserves_its_runtime_variables_and_ecs_none(name: str) -> None:
    # As a secret, so that credential-named ones (AWS_SESSION_TOKEN) meet only the reserved-name rule.
    secrets = {name: SECRET, "ANTHROPIC_API_KEY": SECRET}
    (message,) = errors(clankers=[clanker(secrets=secrets)])
    expected = "one of Lambda's reserved runtime variables" if name[0].isalpha() else "a Lambda variable name"
    assert expected in message
    parse(clankers=[clanker("ecs", secrets=secrets)])


@pytest.mark.parametrize(
    ("arn", "target", "complaint"),
    [
        (SECRET.removesuffix("-AbCdEf"), "lambda", "a partial ARN"),
        (SECRET.replace("us-east-1", "us-east1"), "ecs", "us-east1 is not an AWS region"),
        (SECRET + ":anthropic::", "lambda", "works only on ecs"),
        (SECRET + ":anthropic", "ecs", "must be a Secrets Manager secret ARN"),
    ],
)
def test_secret_arns_are_complete(arn: str, target: str, complaint: str) -> None:
    (message,) = errors(clankers=[clanker(target, secrets={"ANTHROPIC_API_KEY": arn})])
    assert complaint in message


def test_secrets_are_in_the_stack_partition_and_ecs_takes_selectors() -> None:
    parse(clankers=[clanker("ecs", secrets={"ANTHROPIC_API_KEY": SECRET + ":anthropic:AWSCURRENT:"})])
    with pytest.raises(ConfigError) as raised:
        parse_stack_config(
            {"clankers": [clanker(secrets={"ANTHROPIC_API_KEY": SECRET})]}, stack="gov", region="us-gov-west-1"
        )
    (issue,) = raised.value.issues
    assert issue.message.startswith("partition aws, but this stack's region us-gov-west-1 is in aws-us-gov")


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"aws:ec2MetadataServiceEndpointMode": "ipv4"}, 'aws:ec2MetadataServiceEndpointMode = "ipv4": the AWS'),
        ({"aws:retryMode": "Standard"}, 'aws:retryMode = "Standard": the AWS provider takes standard or adaptive'),
        ({"aws:forbiddenAccountIds": '["210987654321", "210987654321"]'}, "aws:forbiddenAccountIds[1] = "),
        ({"aws:forbiddenAccountIds": "[210987654321]"}, "aws:forbiddenAccountIds[0] = 210987654321: the provider"),
        ({"aws:token": "IQoJb3JpZ2luX2VjEJr"}, "aws:token = '(redacted)': a credential in plain text"),
    ],
)
def test_provider_settings_are_checked_as_the_provider_checks_them(config: dict[str, str], expected: str) -> None:
    (message,) = cli(**config)
    assert message.startswith(expected)


def test_a_provider_credential_set_as_a_secret_passes() -> None:
    config = {"aws:region": "us-east-1", "aws:secretKey": "[secret]", "aws:accessKey": "[secret]"}
    assert parse_pulumi_config(config, stack="dev", secret_keys=["aws:secretKey", "aws:accessKey"]).region


def test_a_secret_from_a_sharing_account_is_accepted_once_listed() -> None:
    other = SECRET.replace("123456789012", "210987654321")
    values = {"clankers": [clanker(secrets={"ANTHROPIC_API_KEY": other})]}
    with pytest.raises(ConfigError):
        parse_stack_config(values, stack="dev", region="us-east-1", account="123456789012")
    shared = parse_stack_config(
        {**values, "secretAccounts": ["210987654321"]}, stack="dev", region="us-east-1", account="123456789012"
    )
    assert shared.secret_accounts == ["210987654321"]
