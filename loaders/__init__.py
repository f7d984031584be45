"""Bank extracts: formats, validation, staging and applying. Never imports Flask."""
