"""The rules that span keys, one small named function each, over the parsed stack: `RULES` lists them and the
parser (components/config/parsing.py) walks them.

Rules see the top-level settings and the clankers that are valid on their own, so one run reports every mistake
in the file. Their order is the order issues are reported in (stack-level first, then each clanker's in list
order: the parser sorts by clanker, stably). A new rule is a function in the module of its subject plus a line
here; it makes each issue with `parsed.issue(key, message)`, which names the key and shows its value as the stack
file has it.
"""

from __future__ import annotations

from components.config.rules import (
    agent_keys,
    harnesses,
    identities,
    per_clanker,
    replicas,
    repositories,
    review,
    role_secrets,
    secret_keys,
    signing,
)
from components.config_model.parsed_stack import ParsedStack, Rule

RULES: tuple[Rule, ...] = (
    harnesses.harnesses_are_known,
    harnesses.harnesses_are_listed_once,
    harnesses.built_harnesses_have_a_dockerfile_stage,
    harnesses.harness_platforms_are_of_built_harnesses,
    harnesses.taken_harnesses_are_known,
    harnesses.approved_digests_are_of_taken_harnesses,
    harnesses.image_revision_tag_is_immutable,
    repositories.force_delete_only_unprotected,
    repositories.serving_stack_stays_protected,
    repositories.protected_ecs_runs_in_a_private_network,
    repositories.only_the_owner_pushes_latest,
    repositories.only_the_owner_sets_repository_settings,
    repositories.cloud_settings_need_cloud_clankers,
    repositories.only_the_owner_shares_environments,
    per_clanker.clanker_names_are_unique,
    per_clanker.clanker_names_fit_physical_names,
    per_clanker.clanker_agents_have_an_image,
    per_clanker.built_images_run_on_their_clankers,
    repositories.promoting_stack_sets_no_build_setting,
    repositories.build_cache_writer_is_of_the_stack_account,
    repositories.network_only_with_ecs,
    repositories.shared_environments_are_others_once,
    per_clanker.variables_are_set_once,
    per_clanker.each_target_s_own_rules,
    per_clanker.secrets_are_in_the_stack_partition,
    identities.consumers_are_other_accounts,
    identities.secrets_are_in_the_clankers_account,
    identities.secret_accounts_share_secrets,
    agent_keys.clankers_hold_their_agent_s_key,
    role_secrets.agents_read_only_their_secrets,
    secret_keys.secret_keys_name_read_secrets_and_their_keys,
    replicas.only_the_owner_replicates,
    replicas.replicas_are_other_registries_of_the_partition,
    review.review_names_are_reserved,
    review.review_stack_is_named_after_its_pull_request,
    review.review_stack_is_unprotected,
    review.review_images_serve_no_one_else,
    review.review_repositories_die_with_it,
    signing.signing_only_where_a_key_is_created,
    signing.signing_roles_are_of_the_stack_account,
    signing.signing_roles_are_separate,
    signing.production_pins_the_image_stack_key,
)

__all__ = ["RULES", "ParsedStack", "Rule"]
