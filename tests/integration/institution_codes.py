"""Codes `registry institutions add` accepts: a BIC or an LEI with its check digits."""

from __future__ import annotations

import random
import string

from stdnum.iso7064 import mod_97_10


def new_bic(prefix: str = "") -> str:
    """A well-formed BIC (bank code, country DE, location, branch), unique enough for a test
    run; up to two letters of `prefix` start the bank code, to tell the tests' banks apart."""
    bank = (prefix[:2] + "".join(random.choices(string.ascii_uppercase, k=4)))[:4]
    location = random.choice(string.ascii_uppercase) + random.choice(string.digits[1:])
    branch = "".join(random.choices(string.ascii_uppercase + string.digits, k=3))
    return f"{bank}DE{location}{branch}"


def new_lei() -> str:
    base = "5299" + "".join(random.choices(string.ascii_uppercase + string.digits, k=14))
    return base + mod_97_10.calc_check_digits(base)
