"""The Pulumi side of viberator-workers: config models, components, program wiring and the stack outputs (built from
the contract's models, which live in viberator_contract)."""
