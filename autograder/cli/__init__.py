"""The ``tfgrade`` command: its parsers, and one module per subcommand."""
