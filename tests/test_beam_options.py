from apache_beam.options.pipeline_options import (
    DirectOptions,
    StandardOptions,
)

from core.dataset.etl.beam_etl import beam_options


def direct(args, images):
    options = beam_options(args, images=images, parallel_from_images=1000)
    return options.view_as(DirectOptions)


def test_small_data_runs_in_one_process():
    options = direct(["--runner=DirectRunner"], images=999)
    assert options.direct_running_mode == "in_memory"


def test_large_data_runs_on_all_cores():
    options = direct(["--runner=DirectRunner"], images=1000)
    assert options.direct_running_mode == "multi_processing"
    assert options.direct_num_workers == 0


def test_the_users_choice_wins():
    options = direct(
        ["--direct_running_mode=multi_threading", "--direct_num_workers=3"],
        images=10,
    )
    assert options.direct_running_mode == "multi_threading"
    assert options.direct_num_workers == 3
    options = direct(["--direct_num_workers=3"], images=5000)
    assert options.direct_running_mode == "multi_processing"
    assert options.direct_num_workers == 3


def test_other_runners_get_their_flags_untouched():
    args = ["--runner=FlinkRunner", "--flink_master=localhost:8081"]
    options = beam_options(args, images=10**6, parallel_from_images=1000)
    assert options.view_as(StandardOptions).runner == "FlinkRunner"
    assert options.get_all_options()["flink_master"] == "localhost:8081"
    assert "direct_running_mode" not in options.get_all_options(
        drop_default=True
    )
