"""One module per command: each turns text and options into a result dataclass."""
