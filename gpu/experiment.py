"""The paper's experiment (THEOREMS.md §6) as a grid of runs: model x learning rate x clip (none or a threshold)
x seed.  One seed gives one initialisation and one sequence of mini-batches, so the runs of one seed and one
learning rate differ only by clipping.  Runs go to worker processes (spawned: torch and fork do not mix); every
result is a plain dict, ready for JSON."""
import functools
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass

import torch

from clipcheck.gpu import findings, image_data, models, text_data
from clipcheck.gpu.presets import MODELS
from clipcheck.gpu.train import TrainConfig, train


@dataclass(frozen=True)
class RunSpec:
    """One run of the grid; clip None is the unclipped run."""

    model: str
    lr: float
    clip: float | None
    seed: int


def plan(settings, seeds):
    """The runs of the grid, per model in `settings` (dicts with lrs and clips), for each seed in `seeds`."""
    return [RunSpec(model, float(lr), None if clip is None else float(clip), seed)
            for model, chosen in settings.items() for lr in chosen["lrs"]
            for clip in (None, *chosen["clips"]) for seed in seeds]


def pick_device(name="auto"):
    """torch.device for "auto" (CUDA when available), "cpu" or "cuda"."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: no CUDA device is available to torch (use --device cpu or auto)")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"--device must be auto, cpu or cuda, got {name!r}")
    return torch.device(name)


def load_data(model, settings, data_path=None):
    """(training examples, held-out examples, description) for `model`; data_path None: the bundled defaults.
    Examples are (inputs, targets) with the same first dimension."""
    if model == "lstm":
        corpus = text_data.pydoc_corpus(settings["vocab_size"]) if data_path is None else \
            text_data.read_ptb(data_path)
        windows = text_data.sequences(corpus.train, settings["seq_len"])
        held = text_data.sequences(corpus.valid, min(settings["seq_len"], len(corpus.valid) - 1))
        held = held[:settings["heldout_size"]]
        return (windows[:, :-1], windows[:, 1:]), (held[:, :-1], held[:, 1:]), {
            "source": corpus.source, "vocabulary": len(corpus.vocabulary), "train_tokens": int(corpus.train.numel()),
            "heldout": f"{len(held)} windows of the validation text", "heldout_metric": "perplexity"}
    if model == "resnet20":
        images = image_data.digits_images(settings["image_size"]) if data_path is None else \
            image_data.read_cifar10(data_path)
        size = settings["heldout_size"]
        return (images.images, images.labels), (images.heldout_images[:size], images.heldout_labels[:size]), {
            "source": images.source, "images": int(len(images.labels)), "shape": list(images.images.shape[1:]),
            "heldout": f"{min(size, len(images.heldout_labels))} of {images.heldout_source}",
            "heldout_metric": "loss"}
    raise ValueError(f"--model must be one of {', '.join(MODELS)}, got {model!r}")


def build_model(model, settings, data_info, seed):
    """A freshly initialised network and its loss; the same seed gives the same weights."""
    torch.manual_seed(seed)
    if model == "lstm":
        net = models.LSTMLanguageModel(data_info["vocabulary"], settings["hidden_size"], settings["num_layers"],
                                       settings["embedding_size"], settings["dropout_input"],
                                       settings["dropout_hidden"], settings["dropout_output"])
        return net, models.language_model_loss
    net = models.ResNet20(num_classes=10, in_channels=data_info["shape"][0])
    return net, models.classification_loss


@functools.lru_cache(maxsize=4)
def _cached_data(model, frozen_settings, data_path):
    return load_data(model, dict(frozen_settings), data_path)


def _freeze(settings):
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in settings.items()))


def run_one(spec, settings, data_path, device, options):
    """Train one run of the grid; returns a dict: the spec, status, divergence, seconds, clipped fraction, the
    per-step records, the probe records, the held-out losses and the run's summary (findings.run_summary, computed
    here so that workers share the cost of its bootstrap).  `options`: hvp, amp, s_grid, bootstrap,
    envelope_bootstrap, bootstrap_seed."""
    examples, heldout, info = _cached_data(spec.model, _freeze(settings), data_path)
    config = TrainConfig(steps=settings["steps"], lr=spec.lr, clip=spec.clip, batch_size=settings["batch_size"],
                         probe_every=settings["probe_every"], probe_size=settings["probe_size"],
                         s_grid=tuple(options["s_grid"]), momentum=settings["momentum"], seed=spec.seed,
                         hvp=options["hvp"], mode=settings["mode"], heldout_every=settings["heldout_every"],
                         amp=options["amp"])
    net, loss_fn = build_model(spec.model, settings, info, spec.seed)
    result = train(net, loss_fn, examples, config, device, heldout=heldout)
    out = {**asdict(spec), "status": result.status, "diverged": result.diverged,
           "seconds": round(result.seconds, 2), "clipped_fraction": result.clipped_fraction,
           "steps_done": len(result.records), "records": result.records, "probes": result.probes,
           "heldout": result.heldout}
    out["summary"] = findings.run_summary(out, options["bootstrap"], options["envelope_bootstrap"],
                                          options["bootstrap_seed"])
    return out


def _worker_setup(threads, deterministic):
    if threads is not None:
        torch.set_num_threads(threads)
    if deterministic:
        torch.use_deterministic_algorithms(True)


def run_grid(specs, settings, data_paths, device, options, workers=1, threads=None, deterministic=False,
             done=None):
    """Every run of `specs`, in `workers` spawned processes (1: in this process); results in the order of specs.
    `settings` and `data_paths` are per model; `done(result)` is called as each run finishes."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    jobs = [(spec, settings[spec.model], data_paths.get(spec.model), str(device), options) for spec in specs]
    results = [None] * len(jobs)
    if workers == 1:
        for i, job in enumerate(jobs):
            results[i] = run_one(*job)
            if done is not None:
                done(results[i])
        return results
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_setup,
                             initargs=(threads, deterministic)) as pool:
        futures = {pool.submit(run_one, *job): i for i, job in enumerate(jobs)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            if done is not None:
                done(results[futures[future]])
    return results
