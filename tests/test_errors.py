"""errors.first_line: the one line of a library's message that goes into ours."""

from trainer.errors import first_line


def test_first_line_keeps_only_the_first_line_of_a_long_message():
    assert first_line(ValueError("\n  bad size: 3\nTraceback-like detail\nmore")) == "bad size: 3"


def test_first_line_of_an_empty_message_is_the_type():
    assert first_line(KeyError()) == "KeyError" and first_line(ValueError("  \n")) == "ValueError"
