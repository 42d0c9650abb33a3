"""Setting up today's class before the start: who came, which strap each one wears, their
HRmax for the day and the protocol. The control window shows and edits this model; the
composition root turns its ``plan()`` into a live session.

It also follows the straps nearby (sightings, connection state, live heart rate) from the
same events the session will consume, so the operator can tell straps apart by watching
whose number jumps. Owned by the consumer (Qt) thread, like the live session.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Final

from hiaim_monitor import config
from hiaim_monitor.hrmax import HRMAX_MAX_BPM, HRMAX_MIN_BPM, HRMax, HRMaxMethod, hrmax_today
from hiaim_monitor.i18n import tr
from hiaim_monitor.participants import Participant
from hiaim_monitor.programme.model import Attendance, MissedReason
from hiaim_monitor.protocols import TrainingProtocol
from hiaim_monitor.samples import (
    BatteryReading,
    HeartRateSample,
    RadioNotice,
    SensorContact,
    SourceEvent,
    StrapSighting,
    StrapState,
    StrapStatus,
)
from hiaim_monitor.storage.database import Database, StorageError
from hiaim_monitor.storage.programmes import (
    PlannedSessionInfo,
    list_enrolments,
    list_planned_sessions,
    record_attendance,
)
from hiaim_monitor.storage.registry import ParticipantInfo, RegistryError
from hiaim_monitor.strap_notes import StrapNote

MISSING_STRAP_HINT: Final = (
    "Strap {strap} is not found — is it worn (a dry strap sleeps), and not held by a "
    "phone? (a Polar H10 allows a second connection only when enabled in Polar's app)")
NEVER_HEARD: Final = float("-inf")  # seen_mono_s of a strap only known from our own status


class SetupError(Exception):
    """The class cannot start yet; the message says what is missing, in one sentence."""


@dataclass(frozen=True, slots=True)
class NearbyStrap:
    strap_id: str
    name: str
    rssi_dbm: int | None  # latest signal strength
    seen_mono_s: float  # last heard (sighting or data)
    state: StrapState | None  # connection state once watched; None: only heard advertising
    detail: str  # the driver's last sentence about it, in English
    bpm: int | None  # latest heart rate, None when not streaming or without contact
    bpm_mono_s: float | None
    battery_pct: int | None
    note: StrapNote | None = None  # why it is in its state: ``shown_detail`` translates it


@dataclass(frozen=True, slots=True)
class RosterEntry:
    info: ParticipantInfo  # as registered
    attending: bool
    strap_id: str | None  # today's strap; pre-filled with the remembered one
    hrmax: HRMax | None  # for today; None when neither measured nor a birth year is known
    hrmax_edited: bool  # the operator changed it for today
    # The same strap heard on other radios (a dual-mode strap's ANT+ number beside its
    # Bluetooth address): watched too, and one participant's data.
    also_strap_ids: tuple[str, ...] = ()

    @property
    def study_code(self) -> str:
        return self.info.study_code

    @property
    def strap_ids(self) -> tuple[str, ...]:
        """Every id today's strap is heard by, ``strap_id`` first; () without a strap."""
        return () if self.strap_id is None else (self.strap_id, *self.also_strap_ids)


@dataclass(frozen=True, slots=True)
class SessionPlan:
    protocol: TrainingProtocol
    participants: tuple[Participant, ...]  # attending, in roster order
    remembered: dict[str, str]  # study code → strap id: today's assignments to remember


@dataclass(frozen=True, slots=True)
class ProgrammeDay:
    """The programme today's class belongs to: each enrolled participant's session due
    today (None: none left, e.g. withdrawn or the plan is over)."""

    name: str
    due: dict[str, PlannedSessionInfo | None]  # study code → the planned session due
    withdrawn: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class AttendanceMark:
    """What the start of a class records for one enrolled participant."""

    study_code: str
    week: int
    number: int
    attended: bool  # False: missed, reason unknown until the operator fills it in


def due_session(planned: Sequence[PlannedSessionInfo],
                today: date) -> PlannedSessionInfo | None:
    """The planned session a class today counts as: today's, else the first one after
    today whose attendance is not recorded yet (a class moved by a day still counts)."""
    for p in sorted(planned, key=lambda p: (p.planned_on, p.week, p.number)):
        if p.planned_on == today or (p.planned_on > today and p.attendance is None):
            return p
    return None


