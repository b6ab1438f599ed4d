"""The TFX DAG, built in one place; runners only choose where it runs."""

import json
from collections.abc import Sequence
from typing import Any

import tensorflow_model_analysis as tfma
from tfx import v1 as tfx
from tfx.orchestration import metadata

from components.duplicates.component import Duplicates
from components.evaluation_report.component import EvaluationReport
from components.label_issues.component import LabelIssues
from components.outliers.component import Outliers
from components.quality_report.component import QualityReport
from components.test_accuracy.component import TestAccuracy
from components.tflite_export.component import TFLiteExport
from core.code_version import CODE_VERSION_KEY, code_fingerprint
from core.task import EvaluationReporter, PipelineTask, Task, get_task
from pipeline.settings import QualityConfig

# The ETL's split folders, and the names TFX gives them.
SPLIT_FOLDERS = {"train": "train", "eval": "val", "test": "test"}
# The steps that run this package's code, and the module each runs (its
# fingerprint covers what that module imports); Transform and Trainer run
# the task's functions.
STEP_CODE = {
    "TFLiteExport": "components.tflite_export.component",
    "TestAccuracy": "components.test_accuracy.component",
    "LabelIssues": "components.label_issues.component",
    "Duplicates": "components.duplicates.component",
    "Outliers": "components.outliers.component",
    "QualityReport": "components.quality_report.component",
    "EvaluationReport": "components.evaluation_report.component",
}


# The components that ask the task for their work (core.task.get_task),
# and the members they call.
TASK_MEMBERS = {
    "TFLiteExport": ("read_tflite_split", "measure_tflite"),
    "TestAccuracy": ("measure_split",),
    "LabelIssues": ("find_label_issues",),
    "QualityReport": ("error_analysis",),
    "EvaluationReport": ("write_evaluation_report",),
}
# Every step that runs this package's code.
CODE_STEPS = ("Transform", "Trainer", *STEP_CODE)


def step_code(step: str, task: PipelineTask) -> tuple[str, tuple[str, ...]]:
    """The module `step` runs for `task`, and the modules of the task's
    functions it calls by the task's name, which imports do not show."""
    if step == "Transform":
        return task.preprocessing_fn.rsplit(".", 1)[0], ()
    if step == "Trainer":
        return task.run_fn.rsplit(".", 1)[0], ()
    members = TASK_MEMBERS.get(step, ())
    return STEP_CODE[step], tuple(
        getattr(task, member).__module__
        for member in members
        if hasattr(task, member)  # the task runs the step
    )


def step_fingerprint(step: str, task: PipelineTask) -> str:
    entry, also = step_code(step, task)
    return code_fingerprint(entry, also=also)


