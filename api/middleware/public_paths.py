"""Which paths are public: what anyone may fetch, without credentials.

Only these are rate limited per address (api/middleware/rate_limit.py) and cached
(api/middleware/caching.py): the department API is limited by its own credentials and never cached.
In flight they count against the public budgets, never the department's (api/middleware/overload.py).
"""

PUBLIC_PREFIXES = ("/v1/public/", "/organizations/", "/lists/", "/static/", "/reports/", "/verify/", "/complaints/",
                   "/inspections/")
PUBLIC_EXACT = ("/", "/tickets", "/verify", "/complaints", "/inspections", "/statistics")


def is_public(path: str) -> bool:
    return path in PUBLIC_EXACT or path.startswith(PUBLIC_PREFIXES)
