"""The shared test helpers keep their promises: CI never skips a test for want of a server,
and a wait that runs out says what it was waiting for."""

import pytest

import tests.pg
from tests.conftest import poll_until, wait_until
from tests.pg import INSTALL_HINT, check_can_run


@pytest.fixture
def no_postgres_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tests.pg, "find_bin_dir", lambda: None)


def test_without_postgresql_a_storage_test_is_skipped_on_a_laptop(no_postgres_here, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install postgresql"):
        check_can_run()


def test_without_postgresql_a_storage_test_fails_in_ci(no_postgres_here, monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception) as failed:
        check_can_run()
    assert str(failed.value) == (
        f"{INSTALL_HINT}; CI must run this test (.ci/run installs what it needs)")


def test_a_wait_that_runs_out_names_what_it_waited_for():
    with pytest.raises(pytest.fail.Exception, match=r"not within 0\.05 s: the door opens"):
        poll_until(lambda: False, "the door opens", timeout_s=0.05)
    assert poll_until(lambda: 42, "the answer") == 42


async def test_an_async_wait_that_runs_out_names_what_it_waited_for():
    with pytest.raises(pytest.fail.Exception, match=r"not within 0\.05 s: the strap streams"):
        await wait_until(lambda: False, "the strap streams", timeout_s=0.05)
