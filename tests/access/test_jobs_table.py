"""access/jobs.toml, the table of who CI is, is read strictly: a row that misnames a key, lacks one, or holds a
value outside its column's type stops the access project (and every test and doc made from the table) with an
error naming the row and the key, never a job that trusts something else."""

from __future__ import annotations

from pathlib import Path

import pytest

from access.jobs import JOBS, JOBS_TABLE, MAIN, PULL_REQUEST_MERGE, Context, Role, parse_context, read_jobs

FIRST_ROW = JOBS_TABLE.read_text().split("[[job]]")[1]


def _with_first_row(tmp_path: Path, row: str) -> Path:
    table = tmp_path / "jobs.toml"
    table.write_text(JOBS_TABLE.read_text().replace(FIRST_ROW, row, 1))
    return table


def test_the_table_reads_as_jobs_with_their_roles_and_subject_contexts() -> None:
    assert JOBS and all(isinstance(job.role, Role) and isinstance(job.context, Context) for job in JOBS)
    assert read_jobs(JOBS_TABLE) == JOBS


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (('role = "read"', 'role = "admin"'), "role"),
        (('account = "dev"', 'account = "staging"'), "account"),
        (('context = "pull_request"', 'context = "environment"'), "context"),
        (('timeout_minutes = 30', 'timeout_minutes = "half an hour"'), "timeout_minutes"),
        (('pulumi_team = "viberator-read-dev"', 'pulumi-team = "viberator-read-dev"'), "pulumi-team"),
        (('steps = ', 'stepz = '), "stepz"),
        (('context = "pull_request"', 'context = "environment:*"'), "context"),
        (('context = "pull_request"', 'context = "environment: dev"'), "context"),
        (('context = "pull_request"', 'context = "ref:refs/heads/*"'), "context"),
        (('ref = "refs/pull/*/merge"', 'ref = "*"'), "ref"),
        (('ref = "refs/pull/*/merge"', 'ref = "refs/heads/feature"'), "ref"),
        (('workflow = "preview.yml"', 'workflow = "*"'), "workflow"),
        (('workflow = "preview.yml"', 'workflow = "no-such-workflow.yml"'), "workflow"),
        (('workflow = "preview.yml"', 'workflow = "../preview.yml"'), "workflow"),
        (('timeout_minutes = 30', 'timeout_minutes = true'), "timeout_minutes"),
        (('timeout_minutes = 30', 'timeout_minutes = -5'), "timeout_minutes"),
        (('timeout_minutes = 30', 'timeout_minutes = "30"'), "timeout_minutes"),
    ],
    ids=["unknown role", "unknown account", "context without its value", "timeout not a number", "misspelt key",
         "unknown key", "environment pattern", "environment with a space", "branch pattern", "ref pattern",
         "ref of a branch", "workflow pattern", "workflow not in the repository", "workflow outside the folder",
         "timeout a boolean", "timeout negative", "timeout text"],
)  # fmt: skip
def test_a_bad_row_is_an_error_naming_the_row_and_the_key(tmp_path: Path, edit: tuple[str, str], key: str) -> None:
    old, new = edit
    assert old in FIRST_ROW
    with pytest.raises(ValueError, match=rf"(?s)jobs\.toml: .*\n0\.{key}\b"):
        read_jobs(_with_first_row(tmp_path, FIRST_ROW.replace(old, new, 1)))


@pytest.mark.parametrize(
    "text", ["pull_request:1", "environment", "environment:", "ref", "branch:main", "", "ref:main", "environment:a b"]
)
def test_a_subject_context_is_one_of_its_three_forms(text: str) -> None:
    with pytest.raises(ValueError, match="is not a subject context"):
        parse_context(text)


def test_the_three_forms_read_back_as_written() -> None:
    for text in ("pull_request", "environment:prod", "ref:refs/heads/main"):
        assert str(parse_context(text)) == text


@pytest.mark.parametrize(
    "text", ['[[jobs]]\nworkflow = "preview.yml"\n', "[[job]\n", ""], ids=["no job rows", "not TOML", "empty"]
)
def test_a_table_that_is_not_one_names_the_file(tmp_path: Path, text: str) -> None:
    table = tmp_path / "jobs.toml"
    table.write_text(text)
    with pytest.raises(ValueError, match=r"^jobs\.toml: "):
        read_jobs(table)


def test_the_refs_a_row_may_name_are_main_and_a_pull_request_s_merge_ref() -> None:
    assert {job.ref for job in JOBS} == {MAIN, PULL_REQUEST_MERGE}
