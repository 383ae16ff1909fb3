"""files.py: the mode of atomically written files, and the strict JSON readers."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from trainer import files

ROOT = Path(__file__).resolve().parents[1]


def test_importing_leaves_the_umask_alone_and_a_write_uses_the_umask_of_its_time(tmp_path):
    code = ("import os, sys; os.umask(0o022); import trainer.files as f; os.umask(0o027); "
            "f.atomic_write(sys.argv[1], 'x'); print(oct(os.stat(sys.argv[1]).st_mode & 0o777), oct(os.umask(0)))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "a")], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    assert out == ["0o640", "0o27"]


def test_the_umask_is_also_read_where_proc_is_missing(monkeypatch):
    def no_proc(*args, **kwargs):
        raise OSError("no /proc")

    umask = files._umask()
    monkeypatch.setattr(files, "open", no_proc, raising=False)
    assert files._umask.__wrapped__() == umask and os.umask(umask) == umask  # read, and put back
