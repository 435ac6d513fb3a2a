"""Data package: the bundled networks (see README.md in this folder)."""
