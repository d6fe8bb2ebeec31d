"""Bad input: one line naming the file and the problem, exit code 2, no traceback, nothing written."""


def test_missing_config_file(tmp_path, cli):
    r = cli("train", tmp_path / "nope.yaml", cwd=tmp_path)
    assert r.returncode == 2
    assert "nope.yaml" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()


def test_missing_target_column(tmp_path, root, cli):
    cfg = tmp_path / "c.yaml"
    cfg.write_text((root / "configs/iris.yaml").read_text().replace("target: species", "target: specie")
                   .replace("../datasets/iris.csv", str(root / "datasets/iris.csv")))
    r = cli("train", cfg, cwd=tmp_path)
    assert r.returncode == 2
    assert "'specie'" in r.stderr and "did you mean 'species'" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "runs").exists()


def test_missing_run_directory_for_predict(tmp_path, cli):
    r = cli("predict", tmp_path / "runs/none", "-", input="x\n1\n")
    assert r.returncode == 2 and "no such run directory" in r.stderr


def test_version(cli):
    import nncli

    r = cli("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"nncli {nncli.__version__}"


def test_debug_shows_traceback(tmp_path, cli_subprocess):
    r = cli_subprocess("--debug", "train", tmp_path / "nope.yaml")
    assert r.returncode != 0 and "Traceback" in r.stderr


def test_epochs_and_seed_flags_are_named_as_typed(tmp_path, root, cli):
    r = cli("train", root / "configs/xor.yaml", "--epochs", "0", "--seed", "-1", "--out", tmp_path / "x")
    assert r.returncode == 2
    assert r.stderr.splitlines() == ["--seed -1: seed: must be >= 0, got -1",
                                     "--epochs 0: training.epochs: must be > 0, got 0"]
    assert not (tmp_path / "x").exists()