def create_pipeline(
    *,
    task: PipelineTask,
    pipeline_name: str,
    pipeline_root: str,
    data_root: str,
    splits: Sequence[str],
    transform_config: dict[str, Any],
    trainer_config: dict[str, Any],
    eval_config: tfma.EvalConfig,
    class_names: Sequence[str],
    quality: QualityConfig,
    serving_dir: str,
    metadata_connection_config: metadata.ConnectionConfigType | None,
    beam_pipeline_args: Sequence[str] = (),
    enable_cache: bool = True,
    compare_with_blessed: bool = True,
) -> tfx.dsl.Pipeline:
    """Build the pipeline over the ETL's TFRecords in `data_root`.

    Args:
      task: what the pipeline learns and checks (core/task.py).
      pipeline_name: the name MLMD and the TFX CLI know it by.
      pipeline_root: where artifacts are written.
      data_root: the ETL output: `<folder>/*.tfrecord.gz` per split.
      splits: TFX split names to import, among "train", "eval", "test".
      transform_config: custom_config of the task's preprocessing_fn.
      trainer_config: custom_config of the task's run_fn.
      eval_config: what the Evaluator measures and what blesses a model.
      class_names: the label of each class index.
      quality: settings of the data-quality analyses, which run where
        the task has them.
      serving_dir: where the Pusher puts a blessed model.
      metadata_connection_config: MLMD store; None where the orchestrator
        provides it (Kubeflow).
      beam_pipeline_args: options of the Beam-powered components.
      enable_cache: reuse executions whose inputs did not change.
      compare_with_blessed: evaluate against the latest blessed model;
        its resolver needs an orchestrator that runs resolver steps.

    Each step that runs this package's code carries a fingerprint of the
    modules it imports (core/code_version.py): it reruns when they
    change, and only then.
    """
    # Read the ETL's TFRecords as they are, one split per folder.
    example_gen = tfx.components.ImportExampleGen(
        input_base=data_root,
        input_config=tfx.proto.Input(
            splits=[
                tfx.proto.Input.Split(
                    name=split, pattern=f"{SPLIT_FOLDERS[split]}/*"
                )
                for split in splits
            ]
        ),
    )
    # Per-split statistics of every feature, image properties included.
    statistics_gen = tfx.components.StatisticsGen(
        examples=example_gen.outputs["examples"]
    )
    # A schema inferred from those statistics.
    schema_gen = tfx.components.SchemaGen(
        statistics=statistics_gen.outputs["statistics"],
        infer_feature_shape=True,
    )
    # Anomalies of each split against the schema.
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"],
        schema=schema_gen.outputs["schema"],
    )
    # Decode, resize, scale and clean the images inside the graph, so
    # training and serving preprocess alike.
    transform = tfx.components.Transform(
        examples=example_gen.outputs["examples"],
        schema=schema_gen.outputs["schema"],
        preprocessing_fn=task.preprocessing_fn,
        custom_config={
            **transform_config,
            CODE_VERSION_KEY: step_fingerprint("Transform", task),
        },
    )
    # Train the fixed model; keep the epoch with the best eval accuracy.
    trainer = tfx.components.Trainer(
        run_fn=task.run_fn,
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        train_args=tfx.proto.TrainArgs(splits=["train"]),
        eval_args=tfx.proto.EvalArgs(splits=["eval"]),
        custom_config={
            **trainer_config,
            CODE_VERSION_KEY: step_fingerprint("Trainer", task),
        },
    )
    # The latest blessed model, to compare the new one against.
    baseline = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
        model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        model_blessing=tfx.dsl.Channel(
            type=tfx.types.standard_artifacts.ModelBlessing
        ),
    ).with_id("latest_blessed_model")
    # Accuracy by class and by image property; blesses or not.
    evaluator = tfx.components.Evaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=(
            baseline.outputs["model"] if compare_with_blessed else None
        ),
        eval_config=eval_config,
    )
    # float32 and int8 TFLite models, with the int8 model's accuracy.
    tflite_export = TFLiteExport(
        model=trainer.outputs["model"],
        examples=transform.outputs["transformed_examples"],
        task=task.name,
        code_version=step_fingerprint("TFLiteExport", task),
    )
    # Keras and int8 accuracy on the test split, sliced as the Evaluator
    # slices; for the user's judgement, the blessing stays on eval.
    test_accuracy = (
        [
            TestAccuracy(
                model=trainer.outputs["model"],
                tflite_model=tflite_export.outputs["tflite_model"],
                examples=example_gen.outputs["examples"],
                transformed_examples=transform.outputs["transformed_examples"],
                class_names=json.dumps(list(class_names)),
                slice_features=json.dumps(list(task.slice_features)),
                task=task.name,
                code_version=step_fingerprint("TestAccuracy", task),
            )
        ]
        if "test" in splits
        else []
    )
    # Copy a blessed model to the serving folder.
    pusher = tfx.components.Pusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(
                base_directory=serving_dir
            )
        ),
    )
    # The report: the task's evaluation alone while its data-quality
    # analyses are to come, else the analyses and the quality report.
    analyses = (
        [
            EvaluationReport(
                model=trainer.outputs["model"],
                transformed_examples=transform.outputs["transformed_examples"],
                class_names=json.dumps(list(class_names)),
                title=pipeline_name,
                task=task.name,
                code_version=step_fingerprint("EvaluationReport", task),
            )
        ]
        if isinstance(task, EvaluationReporter)
        else _data_quality_steps(
            get_task(task.name),
            example_gen=example_gen,
            transform=transform,
            trainer=trainer,
            evaluator=evaluator,
            test_accuracy=test_accuracy,
            class_names=class_names,
            quality=quality,
            splits=splits,
            model=trainer_config["model"],
            data_root=data_root,
            title=pipeline_name,
        )
    )
    return tfx.dsl.Pipeline(
        pipeline_name=pipeline_name,
        pipeline_root=pipeline_root,
        components=[
            example_gen,
            statistics_gen,
            schema_gen,
            example_validator,
            transform,
            trainer,
            *([baseline] if compare_with_blessed else []),
            evaluator,
            tflite_export,
            *test_accuracy,
            pusher,
            *analyses,
        ],
        enable_cache=enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=list(beam_pipeline_args),
    )


