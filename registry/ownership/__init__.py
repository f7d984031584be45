"""Beneficial ownership: effective shares along chains of reported interests, control beside
them, the accounts behind them, and BODS 0.4 exports (docs/ownership.md).

`interests` and `graph` are pure (no database, no Flask); `loader` reads the graph from
Postgres; `service` answers an investigator's questions under a case, audited.
"""
