"""Who may read what: the one list the pages, the API and grant_reader all read.

Reading asks the Django view permission of what is shown, as the admin does; members' own
data (profile, ratings, segment, list, a segment's member list) asks ``catalog.view_member``.
Writes ask a staff account holding the admin's permission for the same change.
"""

from __future__ import annotations

MEMBER_DATA = ("catalog.view_member",)
SEGMENTS = ("segments.view_segment",)
SEGMENT_MEMBERS = SEGMENTS + MEMBER_DATA
RUNS = ("segments.view_segmentationrun",)
ITEMS = ("catalog.view_item",)

START_RUN = ("segments.add_segmentationrun",)
ADD_MEMBER = ("catalog.add_member",)
PLACE_MEMBER = ("catalog.change_member",)

READERS_GROUP = "readers"
READER_PERMISSIONS = tuple(dict.fromkeys(MEMBER_DATA + SEGMENTS + RUNS + ITEMS))
