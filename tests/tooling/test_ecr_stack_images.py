"""A stack's image in ECR, against Stubber-backed STS and ECR (issue 22): the registry its reference names (or
the stand-in host), the image the harness's clanker runs, and the alias serving a stack only when it is that image.
"""

from __future__ import annotations

import pytest

from tests.builders import REVISION
from tests.tooling import aws_stubs
from tests.tooling.aws_stubs import ACCOUNT, ECR_HOST, StubbedAws
from tests.tooling.ecr_fakes import DIGEST, OTHER, REPOSITORY, Images, worker_image
from tests.tooling.outputs_documents import docker_clanker, lambda_clanker, outputs_document
from workers.tooling import ecr
from workers.tooling.ensure import EnsureFailed, EnsureRequest, Source, ensure, stack_image
from workers.tooling.references import Registry
from workers.tooling.stack_outputs import LoadedOutputs, from_document

isolated_aws = aws_stubs.isolated_aws  # pytest finds fixtures among a module's attributes
pytestmark = pytest.mark.usefixtures("isolated_aws")


@pytest.mark.parametrize(
    ("reference", "host"),
    [
        (f"{ECR_HOST}/{REPOSITORY}@{DIGEST}", ECR_HOST),
        (f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn/{REPOSITORY}:dev-latest", None),
    ],
)
def test_a_stack_s_image_names_its_registry(reference: str, host: str | None) -> None:
    located = ecr.stack_target(StubbedAws(host=host), reference)
    assert located is not None
    target, pulled = located
    assert (target.account, pulled) == (ACCOUNT, reference)
    assert ecr.stack_target(StubbedAws(), f"127.0.0.1:5000/{REPOSITORY}@{DIGEST}") is None


def test_a_stack_s_image_is_pulled_from_the_stand_in_host() -> None:
    located = ecr.stack_target(StubbedAws(host="127.0.0.1:5999"), f"{ECR_HOST}/{REPOSITORY}@{DIGEST}")
    assert located is not None
    assert located[1] == f"127.0.0.1:5999/{REPOSITORY}@{DIGEST}"


def outputs(**clankers: dict[str, object]) -> LoadedOutputs:
    return from_document(outputs_document(**clankers), "stack dev")


PINNED = f"{ECR_HOST}/{REPOSITORY}@{DIGEST}"
FLOATING = f"{ECR_HOST}/{REPOSITORY}:dev-latest"
ELSEWHERE = f"{ECR_HOST}/viberator-worker-claude@{DIGEST}"


def test_stack_image_is_what_the_harness_s_clanker_runs() -> None:
    stack = outputs(
        a=lambda_clanker(PINNED, "kimi"),
        b=docker_clanker(ELSEWHERE, "claude"),
    )
    assert stack_image(stack, "kimi") == PINNED
    with pytest.raises(EnsureFailed, match="no clanker of stack dev runs codex"):
        stack_image(stack, "codex")
    with pytest.raises(EnsureFailed, match="'b' of stack dev runs claude, not kimi"):
        stack_image(stack, "kimi", "b")


def test_clankers_running_different_images_need_clanker() -> None:
    stack = outputs(
        a=lambda_clanker(PINNED, "kimi"),
        b=docker_clanker(FLOATING, "kimi"),
    )
    with pytest.raises(EnsureFailed, match=r"different kimi images.*--clanker"):
        stack_image(stack, "kimi")
    assert stack_image(stack, "kimi", "b") == FLOATING


def ensure_stack_image(images: Images, verified: list[str]) -> Source:
    request = EnsureRequest("kimi", registry=Registry(ECR_HOST), image=PINNED, verify=verified.append)
    return ensure(request, images, revision=REVISION, rebuild=lambda: None, say=lambda _: None).source


def test_the_alias_serves_a_stack_only_when_it_is_the_stack_s_image() -> None:
    verified: list[str] = []
    same = Images(worker_image((PINNED,)))
    assert ensure_stack_image(same, verified) is Source.LOCAL and same.pulled == [] and verified == []
    other = Images(worker_image((f"{ECR_HOST}/{REPOSITORY}@{OTHER}",)))
    assert ensure_stack_image(other, verified) is Source.PULLED and other.pulled == [PINNED]
    assert verified == [PINNED]
    assert other.alias is not None and PINNED in other.alias.repo_digests
