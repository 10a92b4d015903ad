"""The fault and bad-input matrix: whole cycles against a local org, compared."""