def load_programme_day(db: Database, programme: str, today: date) -> ProgrammeDay:
    """Who is enrolled in ``programme`` and the session each is due today (StorageError,
    or a RegistryError naming what is wrong)."""
    enrolments = list_enrolments(db, programme)
    by_code: dict[str, list[PlannedSessionInfo]] = {}
    for p in list_planned_sessions(db, programme):
        by_code.setdefault(p.study_code, []).append(p)
    withdrawn = frozenset(e.study_code for e in enrolments
                          if e.withdrawn_on is not None and e.withdrawn_on <= today)
    due = {e.study_code: (None if e.study_code in withdrawn
                          else due_session(by_code.get(e.study_code, []), today))
           for e in enrolments}
    name = enrolments[0].programme if enrolments else programme
    return ProgrammeDay(name, due, withdrawn)


def record_class_attendance(db: Database, programme: str, marks: Sequence[AttendanceMark],
                            session_id: int) -> list[str]:
    """Store the attendance of a class that started as recorded session ``session_id``:
    attended (linked to it) or missed with the reason unknown. Each mark is stored on its
    own, so one refusal loses none of the others; returns one sentence per refusal."""
    problems = []
    for m in marks:
        try:
            if m.attended:
                record_attendance(db, programme, m.study_code, m.week, m.number,
                                  Attendance.ATTENDED, session_id=session_id)
            else:
                record_attendance(db, programme, m.study_code, m.week, m.number,
                                  Attendance.MISSED, reason=MissedReason.UNKNOWN)
        except (StorageError, RegistryError) as err:
            problems.append(f"{m.study_code}: {err}")
    return problems


def hrmax_of(info: ParticipantInfo, today: date) -> HRMax | None:
    """Today's HRmax of a registered participant, by the one rule (``hrmax.hrmax_today``)."""
    return hrmax_today(hrmax_bpm=info.hrmax_bpm, method=info.hrmax_method,
                       birth_year=info.birth_year, today=today)


