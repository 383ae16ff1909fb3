"""errors.first_line: the one line of a library's message that goes into ours."""

from trainer.errors import did_you_mean_path, first_line


def test_first_line_keeps_only_the_first_line_of_a_long_message():
    assert first_line(ValueError("\n  bad size: 3\nTraceback-like detail\nmore")) == "bad size: 3"


def test_first_line_of_an_empty_message_is_the_type():
    assert first_line(KeyError()) == "KeyError" and first_line(ValueError("  \n")) == "ValueError"


def test_a_missing_path_is_mended_at_its_first_missing_part(tmp_path, monkeypatch):
    (tmp_path / "runs" / "try1").mkdir(parents=True)
    (tmp_path / "runs" / ".cache").mkdir()
    monkeypatch.chdir(tmp_path)
    assert did_you_mean_path("runs/tyr1") == " — did you mean 'runs/try1'?"
    assert did_you_mean_path("rnus/try1/model.npz") == " — did you mean 'runs/try1/model.npz'?"
    assert did_you_mean_path(tmp_path / "runs/tyr1") == f" — did you mean '{tmp_path / 'runs/try1'}'?"
    assert did_you_mean_path("tyr1") == ""  # nothing like it in the current directory
    assert did_you_mean_path("runs/cache") == ""  # hidden entries are not offered
    assert did_you_mean_path("runs/try1") == ""  # it is there