def _data_quality_steps(
    task: Task,
    *,
    example_gen: tfx.components.ImportExampleGen,
    transform: tfx.components.Transform,
    trainer: tfx.components.Trainer,
    evaluator: tfx.components.Evaluator,
    test_accuracy: list[Any],
    class_names: Sequence[str],
    quality: QualityConfig,
    splits: Sequence[str],
    model: str,
    data_root: str,
    title: str,
) -> list[Any]:
    """LabelIssues, Duplicates, Outliers and the QualityReport over them,
    for a task that has them."""
    # Suspected label errors: confident learning on out-of-sample
    # probabilities of train, eval and test images; test is judged but
    # never learnt from, so that it stays a fair measure.
    judged = [s for s in ("train", "eval", "test") if s in splits]
    label_issues = LabelIssues(
        examples=example_gen.outputs["examples"],
        transformed_examples=transform.outputs["transformed_examples"],
        class_names=json.dumps(list(class_names)),
        task=task.name,
        model=model,
        method=quality.label_method,
        folds=quality.folds,
        epochs=quality.label_epochs,
        rounds=quality.label_rounds,
        splits=json.dumps(judged),
        never_fit_folders=json.dumps(
            [SPLIT_FOLDERS["test"]] if "test" in splits else []
        ),
        code_version=step_fingerprint("LabelIssues", task),
    )
    # Exact and near-duplicates, leaks across splits.
    duplicates = Duplicates(
        examples=example_gen.outputs["examples"],
        max_distance=quality.near_duplicate_distance,
        code_version=step_fingerprint("Duplicates", task),
    )
    # Blank, dark, blurry, odd-size images; embedding-space outliers.
    outliers = Outliers(
        examples=example_gen.outputs["examples"],
        transformed_examples=transform.outputs["transformed_examples"],
        model=trainer.outputs["model"],
        fence=quality.outlier_fence,
        code_version=step_fingerprint("Outliers", task),
    )
    # report.html and issues.csv: the findings and the error analysis.
    quality_report = QualityReport(
        examples=example_gen.outputs["examples"],
        transformed_examples=transform.outputs["transformed_examples"],
        model=trainer.outputs["model"],
        evaluation=evaluator.outputs["evaluation"],
        label_issues=label_issues.outputs["label_issues"],
        duplicates=duplicates.outputs["duplicates"],
        outliers=outliers.outputs["outliers"],
        class_names=json.dumps(list(class_names)),
        etl_dir=data_root,
        budget=quality.budget,
        title=title,
        task=task.name,
        test_accuracy=(
            test_accuracy[0].outputs["accuracy"] if test_accuracy else None
        ),
        code_version=step_fingerprint("QualityReport", task),
    )
    return [label_issues, duplicates, outliers, quality_report]