class ClassSetup:
    def __init__(self, roster: Sequence[ParticipantInfo], protocol: TrainingProtocol, *,
                 today: date, started_mono_s: float = 0.0, simulated: bool = False,
                 default_programme: str | None = None) -> None:
        """``simulated``: a simulation's class, which only simulated programmes take;
        ``default_programme``: the programme the setup page offers first, when the operator
        has not chosen one before (a simulation's own)."""
        self.protocol = protocol
        self.today = today
        self.simulated = simulated
        self.default_programme = default_programme
        self.programme: ProgrammeDay | None = None
        self.started_mono_s = started_mono_s  # when the operator opened the setup
        self.entries: list[RosterEntry] = [self._entry(info) for info in roster]
        self._nearby: dict[str, NearbyStrap] = {}
        # radio → what is wrong with it as a whole (no ANT USB stick), while it is
        self.radio_notes: dict[str, StrapNote] = {}
        self._preview: set[str] = set()
        self.now_mono_s = started_mono_s
        self.revision = 0  # bumped on every change a view must redraw for
        self._timed = self._time_view()

    def _entry(self, info: ParticipantInfo) -> RosterEntry:
        # Whoever has a remembered strap is probably here today: the operator unticks
        # the absent, which is quicker than ticking everyone present.
        also = tuple(i for i in info.strap_ids if i != info.strap_key)
        return RosterEntry(info, info.strap_key is not None, info.strap_key,
                           hrmax_of(info, self.today), False, also)

    # -- the roster ---------------------------------------------------------------------
    def entry(self, study_code: str) -> RosterEntry:
        for e in self.entries:
            if e.study_code == study_code:
                return e
        raise SetupError(tr("No participant {code} in the roster.").format(code=study_code))

    def _put(self, study_code: str, **changes: object) -> None:
        for i, e in enumerate(self.entries):
            if e.study_code == study_code:
                self.entries[i] = replace(e, **changes)  # type: ignore[arg-type]
                self.revision += 1
                return
        raise SetupError(tr("No participant {code} in the roster.").format(code=study_code))

    def add_to_roster(self, info: ParticipantInfo) -> None:
        """A participant registered from the window: they came, so they attend. One who is
        on the roster already is updated instead."""
        if any(e.study_code == info.study_code for e in self.entries):
            self.update_roster(info.study_code, info)
            self.set_attending(info.study_code, True)
            return
        entry = replace(self._entry(info), attending=True)
        if any(self.wearer(i) is not None for i in entry.strap_ids):
            entry = replace(entry, strap_id=None, also_strap_ids=())  # worn today already
        self.entries.append(entry)
        self.revision += 1

    def update_roster(self, old_code: str, info: ParticipantInfo) -> None:
        """Registry details changed (the code too, perhaps); today's choices stay."""
        e = self.entry(old_code)
        hrmax = e.hrmax if e.hrmax_edited else hrmax_of(info, self.today)
        self._put(old_code, info=info, hrmax=hrmax)

    def set_attending(self, study_code: str, attending: bool) -> None:
        self._put(study_code, attending=attending)

    def set_hrmax_today(self, study_code: str, bpm: float) -> None:
        """Today's HRmax, e.g. from a fresh test; refuses a typo with one sentence."""
        self.entry(study_code)
        try:
            hrmax = HRMax(float(bpm), HRMaxMethod.MEASURED)
        except (TypeError, ValueError):
            raise SetupError(
                tr("HRmax {bpm} bpm is outside {low}–{high} bpm; check the value.")
                .format(bpm=_number(bpm), low=HRMAX_MIN_BPM, high=HRMAX_MAX_BPM)) from None
        self._put(study_code, hrmax=hrmax, hrmax_edited=True)

    def reset_hrmax_today(self, study_code: str) -> None:
        """Back to the registered HRmax (or its estimate) after a change for today."""
        e = self.entry(study_code)
        self._put(study_code, hrmax=hrmax_of(e.info, self.today), hrmax_edited=False)

    def set_protocol(self, protocol: TrainingProtocol) -> None:
        self.protocol = protocol
        self.revision += 1

    def set_programme(self, day: ProgrammeDay | None) -> None:
        """The programme today's class belongs to (None: none)."""
        self.programme = day
        self.revision += 1

    def attendance_marks(self, plan: SessionPlan) -> list[AttendanceMark]:
        """What starting ``plan`` records for the programme's enrolled participants on the
        roster: those in the class attended their due session, the others missed it. A
        participant not in the class whose due session is on a later day has not missed it
        yet, and one whose attendance is recorded already (a second class today) keeps it:
        nothing is recorded for them."""
        day = self.programme
        if day is None:
            return []
        here = {p.study_code for p in plan.participants}
        marks = []
        for e in self.entries:
            due = day.due.get(e.study_code)
            if due is None:
                continue
            attended = e.study_code in here
            if attended or (due.planned_on <= self.today and due.attendance is None):
                marks.append(AttendanceMark(e.study_code, due.week, due.number, attended))
        return marks

    # -- straps -------------------------------------------------------------------------
    def assign(self, strap_id: str, study_code: str, *, same_strap: bool = False) -> str | None:
        """Give ``strap_id`` to ``code`` (who then attends); one strap per person. With
        ``same_strap``, ``strap_id`` is the strap ``code`` wears already, heard on another
        radio (a dual-mode strap): it is added to that strap's ids. A strap the registry
        knows by several ids comes with all of them. Returns the code of whoever wore it
        before, or None."""
        entry = self.entry(study_code)
        if same_strap and not self.could_be_same_strap(strap_id, study_code):
            raise SetupError(tr("{strap} is heard on a radio {name}'s strap is heard on "
                                "already: it is another strap.").format(
                                    strap=strap_id, name=entry.info.display_name))
        known = () if same_strap else self._known_ids(strap_id)
        coming = {strap_id, *known}  # the ids that go with it
        previous = None
        for e in self.entries:
            if e.study_code != study_code and coming & set(e.strap_ids):
                previous = e.study_code
                if e.strap_id in coming:
                    self._put(e.study_code, strap_id=None, also_strap_ids=())
                else:
                    self._put(e.study_code, also_strap_ids=tuple(
                        i for i in e.also_strap_ids if i not in coming))
        if same_strap:
            also = (*self.entry(study_code).also_strap_ids, strap_id)
            self._put(study_code, also_strap_ids=also, attending=True)
        else:
            self._put(study_code, strap_id=strap_id, also_strap_ids=known, attending=True)
        return previous

    def could_be_same_strap(self, strap_id: str, study_code: str) -> bool:
        """Whether ``strap_id`` may be the strap ``code`` wears, heard on another radio: they
        wear one, and none of its ids is on ``strap_id``'s radio."""
        def radio(i: str) -> str:  # ids here come from the hubs and the registry
            return i.partition(":")[0]

        entry = self.entry(study_code)
        return bool(entry.strap_ids) and all(radio(i) != radio(strap_id)
                                             for i in entry.strap_ids)

    def _known_ids(self, strap_id: str) -> tuple[str, ...]:
        """The other ids the registry knows ``strap_id``'s strap by (from the roster)."""
        for e in self.entries:
            if strap_id in e.info.strap_ids:
                return tuple(i for i in e.info.strap_ids if i != strap_id)
        return ()

    def unassign(self, study_code: str) -> None:
        self._put(study_code, strap_id=None, also_strap_ids=())

    def wearer(self, strap_id: str) -> RosterEntry | None:
        for e in self.entries:
            if strap_id in e.strap_ids:
                return e
        return None

    def set_preview(self, strap_id: str, on: bool) -> None:
        """Connect a strap nobody wears yet, to see its heart rate (or stop that)."""
        if on:
            self._preview.add(strap_id)
        else:
            self._preview.discard(strap_id)
        self.revision += 1

    def previewing(self, strap_id: str) -> bool:
        return strap_id in self._preview

    def wanted_straps(self) -> dict[str, str]:
        """strap id → name of every strap to keep connected: those worn by attending
        participants, and those the operator previews."""
        wanted = {strap_id: self.strap_name(strap_id) for e in self.entries
                  if e.attending for strap_id in e.strap_ids}
        for strap_id in self._preview:
            wanted.setdefault(strap_id, self.strap_name(strap_id))
        return wanted

    def strap_name(self, strap_id: str) -> str:
        """What the strap advertises (e.g. "Polar H10 8C4D2F1A"), else its id."""
        seen = self._nearby.get(strap_id)
        return seen.name if seen is not None and seen.name else strap_id

    # -- events from the sensor side ----------------------------------------------------
    def ingest(self, events: Iterable[SourceEvent], now_mono_s: float) -> None:
        """Take the sensor side's events. Call it on every tick, with no events too: what
        times out (a live number, a strap gone, a missing strap) changes with the clock."""
        self.now_mono_s = now_mono_s
        changed = False
        for ev in events:
            if isinstance(ev, RadioNotice):
                if ev.note is None:
                    self.radio_notes.pop(ev.strap_id, None)
                else:
                    self.radio_notes[ev.strap_id] = ev.note
                changed = True
                continue
            old = self._nearby.get(ev.strap_id)
            strap = old or NearbyStrap(ev.strap_id, "", None, NEVER_HEARD, None, "", None,
                                       None, None)
            # Heard: it advertised, sent data, or a connection to it works. Our own
            # "connecting"/"lost" reports say nothing about the strap being there.
            heard = max(strap.seen_mono_s, ev.t_mono_s)
            if isinstance(ev, StrapSighting):
                strap = replace(strap, name=ev.name or strap.name, rssi_dbm=ev.rssi_dbm,
                                seen_mono_s=heard)
            elif isinstance(ev, HeartRateSample):
                contact = ev.contact is not SensorContact.NOT_DETECTED
                strap = replace(strap, bpm=ev.bpm if contact else None,
                                bpm_mono_s=ev.t_mono_s, seen_mono_s=heard)
            elif isinstance(ev, StrapStatus):
                strap = replace(strap, state=ev.state, detail=ev.detail, note=ev.note)
                if ev.state is StrapState.STREAMING:
                    strap = replace(strap, seen_mono_s=heard)
                if ev.state in (StrapState.STOPPED, StrapState.LOST, StrapState.FAILED):
                    strap = replace(strap, bpm=None)
            elif isinstance(ev, BatteryReading):
                strap = replace(strap, battery_pct=ev.level_pct, seen_mono_s=heard)
            else:
                continue
            self._nearby[ev.strap_id] = strap
            changed = True
        timed = self._time_view()
        if changed or timed != self._timed:
            self._timed = timed
            self.revision += 1

    def _time_view(self) -> tuple[frozenset[str], ...]:
        """What the clock alone changes: straps listed, numbers shown, hints given."""
        shown = self.nearby()
        return (frozenset(s.strap_id for s in shown),
                frozenset(s.strap_id for s in shown if s.bpm is not None),
                frozenset(self.missing_hints()))

    def nearby(self) -> list[NearbyStrap]:
        """Straps heard lately, and every strap in use: strongest signal first."""
        keep = set(self.wanted_straps())
        now = self.now_mono_s
        shown = []
        for strap in self._nearby.values():
            if strap.strap_id not in keep and now - strap.seen_mono_s > config.NEARBY_FORGET_S:
                continue
            live = strap.bpm_mono_s is not None and now - strap.bpm_mono_s <= config.LIVE_BPM_FOR_S
            shown.append(strap if live else replace(strap, bpm=None))
        return sorted(shown, key=lambda s: (s.rssi_dbm is None,
                                            -((s.rssi_dbm or 0) // config.RSSI_STEP_DB),
                                            s.strap_id))

    def missing_hints(self) -> dict[str, str]:
        """study code → the sentence for an attending participant whose strap has not been
        heard for a while (or ever, since the setup opened)."""
        hints = {}
        now = self.now_mono_s
        for e in self.entries:
            if not e.attending or e.strap_id is None:
                continue
            heard = [self._nearby[i].seen_mono_s for i in e.strap_ids if i in self._nearby]
            last = max([*heard, NEVER_HEARD, self.started_mono_s])
            if now - last > config.MISSING_AFTER_S:
                hints[e.study_code] = tr(MISSING_STRAP_HINT).format(
                    strap=self.strap_name(e.strap_id))
        return hints

    def strap_reports(self, strap_ids: Iterable[str], t_mono_s: float) -> list[SourceEvent]:
        """What the setup knows of these straps (connection state, battery level) as reports
        stamped ``t_mono_s``. The session takes them at its start, so its page shows them,
        and a low battery raises its alarm, before the straps report again."""
        reports: list[SourceEvent] = []
        for strap_id in strap_ids:
            strap = self._nearby.get(strap_id)
            if strap is None:
                continue
            if strap.state is not None:
                reports.append(StrapStatus(strap_id, t_mono_s, strap.state, strap.detail,
                                           strap.note))
            if strap.battery_pct is not None:
                reports.append(BatteryReading(strap_id, t_mono_s, strap.battery_pct))
        return reports

    # -- starting -----------------------------------------------------------------------
    def problems(self) -> list[str]:
        """What stops the start, one sentence each; empty when the class can start."""
        attending = [e for e in self.entries if e.attending]
        if not attending:
            return [tr("Tick at least one participant who is here today.")]
        out = []
        if len(attending) > config.MAX_PARTICIPANTS:
            out.append(tr("At most {n} participants can train in one session.")
                       .format(n=config.MAX_PARTICIPANTS))
        for e in attending:
            if e.strap_id is None:
                out.append(tr("{name} has no strap: assign one, or untick them.")
                           .format(name=e.info.display_name))
            if e.hrmax is None:
                out.append(tr("{name} has no HRmax: enter today's HRmax or a birth year.")
                           .format(name=e.info.display_name))
        return out

    def plan(self) -> SessionPlan:
        """The session to start; SetupError with the first problem when not ready."""
        problems = self.problems()
        if problems:
            raise SetupError(problems[0])
        people = []
        for e in self.entries:
            if not e.attending:
                continue
            assert e.strap_id is not None and e.hrmax is not None
            people.append(Participant(e.study_code, e.info.display_name, e.strap_id, e.hrmax,
                                      beta_blocker=e.info.beta_blocker,
                                      resting_bpm=e.info.resting_bpm,
                                      other_strap_ids=e.also_strap_ids))
        remembered = {p.study_code: p.strap_id for p in people}
        return SessionPlan(self.protocol, tuple(people), remembered)


def _number(value: object) -> str:
    """A value as the operator typed it, numbers without a trailing .0."""
    if isinstance(value, int | float):
        return f"{value:g}"
    return str(value)
