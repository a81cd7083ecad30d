"""Shared fixtures: the recording mocks (via the offline plan engine) and the committed stacks' plans.

`record` runs a program under the same engine `make plan` uses; every call gets fresh config, a fresh root
stack and a fresh event loop, duplicate URNs fail the run, and a test that recorded nothing fails.
"""

from __future__ import annotations

import contextlib
import gc
import io
import shutil
import subprocess
import tempfile
from collections.abc import Awaitable, Callable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from components.config import PLATFORM_OF_ARCHITECTURE, ClankerBase, StackConfig, parse_pulumi_config
from components.config.stack_file import stack_file_config
from offline_plan.__main__ import main as plan_main
from offline_plan.engine import Plan, Registration, run_program
from offline_plan.stacks import own_stack_file, plan_stack_file, stack_name_of
from viberator_contract import Image, StackOutputs
from viberator_contract.schema import outputs_schema
from workers.catalog import PROJECT_DIR

COMMITTED_STACKS = sorted(path.name for path in PROJECT_DIR.glob("Pulumi.*.yaml"))
ACCESS_STACKS = sorted(f"access/{path.name}" for path in (PROJECT_DIR / "access").glob("Pulumi.*.yaml"))
"""The access project's stacks (access/), by their path in the repository."""

Recorder = Callable[..., Plan]


def pytest_configure(config: pytest.Config) -> None:
    """A full garbage collection once per 100 of the middle generation's instead of 10. A test process keeps
    nearly everything it makes to the end (imported modules, pulumi_aws's generated classes, cached plans) and
    every plan adds more: each full pass walked it all again, some 30 passes and 5-6 s of CPU per xdist worker
    (timed with gc.callbacks over `make test`); now about 5, under 2 s. Garbage is still collected, only later."""
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 100)


@pytest.fixture
def record() -> Iterator[Recorder]:
    plans: list[Plan] = []

    def run(
        program: Callable[[], Awaitable[None] | None],
        *,
        stack: str = "dev",
        config: Mapping[str, str] | None = None,
        preview: bool = False,
    ) -> Plan:
        plan = run_program(stack, {"aws:region": "us-east-1", **(config or {})}, program=program, preview=preview)
        plans.append(plan)
        return plan

    yield run
    assert plans and all(plan.resources for plan in plans), "the test registered no resources"


def committed_plan(file_name: str, preview: bool = False, first_preview: bool = False) -> Plan:
    """The plan of a committed `Pulumi.<stack>.yaml` (or `access/Pulumi.<stack>.yaml`; cached, for every test
    layer: the program is deterministic; tests must not change what it returns)."""
    # One cache entry per plan however it is asked for: functools.cache keys positional and keyword arguments
    # apart, so `committed_plan(f)` and `committed_plan(f, preview=False)` would plan twice.
    return _committed_plan(file_name, preview, first_preview)


@cache
def _committed_plan(file_name: str, preview: bool, first_preview: bool) -> Plan:
    plan = plan_stack_file(
        PROJECT_DIR / file_name,
        preview=preview,
        first_preview=first_preview,
        stack_outputs=_committed_image_stack_outputs(file_name),
    )
    assert plan.resources, f"{file_name} registered no resources"
    return plan


def _committed_image_stack_outputs(file_name: str) -> dict[str, Mapping[str, Any]]:
    """The outputs of the committed image stack a promoting stack takes its images from: its cached plan, the
    one plan_stack_file would make again (an up of the image stack's file) for every mode of the promoting one."""
    if file_name.startswith("access/") or (source := committed_config(file_name).images) is None:
        return {}
    image_stack = own_stack_file(source.from_)
    return {} if image_stack is None else {source.from_: committed_plan(image_stack.name).outputs}


@cache
def committed_config(file_name: str) -> StackConfig:
    """A committed stack's config, parsed as the program parses it: what tests of the committed stacks derive
    their expectations from (its clankers, accounts, harnesses), so that adding, removing or changing a clanker
    there fails only the URN snapshot (tests/program/test_urns.py), never a test that counted or named the clankers."""
    config, secret_keys = stack_file_config(PROJECT_DIR / file_name)
    return parse_pulumi_config(config, stack=stack_name_of(PROJECT_DIR / file_name), secret_keys=secret_keys)


SAMPLE_CLANKERS = Path(__file__).with_name("stacks") / "sample-clankers.yaml"


def sample_clankers(stack: str) -> list[dict[str, Any]]:
    """The tests' own clankers for `stack` (tests/stacks/sample-clankers.yaml)."""
    return list(yaml.safe_load(SAMPLE_CLANKERS.read_text())[stack])


