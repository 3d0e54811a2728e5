"""What every chapter uses: the training loop, the model cache, linear probes and baselines, timing, seeds.
"""

from course_lib.core.cache import (
    NO_WEIGHTS,
    PACKAGE_ROOT,
    CacheError,
    CacheWarning,
    Recipe,
    code_fingerprint,
    import_closure,
    models_folder,
    pretrained,
    recipe_key,
    seeded,
    torch_threads,
)
from course_lib.core.probes import (
    majority_accuracy,
    probe_accuracy_by,
    probe_predictions,
    standardize_layers,
    train_probe,
)
from course_lib.core.spread import (
    Spread,
    spread,
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
    "CacheError",
    "CacheWarning",
    "check_state_dict",
    "code_fingerprint",
    "default_step",
    "fit",
    "History",
    "import_closure",
    "learning_rate",
    "load_checkpoint",
    "majority_accuracy",
    "measure_ms",
    "models_folder",
    "NO_WEIGHTS",
    "PACKAGE_ROOT",
    "pretrained",
    "probe_accuracy_by",
    "probe_predictions",
    "Recipe",
    "recipe_key",
    "run_evaluation",
    "save_checkpoint",
    "seeded",
    "Spread",
    "spread",
    "standardize_layers",
    "step_times",
    "StepFn",
    "to_device",
    "torch_threads",
    "train_probe",
    "TrainConfig",
]
