"""Drive paths in free text: what the baselines look for in objectives, hints and colleagues' replies."""

from __future__ import annotations

import re

#: a path on the trainee's drive (``/shared/...`` or ``/workspace/...``) mentioned in a text
DRIVE_PATH = re.compile(r"/(?:shared|workspace)/[\w./-]*\w")
