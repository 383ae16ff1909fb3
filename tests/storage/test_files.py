"""storage/files.py: the mode of atomically written files, and the strict JSON readers."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from trainer.errors import ModelFileError, TrainerError
from trainer.storage import files

ROOT = Path(__file__).resolve().parents[2]


def test_importing_leaves_the_umask_alone_and_a_write_uses_the_umask_of_its_time(tmp_path):
    code = (
        "import os, sys; os.umask(0o022); import trainer.storage.files as f; os.umask(0o027); "
        "f.atomic_write(sys.argv[1], 'x'); print(oct(os.stat(sys.argv[1]).st_mode & 0o777), oct(os.umask(0)))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "a")], env=env, check=True, capture_output=True, text=True
    ).stdout.split()
    assert out == ["0o640", "0o27"]


def test_the_umask_is_also_read_where_proc_is_missing(monkeypatch):
    def no_proc(*args, **kwargs):
        raise OSError("no /proc")

    umask = files._umask()
    monkeypatch.setattr(files, "open", no_proc, raising=False)
    assert files._umask.__wrapped__() == umask and os.umask(umask) == umask  # read, and put back


def test_read_json_reads_back_what_write_json_wrote(tmp_path):
    obj = {"a": [1, 0.1, None, "x"], "b": {"c": 1e-300}}
    files.write_json(tmp_path / "a.json", {**obj, "nan": float("nan")})
    assert files.read_json(tmp_path / "a.json") == {**obj, "nan": None}


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "a.json: no such curve file"),
        (b"\xff{}", "a.json: cannot read curve file: 'utf-8' codec can't decode"),
        (b'{"a": 1,\n "b": }', "a.json:2: malformed JSON (Expecting value)"),
        (b'{"a": NaN}', "a.json: malformed JSON (NaN is not JSON)"),
    ],
)
def test_read_json_errors_are_one_line_naming_the_file(tmp_path, content, message):
    if content is not None:
        (tmp_path / "a.json").write_bytes(content)
    with pytest.raises(ModelFileError) as e:
        files.read_json(tmp_path / "a.json", "curve file", ModelFileError)
    assert (
        str(e.value).startswith(f"{tmp_path / 'a.json'}")
        and message in str(e.value)
        and "\n" not in str(e.value)
    )


def test_a_directory_is_not_read_as_a_json_file(tmp_path):
    with pytest.raises(TrainerError, match="cannot read JSON file"):
        files.read_json(tmp_path)


def test_read_jsonl_skips_blank_lines_and_names_the_bad_line(tmp_path):
    path = tmp_path / "m.jsonl"
    files.write_jsonl(path, [{"epoch": 1}, {"epoch": 2, "loss": float("inf")}])
    assert files.read_jsonl(path) == [{"epoch": 1}, {"epoch": 2, "loss": None}]
    for text, message in [
        ('{"epoch": 1}\n\n[1]\n', "m.jsonl:3: not a JSON object"),
        ('{"epoch": 1}\n{"epoch": \n', "m.jsonl:2: malformed JSON (Expecting value)"),
        ('{"loss": -Infinity}\n', "m.jsonl:1: malformed JSON (-Infinity is not JSON)"),
    ]:
        path.write_text(text)
        with pytest.raises(TrainerError) as e:
            files.read_jsonl(path)
        assert str(e.value) == f"{tmp_path}{os.sep}{message}"
