"""The contract's shared vocabulary: the base model and the constrained strings its fields reuse.

The contract imports nothing of the project (a backend installs it with pydantic alone), so what the project
keeps as closed lists — its harnesses, agent CLIs, targets, platforms — are open strings here, of a stated shape:
a reader built today must read outputs that name tomorrow's (docs/contract.md, "How the contract evolves").

Patterns spell digits `[0-9]`, never `\\d`: the same expression must mean the same in Python, in pydantic-core's
Rust regex (whose `\\d` is any Unicode digit) and in a JSON Schema validator of another language.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class ContractModel(BaseModel):
    """Field names are snake_case in Python and camelCase in the outputs.

    A field the model does not declare is ignored when parsing, and allowed by the schema (no
    `additionalProperties: false`): fields are added within a schema version, so a reader built before a field
    must still read outputs written after it. What keeps a writer to the contract is the tests' round trip
    (tests/conftest.py `assert_outputs_contract`: the models give back exactly the document)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="ignore",
        frozen=True,
    )


NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
REGION_PATTERN = r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$"
ACCOUNT_ID_PATTERN = r"^[0-9]{12}$"
DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"
KMS_KEY_ARN_PATTERN = r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]{36}$"
PUBLIC_KEY_PEM_PATTERN = r"^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END PUBLIC KEY-----\n?$"
"""A PEM SubjectPublicKeyInfo, as KMS GetPublicKey returns it (aws.kms.get_public_key `public_key_pem`)."""
PLATFORM_PATTERN = r"^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$"
"""An OCI platform, `os/architecture[/variant]` (`linux/amd64`, `linux/arm64`, tomorrow `linux/riscv64`)."""
ARCHITECTURE_PATTERN = r"^[a-z0-9_]+$"
"""A CPU architecture as the target names it (Lambda's and ECS's `x86_64`, `arm64`)."""
REPOSITORY_PREFIX = "viberator-worker-"
"""Every worker image's repository is `<prefix><harness>` (the project's workers/catalog.py names it too; a test
keeps the two equal, since the contract may import nothing of the project)."""
_REPOSITORY = rf"[0-9]{{12}}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/{REPOSITORY_PREFIX}[a-z0-9-]+"
"""An ECR repository of worker images, in any region and partition (`.com.cn` in China)."""

Name = Annotated[str, Field(pattern=NAME_PATTERN)]
"""An environment's, a clanker's, a harness's or an agent CLI's name: lowercase letters, digits, inner hyphens."""
HarnessName = Name
"""A harness (a worker image: a key of `images`): the project's catalog lists today's; the contract takes any."""
AgentName = Name
"""An agent CLI a job names (the job's `agent`): the worker runtime lists today's; the contract takes any."""
Region = Annotated[str, Field(pattern=REGION_PATTERN)]
AccountId = Annotated[str, Field(pattern=ACCOUNT_ID_PATTERN)]
Digest = Annotated[str, Field(pattern=DIGEST_PATTERN)]
Platform = Annotated[str, Field(pattern=PLATFORM_PATTERN)]
Architecture = Annotated[str, Field(pattern=ARCHITECTURE_PATTERN)]
RepositoryName = Annotated[str, Field(pattern=rf"^{REPOSITORY_PREFIX}[a-z0-9-]+$")]
RepositoryUrl = Annotated[str, Field(pattern=rf"^{_REPOSITORY}$")]
PinnedImage = Annotated[str, Field(pattern=rf"^{_REPOSITORY}@sha256:[0-9a-f]{{64}}$")]
"""`<repositoryUrl>@sha256:…`: one digest, forever."""
RunnableImage = Annotated[str, Field(pattern=rf"^{_REPOSITORY}(@sha256:[0-9a-f]{{64}}|:[a-z0-9-]+-latest)$")]
"""What a clanker runs: a pinned digest, or its environment's floating tag `<repositoryUrl>:<env>-latest`."""
SbomTag = Annotated[str, Field(pattern=rf"^{_REPOSITORY}:sha256-[0-9a-f]{{64}}\.sbom$")]
