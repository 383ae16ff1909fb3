"""scripts/draw_examples.py, which draws docs/pictures.md's examples: it runs and writes the pictures
its table names, and the page shows exactly those, each a file in docs/images/."""

import importlib.util
import re

from conftest import ROOT, png_size

spec = importlib.util.spec_from_file_location("draw_examples", ROOT / "scripts/draw_examples.py")
draw_examples = importlib.util.module_from_spec(spec)
spec.loader.exec_module(draw_examples)


def test_the_page_shows_every_picture_the_script_draws_and_each_is_in_docs_images():
    named = {name for _, pictures in draw_examples.PICTURES.values() for name in pictures}
    shown = set(re.findall(r"!\[[^\]]*\]\(images/([\w.]+)\)", (ROOT / "docs/pictures.md").read_text()))
    assert shown == named and len(named) == 13
    assert {p.name for p in (ROOT / "docs/images").iterdir()} == named


def test_the_run_example_draws_its_three_pictures_at_the_dpi_asked(tmp_path, capsys):
    written = draw_examples.draw(["run"], tmp_path, dpi=30)
    assert sorted(written) == ["run_boundary.png", "run_confusion.png", "run_curves.png"]
    assert png_size(tmp_path / "run_curves.png") == (330, 132)  # curves.png's 11 x 4.4 inches at 30 dpi
    assert capsys.readouterr().out.splitlines() == [
        "$ trainer train configs/moons.yaml --out runs/moons -q --no-plots",
        "$ trainer plot runs/moons --out pictures/run --dpi 30",
    ]
