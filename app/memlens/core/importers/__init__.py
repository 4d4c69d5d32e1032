"""Readers that turn other formats into memory records, reporting what they could not read."""
