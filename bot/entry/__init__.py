"""One module per `arborist` subcommand: `add_arguments(parser)` and `run(args) -> int`."""
