"""One module per `lab` subcommand: `add_arguments(parser)` and `run(args) -> int`."""
