"""The config's vocabulary, one floor below the parser: the base model and field shapes (`fields`), what every
clanker sets (`clankers`), the stack's top-level models (`stack`) and its supply chain's blocks (`supply_chain`),
what the user is told (`issues`) and what a config rule sees (`parsed_stack`). The targets (components/targets/)
build their clanker models on it; the parser (components/config/) imports both. Nothing here imports a target or
the parser.
"""
