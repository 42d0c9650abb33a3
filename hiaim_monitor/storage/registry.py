"""The participant registry: who is in the study (by pseudonymous study code), the HRmax
used for their targets and how it was found, and the strap each one wears by default (the
straps themselves, under every id they are heard by, are in ``strap_registry``).

Every write checks everything first and then commits once, so a refused command changes
nothing. What a user can get wrong raises ``RegistryError`` with one sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.orm import Session

from hiaim_monitor.hrmax import HRMAX_MAX_BPM, HRMAX_MIN_BPM, HRMax, HRMaxMethod, estimate_hrmax
from hiaim_monitor.i18n import tr
from hiaim_monitor.storage import straps
from hiaim_monitor.storage.database import Database, storage_errors
from hiaim_monitor.storage.schema import (
    ParticipantRow,
    SessionParticipantRow,
    Sex,
    StrapAssignmentRow,
    StrapRow,
)

SEX_CODES: Final = {"f": Sex.FEMALE, "m": Sex.MALE, "x": Sex.OTHER}
AGE_METHODS: Final = (HRMaxMethod.TANAKA, HRMaxMethod.AGE_220, HRMaxMethod.GELLISH)
BIRTH_YEAR_MIN: Final = 1900
RESTING_BPM_RANGE: Final = (25.0, 150.0)  # outside: a typo, not a resting heart rate
NAME_MAX_CHARS: Final = 100  # participants.display_name
# Study codes end up in export file names: keep them to characters every file system takes.
CODE_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class RegistryError(Exception):
    """A registry command was refused; the message is one sentence for the user."""


@dataclass(frozen=True, slots=True)
class ParticipantInfo:
    study_code: str
    display_name: str
    birth_year: int | None
    sex: Sex | None
    hrmax_bpm: float | None
    hrmax_method: HRMaxMethod | None
    hrmax_date: date | None
    resting_bpm: float | None
    beta_blocker: bool
    notes: str
    strap_key: str | None  # default strap
    sessions: int  # sessions taken part in
    simulated: bool = False  # a simulation's virtual participant, never in a real class
    archived: bool = False  # off the roster; the recorded sessions stay
    strap_ids: tuple[str, ...] = ()  # every id of the default strap, strap_key first


_UNSET: Any = object()  # "leave as it is" for edit_participant


def add_participant(db: Database, study_code: str, name: str, *, birth_year: int | None = None,
                    sex: str | None = None, hrmax_bpm: float | None = None,
                    hrmax_method: str | None = None, resting_bpm: float | None = None,
                    beta_blocker: bool = False, notes: str = "", simulated: bool = False,
                    today: date | None = None) -> ParticipantInfo:
    """Register a participant. HRmax is either measured (``hrmax_bpm``) or estimated from
    the birth year by ``hrmax_method`` (tanaka, 220-age, gellish); the method is stored.
    Study codes are unique whatever their case: HIAIM-001 and hiaim-001 are one person.
    ``simulated``: a simulation's virtual participant, kept out of every real class."""
    today = today or datetime.now(UTC).date()
    study_code = _valid_code(study_code)
    with storage_errors(db), db.writing() as s, s.begin():
        same = _find(s, study_code)
        if same is not None and same.archived:
            raise RegistryError(tr("Study code {code} belongs to an archived participant; "
                                   "'participants unarchive {code}' puts them back on the "
                                   "roster.").format(code=same.study_code))
        if same is not None:
            raise RegistryError(tr("Study code {code} is already registered; choose another "
                                   "code, or edit that participant.")
                                .format(code=same.study_code))
        row = ParticipantRow(study_code=study_code, display_name="", beta_blocker=False, notes="",
                             created_utc=datetime.now(UTC), simulated=simulated,
                             archived=False)
        _apply(row, today, name=name, birth_year=birth_year, sex=sex, hrmax_bpm=hrmax_bpm,
               hrmax_method=hrmax_method, resting_bpm=resting_bpm,
               beta_blocker=beta_blocker, notes=notes)
        s.add(row)
        _flush_unique(s, study_code)
        return _info(s, row)


def edit_participant(db: Database, study_code: str, *, new_code: str | None = None,
                     name: str | None = None, birth_year: int | None = None,
                     sex: str | None = None, hrmax_bpm: float | None = None,
                     hrmax_method: str | None = None, resting_bpm: float | None = None,
                     beta_blocker: bool | None = None, notes: str | None = None,
                     today: date | None = None) -> ParticipantInfo:
    """Change what is given (None: leave it). A new birth year re-estimates an HRmax that
    was estimated from age, by the same method; a measured HRmax stays."""
    today = today or datetime.now(UTC).date()
    given = {k: v for k, v in {
        "name": name, "birth_year": birth_year, "sex": sex, "hrmax_bpm": hrmax_bpm,
        "hrmax_method": hrmax_method, "resting_bpm": resting_bpm,
        "beta_blocker": beta_blocker, "notes": notes}.items() if v is not None}
    if new_code is None and not given:
        raise RegistryError(tr("Nothing to change for {code}; give at least one thing to "
                               "change, e.g. the name or the HRmax.").format(code=study_code))
    with storage_errors(db), db.writing() as s, s.begin():
        row = find_participant_row(s, study_code)
        if new_code is not None and new_code != row.study_code:
            new_code = _valid_code(new_code)
            same = _find(s, new_code)
            if same is not None and same.id != row.id:  # a change of case is no clash
                raise RegistryError(tr("Study code {code} is already registered; choose "
                                       "another code.").format(code=new_code))
            row.study_code = new_code
        _apply(row, today, **given)
        _flush_unique(s, row.study_code)
        return _info(s, row)


