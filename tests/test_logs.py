"""The one log format: key=value fields after the message, UTC timestamps, security events included."""

import logging

from governance import audit
from jobs import logs


def test_security_events_are_logged_as_key_value_lines(capsys, tmp_path, monkeypatch):
    logs.configure("INFO")
    monkeypatch.setenv("WAREHOUSE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    assert audit.record_failed_login("mallory x") is False  # no warehouse: logged, not written
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.endswith("WARNING pnct.security login failed username='mallory x' reason=bad_credentials")
    assert line[:20].endswith("Z") and line[10] == "T"
    assert not (tmp_path / "none.db").exists()


def test_configuring_twice_adds_no_second_handler():
    logs.configure()
    logs.configure()
    ours = [h for h in logging.getLogger("pnct").handlers if isinstance(h.formatter, logs.KeyValueFormatter)]
    assert len(ours) == 1
