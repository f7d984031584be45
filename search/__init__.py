"""Elasticsearch side of the registry: plain data in, plain data out; no Flask, no ORM."""