def sample_stack_document(stack: str) -> dict[str, Any]:
    """`Pulumi.<stack>.yaml` as committed, with the tests' own clankers (tests/stacks/sample-clankers.yaml) and no
    `harnessPlatforms` (each harness built for its clankers' platforms): for tests that name clankers."""
    document = yaml.safe_load(project_file(f"Pulumi.{stack}.yaml").read_text())
    document["config"]["viberator:clankers"] = sample_clankers(stack)
    document["config"].pop("viberator:harnessPlatforms", None)
    return dict(document)


@cache
def sample_plan(stack: str) -> Plan:
    """The plan of `sample_stack_document(stack)` (cached like committed_plan: tests must not change it); a
    promoting stack's over the sample image stack's outputs."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"Pulumi.{stack}.yaml"
        path.write_text(yaml.safe_dump(sample_stack_document(stack)))
        config, secret_keys = stack_file_config(path)
        source = parse_pulumi_config(config, stack=stack, secret_keys=secret_keys).images
        given = {} if source is None else {source.from_: sample_plan(source.from_.rsplit("/", 1)[1]).outputs}
        return plan_stack_file(path, stack_outputs=given)


@pytest.fixture(params=COMMITTED_STACKS)
def stack_plan(request: pytest.FixtureRequest) -> Plan:
    return committed_plan(request.param)


def make_plan(*args: str) -> subprocess.CompletedProcess[str]:
    """`make plan` (offline_plan's command line) with `args`, in this process, from the project directory; stdout
    and stderr captured as a pipe holds them (not a terminal). A fresh interpreter costs 2-4 s of imports and
    first-use warm-up: the tests that need one (a traceback at exit, another checkout's code) start it themselves."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.chdir(PROJECT_DIR), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = plan_main(list(args))
    return subprocess.CompletedProcess(["make", "plan", *args], code, stdout.getvalue(), stderr.getvalue())


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd, check=True, capture_output=True
    )


def project_repository(repository: Path, dev_config: Mapping[str, Any]) -> Path:
    """This project's program committed in a git repository of its own, with `dev_config` as its
    `Pulumi.dev.yaml` (a small stack: every plan there runs in a fresh interpreter, the copy's code)."""
    repository.mkdir()
    # A stack narrowed to fewer harnesses keeps the platforms only of those it still builds: the committed stack's
    # may name others (an arm64 build a prod clanker needs), which the narrowed one would refuse.
    config = {key: value for key, value in dev_config.items() if key != "viberator:harnessPlatforms"}
    built = dev_config.get("viberator:harnesses")
    platforms = dev_config.get("viberator:harnessPlatforms", {})
    if kept := {h: p for h, p in platforms.items() if built is None or h in built}:
        config["viberator:harnessPlatforms"] = kept
    for name in ("__main__.py", "Pulumi.yaml", "README.md"):
        shutil.copy(PROJECT_DIR / name, repository / name)
    (repository / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": config}))
    for package in ("access", "components", "offline_plan", "viberator_contract", "workers"):
        shutil.copytree(PROJECT_DIR / package, repository / package, ignore=shutil.ignore_patterns("__pycache__"))
    git(repository, "init", "-q")
    git(repository, "add", "-A")
    git(repository, "commit", "-qm", "initial")
    return repository


def pinned_image(outputs: Mapping[str, Any], clanker: ClankerBase) -> str:
    """`<repository>@<digest>` a pinned clanker runs, by the contract's reading of the `images` output: its
    harness's image for the clanker's architecture (the primary platform's when it names none)."""
    image = Image.model_validate(outputs["images"][clanker.agent])
    platform = image.platform if clanker.architecture is None else PLATFORM_OF_ARCHITECTURE[clanker.architecture]
    return image.every_platform()[platform].image_uri


def assert_outputs_contract(outputs: Mapping[str, Any]) -> None:
    """Resolved stack outputs keep the contract: the committed schema (what other languages check) and the models
    (what Python readers parse), which also give back exactly the document: no field they don't know."""
    jsonschema.validate(outputs, outputs_schema())
    assert StackOutputs.model_validate(outputs).model_dump(exclude_none=True) == outputs


def of_image_repositories(plan: Plan, type_: str) -> list[Registration]:
    """The resources of `type_` that belong to image repositories, not to build caches (components/build_cache.py
    names its resources `<harness>-cache-*`)."""
    return [r for r in plan.of_type(type_) if "-cache-" not in r.name]


def inputs_of(plan: Plan, type_: str) -> dict[str, dict[str, Any]]:
    """Inputs of every resource of one type, by resource name."""
    return {r.name: r.inputs for r in plan.of_type(type_)}


def project_file(name: str) -> Path:
    return PROJECT_DIR / name


@cache
def pinned_dev_key() -> dict[str, str]:
    """The key prod pins for dev's digests (`viberator:images.signing` of Pulumi.prod.yaml: the offline plan's)."""
    return dict(yaml.safe_load(project_file("Pulumi.prod.yaml").read_text())["config"]["viberator:images"]["signing"])
