"""Config models, without Pulumi: defaults, every field's bounds, the Fargate table, and error messages.

A clanker's secrets and environment have tests/config/test_config_secrets.py; the config map as the Pulumi CLI
passes it, tests/config/test_pulumi_config.py.
"""

from __future__ import annotations

import pytest

from components.config import ConfigError, parse_stack_config
from tests.config.stack_values import clanker, errors, parse
from workers.catalog import HARNESS_NAMES


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
