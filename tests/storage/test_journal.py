"""storage/journal.py: every record is on disk (fsync) when append returns, a torn last line is
dropped on reading and cut off on opening, and damage anywhere else is one line naming it."""

import os
import re

import pytest

from trainer.errors import TrainerError
from trainer.storage import journal
from trainer.storage.journal import Journal, latest, read_journal


def test_records_read_back_in_order_and_the_last_of_a_key_wins(tmp_path):
    path = tmp_path / "j.jsonl"
    with Journal(path) as j:
        j.append({"key": "a", "outcome": {"scores": [0.5, 0.1]}})
        j.append({"key": "b", "outcome": {"loss": float("nan")}})
        j.append({"key": "a", "outcome": {"scores": [0.75]}})
    records = read_journal(path)
    assert [r["key"] for r in records] == ["a", "b", "a"]
    assert records[1]["outcome"] == {"loss": None}  # strict JSON: no NaN on disk
    assert latest(records)["a"]["outcome"] == {"scores": [0.75]}
    with Journal(path) as again:  # reopened: what is there, then more after it
        assert again.records == records
        again.append({"key": "c"})
    assert [r["key"] for r in read_journal(path)] == ["a", "b", "a", "c"]


def test_each_record_is_fsynced_before_append_returns(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def fsync(fd):
        synced.append(os.fstat(fd).st_size)  # how much of the file is on disk at each fsync
        real_fsync(fd)

    monkeypatch.setattr(journal.os, "fsync", fsync)
    with Journal(tmp_path / "j.jsonl") as j:
        synced.clear()  # opening a new journal fsyncs its directory
        for key in "abc":
            j.append({"key": key})
            assert synced[-1] == (tmp_path / "j.jsonl").stat().st_size
    assert len(synced) == 3


def test_a_torn_last_line_is_dropped_and_cut_off_before_the_next_record(tmp_path):
    path = tmp_path / "j.jsonl"
    with Journal(path) as j:
        j.append({"key": "a"})
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"key": "b", "outc')  # a kill halfway through a write
    assert read_journal(path) == [{"key": "a"}]
    with Journal(path) as j:
        assert j.records == [{"key": "a"}]
        assert path.read_bytes() == whole
        j.append({"key": "c"})
    assert read_journal(path) == [{"key": "a"}, {"key": "c"}]


def test_a_garbled_last_line_is_dropped_too(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_bytes(b'{"key": "a"}\n\x00\x00\x00\x00\n')  # a block of zeros after a power loss
    assert read_journal(path) == [{"key": "a"}]


@pytest.mark.parametrize(
    "text, says",
    [
        ('{"key": "a"}\n{"key": \n{"key": "c"}\n', "j.jsonl:2: damaged journal record"),
        ('{"key": "a"}\n[1, 2]\n{"key": "c"}\n', "j.jsonl:2: damaged journal record (not a JSON object"),
        ('{"nokey": 1}\n{"key": "c"}\n', "j.jsonl:1: damaged journal record"),
    ],
)
def test_damage_before_the_last_line_is_refused_naming_the_line(tmp_path, text, says):
    path = tmp_path / "j.jsonl"
    path.write_text(text)
    with pytest.raises(TrainerError, match=re.escape(says)):
        read_journal(path)
    with pytest.raises(TrainerError, match=re.escape(says)):
        Journal(path)
    assert path.read_text() == text


def test_no_journal_reads_as_empty(tmp_path):
    assert read_journal(tmp_path / "none.jsonl") == []
