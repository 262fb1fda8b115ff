"""The repository convention: discovery, YAML with positions, schemas, validation."""
