"""Reading and validating job and model files (the suite's only TOML reader).

- :mod:`~nnqm_ppl.spec.reader`: :class:`SpecError`, TOML, ``--set`` overrides with their origin,
  the typed :class:`Table`.
- :mod:`~nnqm_ppl.spec.models`: one schema (frozen dataclass + reader) per model ``kind``,
  registered in :data:`MODEL_KINDS`, and the vocabularies of their fields.
- :mod:`~nnqm_ppl.spec.fit`: the ``fit`` task's data classes, which the fitting layer takes.
- :mod:`~nnqm_ppl.spec.job`: :class:`SamplerSpec`, :class:`GatesSpec`, :class:`Job` and the
  loaders. The job loader takes the task registry as an argument; the tasks layer binds it
  (:func:`nnqm_ppl.tasks.load_job`, :func:`nnqm_ppl.tasks.load_file`). Each task's own schema
  lives beside the task (``nnqm_ppl/tasks/*_schema.py``).

Adding a model kind is a schema in :mod:`~nnqm_ppl.spec.models` and one entry in :data:`MODEL_KINDS`.
"""

from nnqm_ppl.spec.fit import FIT_CRITERIA, FIT_KINDS, NETWORK_FIT_PARAMETERS, PRIOR_DISTS, FitTask, Prior
from nnqm_ppl.spec.job import SAMPLER_METHODS, GatesSpec, Job, SamplerSpec, TaskSchema, load_model
from nnqm_ppl.spec.models import (
    A_PRIORS,
    DEEP_ACTIVATIONS,
    DEEP_PARAMETERS,
    KKL_BASES,
    KKL_KERNELS,
    KKL_PRIORS,
    MLP_ACTIVATIONS,
    MODEL_KINDS,
    NETWORKS,
    NEURAL_ARCHITECTURES,
    PATH_DIMENSIONS,
    PROCESS_SPECS,
    DeepNNQMSpec,
    KKLSpec,
    NeuralFieldSpec,
    OUSpec,
    PathIntegralSpec,
    ProcessGrid,
)
from nnqm_ppl.spec.reader import SpecError, Table, parse_override

__all__ = [
    "A_PRIORS",
    "DEEP_ACTIVATIONS",
    "DEEP_PARAMETERS",
    "FIT_CRITERIA",
    "FIT_KINDS",
    "KKL_BASES",
    "KKL_KERNELS",
    "KKL_PRIORS",
    "MLP_ACTIVATIONS",
    "MODEL_KINDS",
    "NETWORKS",
    "NETWORK_FIT_PARAMETERS",
    "NEURAL_ARCHITECTURES",
    "PRIOR_DISTS",
    "PROCESS_SPECS",
    "SAMPLER_METHODS",
    "DeepNNQMSpec",
    "FitTask",
    "GatesSpec",
    "Job",
    "KKLSpec",
    "NeuralFieldSpec",
    "OUSpec",
    "PATH_DIMENSIONS",
    "PathIntegralSpec",
    "Prior",
    "ProcessGrid",
    "SamplerSpec",
    "SpecError",
    "Table",
    "TaskSchema",
    "load_model",
    "parse_override",
]
