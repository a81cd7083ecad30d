"""viberator-workers: worker images per harness and the clankers that run them (see README.md)."""

import pulumi

from components.config import load_stack_config
from components.program import deploy

config = load_stack_config()  # raises before anything is registered when the stack config is invalid
pulumi.run(lambda: deploy(config))
