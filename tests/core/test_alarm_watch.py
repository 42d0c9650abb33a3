from hiaim_monitor.alarm_watch import AlarmWatch


def test_new_alarm_is_unacknowledged_until_the_operator_acknowledges_it():
    watch = AlarmWatch()
    assert watch.update({("P1", "signal-lost")}) == {("P1", "signal-lost")}
    assert watch.unacknowledged == {("P1", "signal-lost")}
    assert watch.acknowledge() == [("P1", "signal-lost")]
    assert not watch.unacknowledged
    assert watch.update({("P1", "signal-lost")}) == set()  # still on, already seen
    assert not watch.unacknowledged


def test_acknowledging_covers_only_alarms_on_now():
    watch = AlarmWatch()
    watch.update({("P1", "ceiling")})
    watch.acknowledge()
    assert watch.update({("P1", "ceiling"), (None, "storage")}) == {(None, "storage")}
    assert watch.unacknowledged == {(None, "storage")}


def test_an_alarm_that_clears_and_returns_sounds_again():
    watch = AlarmWatch()
    watch.update({("P2", "no-contact")})
    watch.acknowledge()
    watch.update(set())
    assert watch.update({("P2", "no-contact")}) == {("P2", "no-contact")}
    assert watch.unacknowledged == {("P2", "no-contact")}


def test_acknowledging_nothing_logs_nothing():
    watch = AlarmWatch()
    assert watch.acknowledge() == []
