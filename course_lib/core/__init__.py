"""What every chapter uses: the training loop, the model cache, linear probes and baselines, timing.
"""

from course_lib.core.cache import (
    code_fingerprint,
    config_key,
    load_or_train,
)
from course_lib.core.probes import (
    majority_accuracy,
    probe_predictions,
    standardize_layers,
    train_probe,
)
from course_lib.core.timing import (
    measure_ms,
    step_times,
)
from course_lib.core.train import (
    Batch,
    History,
    StepFn,
    TrainConfig,
    batch_stream,
    check_state_dict,
    default_step,
    fit,
    learning_rate,
    load_checkpoint,
    run_evaluation,
    save_checkpoint,
    to_device,
)

__all__ = [
    "Batch",
    "batch_stream",
    "check_state_dict",
    "code_fingerprint",
    "config_key",
    "default_step",
    "fit",
    "History",
    "learning_rate",
    "load_checkpoint",
    "load_or_train",
    "majority_accuracy",
    "measure_ms",
    "probe_predictions",
    "run_evaluation",
    "save_checkpoint",
    "standardize_layers",
    "step_times",
    "StepFn",
    "to_device",
    "train_probe",
    "TrainConfig",
]
