"""The viberator guardrails as a Pulumi policy pack (`pulumi preview --policy-pack policy`).

`rules` holds the checks, `pack` adapts them to pulumi_policy, and `__main__` serves the pack. Only
`__main__` creates the PolicyPack: creating it starts the analyzer server.
"""
