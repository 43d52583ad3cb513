"""Signals other parts listen to; sent by :mod:`segments.services.lifecycle`."""

from django.dispatch import Signal

# Sent after the transaction that changed which run is active has committed (a run finished
# and was activated, promoted or rolled back to). Caches of the active run listen to it.
active_run_changed = Signal()
