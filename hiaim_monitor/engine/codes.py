"""Small integer codes the engine stores in its numpy ring buffers, shared by every part of
the engine (classification, artifacts, intervals, adherence)."""

from __future__ import annotations

from enum import IntEnum, IntFlag
from typing import Final


class Level(IntEnum):
    """Intensity class of one sample, ordered so that ``>=`` compares intensity."""

    UNKNOWN = -1  # not trusted (artifact, no contact) or not yet classified
    BELOW = 0
    INTERMEDIATE = 1
    HIGH = 2
    ABOVE_CEILING = 3  # over the safety ceiling; counts as high intensity too


class SampleFlag(IntFlag):
    """What is wrong with a heart-rate sample. Kept with the data, never dropped. Any flag in
    UNTRUSTED keeps the sample out of classification; MALFORMED only records that the
    notification carried a byte that did not decode (its heart rate decoded fine); BROADCAST
    that the source carries no RR at all (no beats are stored for such a sample)."""

    NONE = 0
    IMPLAUSIBLE = 1  # bpm outside PLAUSIBLE_BPM
    UNCONFIRMED_JUMP = 2  # a jump the following samples did not (yet) confirm
    NO_CONTACT = 4  # the strap reported no skin contact
    MALFORMED = 8  # the notification had bytes that did not decode
    BROADCAST = 16  # heard in an advertisement (Polar broadcast): heart rate only, no RR


UNTRUSTED: Final = SampleFlag.IMPLAUSIBLE | SampleFlag.UNCONFIRMED_JUMP | SampleFlag.NO_CONTACT


class BeatFlag(IntFlag):
    """Why an RR interval (the time from the previous beat to this one) is suspect, by type.

    A flag sits on the RR it is about: MISSED on the interval that spans a beat the strap
    did not detect (about n times the local RR), EXTRA on the short interval a spurious
    detection cut off (it and the next one add up to about one RR), ECTOPIC on the
    premature interval and on its compensatory pause, LONG / SHORT on an interval too long /
    too short for its neighbours that is none of those. SUCCESSIVE_DIFF is what sessions
    recorded before typed detection carry (the 20 % rule): suspect, type unknown."""

    NONE = 0
    OUT_OF_RANGE = 1  # RR outside PLAUSIBLE_RR_MS
    SUCCESSIVE_DIFF = 2  # untyped: the 20 % rule of recordings made before typed flags
    ECTOPIC = 4  # premature beat or its compensatory pause
    MISSED = 8  # spans one or more undetected beats
    EXTRA = 16  # cut short by a spurious detection
    LONG = 32  # too long for its neighbours, not a whole multiple of them
    SHORT = 64  # too short for its neighbours, not an extra detection


PLAUSIBLE_BPM: Final = (30.0, 240.0)
PLAUSIBLE_RR_MS: Final = (250.0, 2000.0)  # 240 and 30 bpm

# The familiar 5-zone band in % HRmax: zone k covers [ZONE_EDGES_PCT[k-1], ZONE_EDGES_PCT[k]).
# Below 50 % is zone 0; 100 % and above stays zone 5.
ZONE_EDGES_PCT: Final = (50.0, 60.0, 70.0, 80.0, 90.0)
