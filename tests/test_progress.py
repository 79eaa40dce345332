import networkx as nx
import pytest

import qiopt
from qiopt import progress


@pytest.fixture
def no_delay(monkeypatch):
    monkeypatch.setattr(progress, "DELAY_S", 0.0)


def solve(flag):
    return qiopt.solve(nx.petersen_graph(), time_limit=0.2, num_sweeps=50, num_reads=4, seed=1, progress=flag)


def test_progress_shown_when_asked(no_delay, capsys):
    solve(True)
    err = capsys.readouterr().err
    assert "sa" in err and "reads" in err


def test_silent_when_disabled_or_not_a_terminal(no_delay, capsys):
    solve(False)
    solve(None)  # pytest's captured stderr is not a terminal
    assert capsys.readouterr().err == ""


def test_setting_is_scoped_to_the_solve():
    with progress.enabled(True):
        assert progress.is_enabled()
    assert progress.is_enabled() is False  # captured stderr is not a TTY


def test_bad_flag():
    with pytest.raises(TypeError, match="progress"):
        qiopt.solve({(0, 0): 1.0}, progress="yes")
