"""Settings of the list-API bench's server: production's, plus a bare one-query view's URL.

Only bench/api_bench.py selects this module (DJANGO_SETTINGS_MODULE); production URLs never
hold the bare view.
"""

from segrec_site.settings import *  # noqa: F403

ROOT_URLCONF = "api_bench_urls"