def remove_participant(db: Database, study_code: str) -> None:
    """Remove a participant who never took part in a session (with their strap assignment).
    One with recorded sessions stays: the recordings refer to them."""
    with storage_errors(db), db.writing() as s, s.begin():
        row = find_participant_row(s, study_code)
        sessions = _session_count(s, row.id)
        if sessions:
            text = (tr("{code} took part in 1 session and cannot be removed, because the "
                       "recorded data refer to them; edit them instead.") if sessions == 1
                    else tr("{code} took part in {n} sessions and cannot be removed, because "
                            "the recorded data refer to them; edit them instead."))
            raise RegistryError(text.format(code=row.study_code, n=sessions))
        s.execute(sa.delete(StrapAssignmentRow)
                  .where(StrapAssignmentRow.participant_id == row.id))
        s.delete(row)


def list_participants(db: Database, *, include_simulated: bool = True,
                      include_archived: bool = True) -> list[ParticipantInfo]:
    """The registered participants, by study code: every one, or without the simulated
    and the archived ones (what a real class's roster offers)."""
    query = sa.select(ParticipantRow).order_by(sa.func.lower(ParticipantRow.study_code))
    if not include_simulated:
        query = query.where(ParticipantRow.simulated.is_(False))
    if not include_archived:
        query = query.where(ParticipantRow.archived.is_(False))
    with storage_errors(db), db.session() as s:
        return [_info(s, row) for row in s.scalars(query).all()]


def archive_participant(db: Database, study_code: str, *, archived: bool = True) -> ParticipantInfo:
    """Take a participant off the roster and out of real classes (``archived``), or put
    them back. Their recorded sessions and default strap stay as they are."""
    with storage_errors(db), db.writing() as s, s.begin():
        row = find_participant_row(s, study_code)
        if row.archived == archived:
            text = (tr("{code} is archived already.") if archived
                    else tr("{code} is not archived."))
            raise RegistryError(text.format(code=row.study_code))
        row.archived = archived
        return _info(s, row)


# -- checks and helpers --------------------------------------------------------------------

def _valid_code(study_code: str) -> str:
    study_code = study_code.strip()
    if not CODE_RE.fullmatch(study_code):
        raise RegistryError(tr("Study code {code} is not valid; use 1–64 letters, digits, '.', "
                               "'-' or '_', starting with a letter or digit.")
                            .format(code=repr(study_code)))
    return study_code


def _apply(row: ParticipantRow, today: date, **given: Any) -> None:
    """Check every given field against the row's other fields, then set them all."""
    name = given.get("name", _UNSET)
    if name is not _UNSET:
        name = name.strip()
        if not name:
            raise RegistryError(tr("The display name is empty; give one (it is what the wall "
                                   "screen shows)."))
        if len(name) > NAME_MAX_CHARS:
            raise RegistryError(tr("The display name is longer than {n} characters; shorten "
                                   "it.").format(n=NAME_MAX_CHARS))
    birth_year = given.get("birth_year", _UNSET)
    if birth_year is not _UNSET and birth_year is not None:
        if birth_year > today.year:
            raise RegistryError(tr("Birth year {year} is in the future; check the year.")
                                .format(year=birth_year))
        if birth_year < BIRTH_YEAR_MIN:
            raise RegistryError(tr("Birth year {year} is before {first}; check the year.")
                                .format(year=birth_year, first=BIRTH_YEAR_MIN))
    sex = given.get("sex", _UNSET)
    if sex is not _UNSET and sex is not None:
        if str(sex).lower() not in SEX_CODES:
            raise RegistryError(tr("Sex {sex} is not one of f, m, x.").format(sex=repr(sex)))
        sex = SEX_CODES[str(sex).lower()]
    year = row.birth_year if birth_year is _UNSET or birth_year is None else birth_year
    hrmax = _hrmax(row, today, year, given.get("hrmax_bpm"), given.get("hrmax_method"),
                   year_changed=birth_year is not _UNSET and birth_year is not None)
    resting = given.get("resting_bpm", _UNSET)
    resting_now = row.resting_bpm if resting is _UNSET or resting is None else resting
    if resting_now is not None:
        low, high = RESTING_BPM_RANGE
        if not low <= resting_now <= high:
            raise RegistryError(tr("Resting heart rate {bpm} bpm is outside {low}–{high} bpm; "
                                   "check the value.").format(bpm=f"{resting_now:g}",
                                                              low=f"{low:g}",
                                                              high=f"{high:g}"))
        hrmax_now = hrmax.bpm if hrmax is not None else row.hrmax_bpm
        if hrmax_now is not None and resting_now >= hrmax_now:
            raise RegistryError(tr("Resting heart rate {bpm} bpm is not below HRmax {hrmax} "
                                   "bpm; check both values.").format(bpm=f"{resting_now:g}",
                                                                     hrmax=f"{hrmax_now:g}"))
    # Everything checked: now change the row.
    if name is not _UNSET:
        row.display_name = name
    if birth_year is not _UNSET and birth_year is not None:
        row.birth_year = birth_year
    if sex is not _UNSET and sex is not None:
        row.sex = sex
    if hrmax is not None:
        row.hrmax_bpm, row.hrmax_method, row.hrmax_date = hrmax.bpm, hrmax.method, today
    if resting is not _UNSET and resting is not None:
        row.resting_bpm = float(resting)
    if given.get("beta_blocker") is not None:
        row.beta_blocker = bool(given["beta_blocker"])
    if given.get("notes") is not None:
        row.notes = given["notes"]


