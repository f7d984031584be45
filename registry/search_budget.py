"""A batch of searches pays the rate limit per query, not per request.

The limiter (registry.limits) has already charged the request one unit on every limit that
applies to it (per user and per case, each window) before the view runs; that unit pays for
the first query. Each further query is charged here on exactly those limits, with the same
keys, so a batch of 40 costs what 40 single searches cost and shares their budget.
"""

from __future__ import annotations

import math
import time

from flask import current_app
from flask_limiter import Limiter, RequestLimit


class RequestBudget:
    """Grants one search at a time from the current request's rate limits."""

    def __init__(self, prepaid: int = 1) -> None:
        self.prepaid = prepaid
        self.exhausted: RequestLimit | None = None

    def __call__(self) -> bool:
        if self.prepaid > 0:
            self.prepaid -= 1
            return True
        limits = _limiter().current_limits
        # Test all before hitting any: a query refused by the case limit must not spend the
        # user's budget.
        for limit in limits:
            if not limit.limiter.test(limit.limit, *limit.request_args):
                self.exhausted = limit
                return False
        for limit in limits:
            # Another process may have spent the last unit since the test.
            if not limit.limiter.hit(limit.limit, *limit.request_args):
                self.exhausted = limit
                return False
        return True

    def retry_after(self) -> int:
        """Seconds until the limit that ran out grants a unit again."""
        if self.exhausted is None:
            return 1
        reset_at = self.exhausted.limiter.get_window_stats(
            self.exhausted.limit, *self.exhausted.request_args).reset_time
        return max(1, math.ceil(reset_at - time.time()))


def _limiter() -> Limiter:
    limiter = next(iter(current_app.extensions["limiter"]))
    assert isinstance(limiter, Limiter)
    return limiter
