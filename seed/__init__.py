"""Synthetic bank extracts for development, tests and benchmarks.

Generates banks, people, companies, accounts, account roles and ownership
links, and writes them as the JSON Lines extracts a bank would upload. Nothing
here touches the registry: the files go through the same loading path as a
real bank's. Every value is derived from a seeded generator keyed by what it
describes, so the same plan always gives byte-identical files and a delta can
be regenerated against the full extract it amends.
"""