def _hrmax(row: ParticipantRow, today: date, birth_year: int | None, bpm: float | None,
           method: str | None, *, year_changed: bool) -> HRMax | None:
    """The HRmax to store, or None to leave it as it is."""
    if bpm is not None and method is not None:
        raise RegistryError(tr("Give either a measured HRmax or a method that estimates it "
                               "from age, not both."))
    if bpm is not None:
        if not HRMAX_MIN_BPM <= bpm <= HRMAX_MAX_BPM:
            raise RegistryError(tr("HRmax {bpm} bpm is outside {low}–{high} bpm; check the "
                                   "value.").format(bpm=f"{bpm:g}", low=HRMAX_MIN_BPM,
                                                    high=HRMAX_MAX_BPM))
        return HRMax(float(bpm), HRMaxMethod.MEASURED)
    if method is None:
        if not (year_changed and row.hrmax_method in AGE_METHODS):
            return None
        method = row.hrmax_method  # a new birth year: the same formula, the new age
    try:
        chosen = HRMaxMethod(method)
    except ValueError:
        chosen = None
    if chosen not in AGE_METHODS:
        raise RegistryError(tr("HRmax method {method} is not one of {methods}.").format(
            method=repr(method), methods=", ".join(m.value for m in AGE_METHODS)))
    if birth_year is None:
        raise RegistryError(tr("HRmax by {method} is estimated from age, and no birth year "
                               "is known; give the birth year too.").format(method=chosen))
    # Only the year of birth is known: the age may be a year high, HRmax ≤ 1 bpm off.
    age_years = today.year - birth_year
    try:
        return estimate_hrmax(age_years, chosen)
    except ValueError as error:
        raise RegistryError(tr("Cannot estimate HRmax: {reason}; check the birth year.")
                            .format(reason=error)) from None


def _find(s: Session, study_code: str) -> ParticipantRow | None:
    """The participant with ``code`` in any case (codes are typed by hand: hiaim-001 is
    HIAIM-001). A database from before codes were compared so may hold both: then the
    exact match."""
    rows = s.scalars(sa.select(ParticipantRow).where(
        sa.func.lower(ParticipantRow.study_code) == study_code.strip().lower())).all()
    if len(rows) > 1:
        rows = [r for r in rows if r.study_code == study_code.strip()] or rows[:1]
    return rows[0] if rows else None


def find_participant_row(s: Session, study_code: str) -> ParticipantRow:
    """The participant ``study_code`` names (in any case); RegistryError when none."""
    row = _find(s, study_code)
    if row is None:
        raise RegistryError(tr("There is no participant with study code {code}; the "
                               "participant list shows the registered codes.")
                            .format(code=repr(study_code.strip())))
    return row


def _flush_unique(s: Session, study_code: str) -> None:
    """Flush, turning a code registered meanwhile by another user into the usual sentence."""
    try:
        s.flush()
    except exc.IntegrityError:
        raise RegistryError(tr("Study code {code} is already registered; choose another "
                               "code.").format(code=study_code)) from None


def _session_count(s: Session, participant_id: int) -> int:
    return s.scalar(sa.select(sa.func.count()).select_from(SessionParticipantRow)
                    .where(SessionParticipantRow.participant_id == participant_id)) or 0


def _info(s: Session, row: ParticipantRow) -> ParticipantInfo:
    strap = s.scalar(sa.select(StrapRow)
                     .join(StrapAssignmentRow, StrapAssignmentRow.strap_id == StrapRow.id)
                     .where(StrapAssignmentRow.participant_id == row.id))
    return ParticipantInfo(
        row.study_code, row.display_name, row.birth_year, row.sex, row.hrmax_bpm,
        row.hrmax_method, row.hrmax_date, row.resting_bpm, row.beta_blocker, row.notes or "",
        strap.strap_key if strap is not None else None, _session_count(s, row.id),
        bool(row.simulated), bool(row.archived),
        straps.ids_of(s, [strap])[strap.id] if strap is not None else ())
