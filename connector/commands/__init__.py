"""One module per ``featmesh`` subcommand (see ``connector.cli.COMMANDS``)."""
