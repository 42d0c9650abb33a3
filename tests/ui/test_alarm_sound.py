import io
import wave

from hiaim_monitor.config import ALARM_REPEAT_EVERY_S as REPEAT_EVERY_S
from ui.alarm_sound import AlarmSound, chime_wav


def test_chime_is_a_short_audible_wav():
    with wave.open(io.BytesIO(chime_wav())) as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        seconds = w.getnframes() / w.getframerate()
        frames = w.readframes(w.getnframes())
    assert 0.2 < seconds < 1.0
    assert max(frames) > 0  # not silence


def test_sounds_at_once_then_repeats_until_acknowledged():
    played = []
    sound = AlarmSound(play=lambda: played.append(1))
    sound.update(unacknowledged=True, raised_now=True, now_s=0.0)
    assert len(played) == 1
    for t in (0.1, 1.0, REPEAT_EVERY_S - 0.1):
        sound.update(unacknowledged=True, raised_now=False, now_s=t)
    assert len(played) == 1
    sound.update(unacknowledged=True, raised_now=False, now_s=REPEAT_EVERY_S)
    assert len(played) == 2
    for t in range(5, 60):
        sound.update(unacknowledged=False, raised_now=False, now_s=float(t))
    assert len(played) == 2  # acknowledged: silent


def test_a_second_alarm_sounds_at_once_even_mid_repeat():
    played = []
    sound = AlarmSound(play=lambda: played.append(1))
    sound.update(unacknowledged=True, raised_now=True, now_s=0.0)
    sound.update(unacknowledged=True, raised_now=True, now_s=0.5)
    assert len(played) == 2
