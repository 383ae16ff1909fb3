"""Config loading: defaults, types, ranges, typos, YAML errors with lines, and --set overrides."""

import pytest

from trainer.config.load import config_from_dict, dump_config, known_keys, load_config
from trainer.errors import ConfigError, DataError


def write(tmp_path, text, name="c.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_defaults_fill_every_key_and_name_comes_from_the_file(tmp_path):
    cfg = load_config(write(tmp_path, "data: {dataset: iris}\n", "my_iris.yaml"))
    assert cfg.name == "my_iris"
    assert cfg.data.dataset == "iris" and cfg.model.hidden_size == 100 and cfg.train.optimizer == "adam"
    assert cfg.train.batch_size == 32 and cfg.seed == 0


def test_resolved_config_round_trips_through_yaml(tmp_path):
    cfg = load_config(
        write(tmp_path, "data: {dataset: moons, params: {n_samples: 300}}\ntrain: {lr: 0.01}\n")
    )
    again = load_config(write(tmp_path, dump_config(cfg), "again.yaml"))
    again.name = cfg.name
    assert again == cfg


def test_numbers_written_like_1e_minus_3_are_numbers(tmp_path):
    # PyYAML reads `1e-3` (no dot) as a string; the config accepts it for float keys.
    assert load_config(write(tmp_path, "train: {lr: 1e-3}\n")).train.lr == 0.001


@pytest.mark.parametrize(
    "text, expected",
    [
        ("train:\n  epohcs: 3\n", "c.yaml:2: unknown key 'train.epohcs' — did you mean 'train.epochs'?"),
        ("modle:\n  hidden_size: 3\n", "c.yaml:1: unknown key 'modle'"),
        ("train:\n  lr: -1\n", "c.yaml:2: train.lr: expected a number > 0, got -1.0"),
        ("train:\n  epochs: 2.5\n", "c.yaml:2: train.epochs: expected an integer, got float 2.5"),
        ("train:\n  epochs: true\n", "c.yaml:2: train.epochs: expected an integer, got bool True"),
        (
            "train:\n  optimizer: adamw\n",
            "train.optimizer: expected one of sgd, momentum, nesterov, adam, got 'adamw'",
        ),
        ("data:\n  dataset: moon\n", "data.dataset: expected one of"),
        ("data:\n  dataset: moon\n", "got 'moon' — did you mean 'moons'?"),
        ("train:\n  engine: refrence\n", "got 'refrence' — did you mean 'reference'?"),
        ("model:\n  dtype: float16\n", "model.dtype: expected float64 or float32, got 'float16'"),
        ("data:\n  test_size: 1.5\n", "data.test_size: expected a fraction in [0, 1)"),
        ("data:\n  test_size: 0.5\n  val_size: 0.5\n", "data.test_size + data.val_size must be < 1"),
        ("train: [1, 2]\n", "c.yaml:1: train: expected a mapping, got list"),
        (
            "data:\n  val_size: 0\ntrain:\n  early_stopping: true\n",
            "train.monitor: 'val_loss' needs a validation split",
        ),
        ("data:\n  dataset: csv\n", "data.path: dataset 'csv' needs data.path"),
        ("train:\n  lr: 0.1\n  lr: 0.2\n", "c.yaml:3: duplicate key 'train.lr'"),
        ("train:\n  lr: [0.1\n", "c.yaml:3: malformed YAML"),
        ("- 1\n- 2\n", "c.yaml:1: expected a mapping of keys at the top level, got a list"),
        ("", "c.yaml: config file is empty"),
        ("name: ../escape\n", "name: expected a plain name"),
    ],
)
def test_bad_config_names_file_line_key_and_expectation(tmp_path, text, expected):
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, text))
    assert expected in str(e.value)
    assert "\n" not in str(e.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such config file") as e:
        load_config(tmp_path / "nope.yaml")
    assert "did you mean" not in str(e.value)
    (tmp_path / "moons.yaml").write_text("seed: 0\n")
    with pytest.raises(ConfigError) as e:
        load_config(tmp_path / "moon.yaml")
    assert str(e.value) == (
        f"{tmp_path / 'moon.yaml'}: no such config file — did you mean '{tmp_path / 'moons.yaml'}'?"
    )
    with pytest.raises(ConfigError, match="no such config file$"):
        load_config(tmp_path / "no-such-folder" / "moon.yaml")


def test_a_bare_missing_config_name_is_looked_for_in_configs(tmp_path, monkeypatch):
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "moons.yaml").write_text("seed: 0\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as e:
        load_config("moons.yaml")
    assert str(e.value) == "moons.yaml: no such config file — did you mean 'configs/moons.yaml'?"
    with pytest.raises(ConfigError, match="did you mean 'configs/moons.yaml'"):
        load_config("moon")  # names are compared without their '.yaml'
    (tmp_path / "t.yaml").write_text("seed: 0\n")
    with pytest.raises(ConfigError, match="no such config file$"):
        load_config("configs/m.yaml")  # nothing close: no guess ('.yaml' alone is no likeness)
    (tmp_path / "moon.yaml").write_text("seed: 0\n")  # a close name beside it comes first
    with pytest.raises(ConfigError, match="did you mean 'moon.yaml'"):
        load_config("moons.yaml")


def test_overrides_are_yaml_scalars_and_validated(tmp_path):
    path = write(tmp_path, "train: {lr: 0.1}\n")
    cfg = load_config(path, ["train.lr=0.05", "model.hidden_size=7", "train.batch_size=null", "seed=3"])
    assert (cfg.train.lr, cfg.model.hidden_size, cfg.train.batch_size, cfg.seed) == (0.05, 7, None, 3)
    cfg = load_config(path, ["data.params.n_samples=123"])
    assert cfg.data.params["n_samples"] == 123 and cfg.data.params["noise"] == 0.2  # defaults filled in


@pytest.mark.parametrize(
    "override, expected",
    [
        ("train.lr", "--set train.lr: expected key=value"),
        ("train.lrr=0.1", "--set train.lrr=0.1: unknown key 'train.lrr' — did you mean 'train.lr'?"),
        ("train.lr=abc", "--set train.lr=abc: train.lr: expected a number, got str 'abc'"),
        ("model.hidden_size=0", "--set model.hidden_size=0: model.hidden_size: expected an integer >= 1"),
    ],
)
def test_bad_overrides_name_the_override(tmp_path, override, expected):
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, "{}\n"), [override])
    assert expected in str(e.value)


