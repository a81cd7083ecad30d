"""The contract's shared vocabulary: the base model and the constrained strings its fields reuse.

Patterns spell digits `[0-9]`, never `\\d`: the same expression must mean the same in Python, in pydantic-core's
Rust regex (whose `\\d` is any Unicode digit) and in a JSON Schema validator of another language.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.alias_generators import to_camel

from workers.catalog import HARNESS_NAMES, REPOSITORY_PREFIX


class ContractModel(BaseModel):
    """Field names are snake_case in Python and camelCase in the outputs.

    The schema forbids what a model does not declare (`additionalProperties: false`: a writer emits only the
    contract), while parsing ignores it: fields are only ever added within a schema version, so a reader
    built before a field must still read outputs written after it."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="ignore",
        frozen=True,
        json_schema_extra={"additionalProperties": False},
    )


NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
REGION_PATTERN = r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$"
ACCOUNT_ID_PATTERN = r"^[0-9]{12}$"
DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"
KMS_KEY_ARN_PATTERN = r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]{36}$"
PUBLIC_KEY_PEM_PATTERN = r"^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+-----END PUBLIC KEY-----\n?$"
"""A PEM SubjectPublicKeyInfo, as KMS GetPublicKey returns it (aws.kms.get_public_key `public_key_pem`)."""
_REPOSITORY = rf"[0-9]{{12}}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/{REPOSITORY_PREFIX}[a-z0-9-]+"
"""An ECR repository of worker images, in any region and partition (`.com.cn` in China)."""

Name = Annotated[str, Field(pattern=NAME_PATTERN)]
"""An environment's or a clanker's name: lowercase letters, digits and inner hyphens."""
Region = Annotated[str, Field(pattern=REGION_PATTERN)]
AccountId = Annotated[str, Field(pattern=ACCOUNT_ID_PATTERN)]
Digest = Annotated[str, Field(pattern=DIGEST_PATTERN)]
RepositoryName = Annotated[str, Field(pattern=rf"^{REPOSITORY_PREFIX}[a-z0-9-]+$")]
RepositoryUrl = Annotated[str, Field(pattern=rf"^{_REPOSITORY}$")]
PinnedImage = Annotated[str, Field(pattern=rf"^{_REPOSITORY}@sha256:[0-9a-f]{{64}}$")]
"""`<repositoryUrl>@sha256:…`: one digest, forever."""
RunnableImage = Annotated[str, Field(pattern=rf"^{_REPOSITORY}(@sha256:[0-9a-f]{{64}}|:[a-z0-9-]+-latest)$")]
"""What a clanker runs: a pinned digest, or its environment's floating tag `<repositoryUrl>:<env>-latest`."""
SbomTag = Annotated[str, Field(pattern=rf"^{_REPOSITORY}:sha256-[0-9a-f]{{64}}\.sbom$")]

Platform = Literal["linux/amd64", "linux/arm64"]
Architecture = Literal["x86_64", "arm64"]
ARCHITECTURE_OF_PLATFORM: dict[str, Architecture] = {"linux/amd64": "x86_64", "linux/arm64": "arm64"}
PLATFORM_OF_ARCHITECTURE: dict[str, Platform] = {"x86_64": "linux/amd64", "arm64": "linux/arm64"}


def _harness(name: str) -> str:
    if name not in HARNESS_NAMES:
        raise ValueError(f"not a harness: {name!r} (one of {', '.join(HARNESS_NAMES)})")
    return name


HarnessName = Annotated[str, AfterValidator(_harness), WithJsonSchema({"type": "string", "enum": list(HARNESS_NAMES)})]
"""A harness of the catalog (workers/catalog.py): the keys of `images`."""
