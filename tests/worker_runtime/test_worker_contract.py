"""The job and result documents against their JSON Schemas, and the contract version the image publishes."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import jsonschema
import pytest
from runtime_jobs import job_document
from viberator_worker import JOB_CONTRACT_VERSION
from viberator_worker.contract import InvalidJob, parse_job, result_document, schema

from workers.catalog import ALL_AGENTS, DOCKERFILE


@pytest.mark.parametrize("name", ["job", "result"])
def test_schemas_are_valid_draft_2020_12(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(schema(name))


def test_job_schema_agents_are_the_catalog_agents() -> None:
    assert set(schema("job")["properties"]["agent"]["enum"]) == set(ALL_AGENTS)


def test_minimal_job_gets_the_documented_defaults() -> None:
    job = parse_job(job_document("say hi"))
    assert (job.id, job.agent, job.prompt) == ("job-1", "claude", "say hi")
    assert job.timeout_seconds == schema("job")["properties"]["timeout_seconds"]["default"]
    assert (job.model, job.env, job.extra_args) == (None, {}, ())


def test_full_job_round_trips() -> None:
    env = {"JOB_TICKET": "T-1", "GIT_AUTHOR_NAME": "a", "GIT_COMMITTER_EMAIL": "c@example.com", "TZ": "UTC"}
    job = parse_job(job_document("p", model="m", timeout_seconds=5, env=env, extra_args=["--x=1"]))
    assert (job.model, job.timeout_seconds, job.env, job.extra_args) == ("m", 5, env, ("--x=1",))


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{not json", "job is not JSON"),
        ('["a list"]', "(document): ['a list'] is not of type 'object'"),
        ({"contract": JOB_CONTRACT_VERSION, "id": "j", "agent": "claude"}, "'prompt' is a required property"),
        (job_document("p", agent="cursor"), "agent: 'cursor' is not one of"),
        (job_document("p", contract=JOB_CONTRACT_VERSION + 1), f"contract: {JOB_CONTRACT_VERSION} was expected"),
        # Contract 1 took a workdir and any env (docs/contract.md): a job of it is refused as a whole.
        (job_document("p", contract=1), f"contract: {JOB_CONTRACT_VERSION} was expected"),
        (job_document(""), "prompt: '' should be non-empty"),
        (job_document("p", id="../etc"), "id: '../etc' does not match"),
        (job_document("p", timeout_seconds=0), "timeout_seconds: 0 is less than the minimum of 1"),
        # The worker makes a fresh workdir for every job: a job cannot point the agent at another place.
        (job_document("p", workdir="/tmp"), "('workdir' was unexpected)"),
        # The job's env is data, never configuration of the agent, the runtime or the loader.
        *(
            (job_document("p", env={name: "x"}), f"env: '{name}' does not match")
            for name in (
                "ANTHROPIC_BASE_URL",
                "OPENAI_BASE_URL",
                "LD_PRELOAD",
                "NODE_OPTIONS",
                "HTTPS_PROXY",
                "PATH",
                "HOME",
                "AWS_SECRET_ACCESS_KEY",
                "VIBERATOR_JOB",
                "job_lowercase",
            )
        ),
        (
            job_document("p", surprise=True),
            "Additional properties are not allowed ('surprise' was unexpected)",
        ),
    ],
)
def test_invalid_jobs_name_the_offending_field(document: object, message: str) -> None:
    raw = document if isinstance(document, str) else json.dumps(document)
    with pytest.raises(InvalidJob) as caught:
        parse_job(raw)
    assert message in str(caught.value)


def test_result_document_matches_its_schema_and_measures_duration() -> None:
    started = datetime(2026, 1, 1, tzinfo=UTC)
    result = result_document(
        job_id="j",
        agent="codex",
        status="timed_out",
        exit_code=-15,
        started_at=started,
        finished_at=started + timedelta(seconds=2.5),
        output_tail="tail",
        error="agent exceeded timeout of 2 s",
    )
    assert result["duration_seconds"] == 2.5
    assert result["contract"] == JOB_CONTRACT_VERSION
    jsonschema.validate(result, schema("result"))


def test_a_result_that_breaks_the_schema_is_a_runtime_bug() -> None:
    now = datetime.now(UTC)
    with pytest.raises(AssertionError, match="status"):
        result_document(job_id="j", agent="claude", status="exploded", exit_code=1, started_at=now, finished_at=now)  # type: ignore[arg-type]


def test_dockerfile_publishes_the_runtime_contract_version() -> None:
    match = re.search(r"^ARG JOB_CONTRACT=(\d+)$", DOCKERFILE.read_text(), re.MULTILINE)
    assert match is not None
    assert int(match.group(1)) == JOB_CONTRACT_VERSION
