"""The paper's experiment for one model (THEOREMS.md §6): the same initialisation and batches, trained once with
clipping and once without, the smoothness probe on both.  Settings are plain dicts so they go into JSON as is."""
import torch

from clipcheck.gpu import image_data, models, text_data
from clipcheck.gpu.presets import MODELS
from clipcheck.gpu.train import TrainConfig, train


def pick_device(name="auto"):
    """torch.device for "auto" (CUDA when available), "cpu" or "cuda"."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: no CUDA device is available to torch (use --device cpu or auto)")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"--device must be auto, cpu or cuda, got {name!r}")
    return torch.device(name)


def load_examples(model, settings, data_path=None):
    """(inputs, targets) for `model`, and a description of the source.  data_path None: the bundled defaults."""
    if model == "lstm":
        if data_path is None:
            corpus = text_data.pydoc_corpus(settings["vocab_size"])
        else:
            corpus = text_data.read_ptb(data_path)
        windows = text_data.sequences(corpus.train, settings["seq_len"])
        return (windows[:, :-1], windows[:, 1:]), {"source": corpus.source, "vocabulary": len(corpus.vocabulary),
                                                     "train_tokens": int(corpus.train.numel())}
    if model == "resnet20":
        images = image_data.digits_images(settings["image_size"]) if data_path is None else \
            image_data.read_cifar10(data_path)
        return (images.images, images.labels), {"source": images.source, "images": int(len(images.labels)),
                                                "shape": list(images.images.shape[1:])}
    raise ValueError(f"--model must be one of {', '.join(MODELS)}, got {model!r}")


def build_model(model, settings, data_info, seed):
    """A freshly initialised network; the same seed gives the same weights."""
    torch.manual_seed(seed)
    if model == "lstm":
        net = models.LSTMLanguageModel(data_info["vocabulary"], settings["hidden_size"], settings["num_layers"])
        return net, models.language_model_loss
    net = models.ResNet20(num_classes=10, in_channels=data_info["shape"][0])
    return net, models.classification_loss


def run_pair(model, settings, examples, data_info, seed, device, progress=None):
    """Train `model` clipped and unclipped from the same initialisation; returns {"clipped": TrainResult, ...}."""
    results = {}
    for run, clip in (("clipped", settings["clip"]), ("unclipped", None)):
        config = TrainConfig(steps=settings["steps"], lr=settings["lr"], clip=clip,
                             batch_size=settings["batch_size"], probe_every=settings["probe_every"],
                             probe_size=settings["probe_size"], s_grid=tuple(settings["s_grid"]),
                             momentum=settings["momentum"], seed=seed)
        net, loss_fn = build_model(model, settings, data_info, seed)
        results[run] = train(net, loss_fn, examples, config, device,
                             progress=None if progress is None else (lambda i, run=run: progress(run, i)))
    return results
