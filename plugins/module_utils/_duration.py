# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Durations as the collection writes them for tokens (`90d`, `12h`, `30m`, `2w`, `20s`): the one definition of their
units, for the devpi_token module and the token_plan_error filter."""

from __future__ import annotations

import re

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"\s*([0-9]+)\s*([smhdw])\s*")


def duration_seconds(text, what):
    """Seconds of a duration; ValueError naming `what` for anything else, or zero."""
    match = _DURATION.fullmatch(str(text))
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{what}={text!r} is not a duration such as 90d, 12h or 30m")
    return int(match.group(1)) * UNITS[match.group(2)]
