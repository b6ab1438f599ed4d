from tests.conftest import dcp


def test_help_lists_each_command_with_an_example():
    result = dcp("--help")
    assert result.returncode == 0
    for example in ("dcp prepare", "dcp etl --data"):
        assert example in result.stdout


def test_bad_data_folder_is_a_clear_error_without_traceback_or_tf_noise(
    tmp_path,
):
    missing = tmp_path / "no-such-folder"
    result = dcp("etl", f"--data={missing}", f"--output={tmp_path / 'out'}")
    assert result.returncode == 2
    assert f"dcp etl: error: {missing}: no such folder" in result.stderr
    assert "point --data at a folder" in result.stderr
    assert "Traceback" not in result.stderr
    # TensorFlow was loaded, and its known start-up errors were dropped.
    assert "Unable to register" not in result.stderr
