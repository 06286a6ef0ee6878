"""The floor for `bench/inspect.py`: read a sealed string from a file, `base64`-decode its payload part and
`json.loads` it. What `sealtui inspect --json -f FILE` must at least do, with the fewest parts.

Usage: python bench/_inspect_floor.py FILE
"""

from __future__ import annotations

import base64
import json
import sys

with open(sys.argv[1], encoding="utf-8") as f:
    text = f.read()
payload = text.strip().split(".")[2]
json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
