"""The Pulumi side of viberator-workers: config models, components, program wiring and the outputs contract."""
