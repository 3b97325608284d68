"""Wire schemas shared by the hub, the console and the field device.

Pure pydantic: no logic beyond validation. `docs/protocol.md` is the human-readable contract;
this package is the machine-readable one (and the hub's `/openapi.json` is generated from it).
"""

from protocol.schemas import *  # noqa: F403