def test_csv_path_resolves_against_the_config_file(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "d.csv").write_text("a,b\n1,0\n")
    cfg = load_config(write(tmp_path, "data: {dataset: csv, path: ../d.csv}\n", "sub/c.yaml"))
    assert cfg.data.path == str((tmp_path / "d.csv").resolve())


def test_csv_path_under_set_resolves_against_the_current_directory(tmp_path, monkeypatch):
    tmp_path = tmp_path.resolve()
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub/d.csv").write_text("a,b\n1,0\n")
    path = write(tmp_path, "data: {dataset: csv, path: d.csv}\n", "sub/c.yaml")
    assert load_config(path).data.path == str(tmp_path / "sub/d.csv")
    monkeypatch.chdir(tmp_path)
    assert load_config(path, ["data.path=sub/d.csv"]).data.path == str(tmp_path / "sub/d.csv")
    with pytest.raises(DataError) as e:
        load_config(path, ["data.path=d.csv"])
    assert str(e.value) == (
        f"--set data.path=d.csv: data.path: {tmp_path / 'd.csv'}: no such file "
        "(a relative data.path given by --set is relative to the current directory)"
    )


def test_known_keys_cover_the_contract():
    keys = set(known_keys())
    contract = {
        "name",
        "seed",
        "data.dataset",
        "data.params",
        "data.path",
        "data.target",
        "data.test_size",
        "data.val_size",
        "data.standardize",
        "model.hidden_size",
        "model.init",
        "model.dtype",
        "train.epochs",
        "train.batch_size",
        "train.optimizer",
        "train.lr",
        "train.momentum",
        "train.reg",
        "train.lr_schedule",
        "train.early_stopping",
        "train.monitor",
        "train.patience",
        "train.min_delta",
    }
    assert contract <= keys


def test_config_from_dict_validates_too():
    with pytest.raises(ConfigError, match="train.patience: expected an integer >= 1"):
        config_from_dict({"train": {"patience": 0}})


# ---------------------------------------------------------------- weights and init_from


@pytest.mark.parametrize(
    "text, expected",
    [
        ("train:\n  class_weight: balanced\n", "balanced"),
        ("train:\n  class_weight: {0: 9, 1: 1.5}\n", {"0": 9, "1": 1.5}),  # YAML's int keys become text
        ("train:\n  class_weight: {cat: 0, dog: 2.0}\n", {"cat": 0, "dog": 2.0}),
        ("train:\n  class_weight: null\n", None),
    ],
)
def test_class_weight_takes_null_balanced_or_a_mapping_with_text_keys(tmp_path, text, expected):
    cfg = load_config(write(tmp_path, text))
    assert cfg.train.class_weight == expected
    assert load_config(write(tmp_path, dump_config(cfg), "again.yaml")).train.class_weight == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "train:\n  class_weight: balance\n",
            "c.yaml:2: train.class_weight: expected null, 'balanced', or a mapping",
        ),
        ("train:\n  class_weight: {a: -1}\n", "train.class_weight: expected null, 'balanced', or a mapping"),
        ("train:\n  class_weight: {a: .nan}\n", "train.class_weight: expected a string or a mapping"),
        ("train:\n  class_weight: {a: heavy}\n", "train.class_weight: expected null, 'balanced'"),
        ("train:\n  class_weight: {a: true}\n", "train.class_weight: expected null, 'balanced'"),
        ("train:\n  class_weight: {}\n", "train.class_weight: expected null, 'balanced'"),
        ("train:\n  class_weight: {1: 2, '1': 3}\n", "c.yaml:2: duplicate key 'train.class_weight.1'"),
        ("train:\n  class_weight: {yes: 2}\n", "train.class_weight: expected a string or a mapping"),
        ("train:\n  class_weight: [1, 2]\n", "train.class_weight: expected a string or a mapping"),
        (
            "data:\n  weight: w\n",
            "c.yaml:2: data.weight: only used with dataset 'csv', but data.dataset is 'moons'",
        ),
        ("data:\n  weight: 1.5\n", "data.weight: expected a string or an integer or null, got float 1.5"),
        ("model:\n  init_from: 3\n", "model.init_from: expected a string or null, got int 3"),
    ],
)
def test_bad_weights_and_init_from_name_the_key_and_line(tmp_path, text, expected):
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, text))
    assert expected in str(e.value) and "\n" not in str(e.value)


def test_init_from_is_relative_to_the_config_file_or_under_set_to_the_working_directory(
    tmp_path, monkeypatch
):
    (tmp_path / "sub").mkdir()
    cfg = load_config(write(tmp_path / "sub", "model:\n  init_from: ../m.npz\n"))
    assert cfg.model.init_from == str(tmp_path / "m.npz")
    monkeypatch.chdir(tmp_path / "sub")
    cfg = load_config(write(tmp_path, "name: x\n"), ["model.init_from=runs/m.npz"])
    assert cfg.model.init_from == str(tmp_path / "sub" / "runs" / "m.npz")
