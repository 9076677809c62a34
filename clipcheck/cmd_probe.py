"""`clipcheck probe`: measure local smoothness against gradient norm while training real networks (THEOREMS.md §6).

Trains an LSTM language model and ResNet-20, each once with gradient clipping and once without, probes
L_hat = max_s ||grad f(x + s d) - grad f(x)|| / (s ||d||) along every few steps, and writes to --out:
trajectory.csv (one row per step), summary.json (versions, every parameter, Spearman rho with a bootstrap interval
and the fitted (L0, L1) envelope per run), smoothness_<model>.png and training_curves.png.
torch is an optional extra; this module imports it only inside run().
"""
import argparse
import csv
import importlib.util
import json
import math
import platform
import sys
import time
from importlib import metadata
from pathlib import Path

from clipcheck import __version__
from clipcheck.gpu.presets import MODELS, PRESETS

INSTALL_HINT = ("clipcheck probe needs torch and scikit-learn: pip install -e '.[torch]' "
                "(for the CPU build of torch, first: pip install torch==2.13.0)")
# options that override a preset setting, by name of the setting (None: not given, keep the preset's)
_OVERRIDES = ("steps", "lr", "clip", "batch_size", "probe_every", "probe_size", "momentum", "hidden_size",
              "vocab_size", "seq_len", "image_size")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of `clipcheck probe` to `parser`."""
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", dest="preset", action="store_const", const="quick", default="quick",
                      help="small models and few steps, about 2 minutes on 2 CPU cores (default)")
    size.add_argument("--full", dest="preset", action="store_const", const="full",
                      help="paper-sized models and thousands of steps; meant for a GPU")
    parser.add_argument("--out", default="clipcheck-probe", metavar="DIR",
                        help="folder for trajectory.csv, summary.json and the figures (default: %(default)s)")
    parser.add_argument("--data", action="append", default=[], metavar="PATH",
                        help="a Penn Treebank folder (ptb.train.txt or train.txt, ...) for the LSTM, or a CIFAR-10 "
                             "python folder (data_batch_1, ...) for ResNet-20; layout detected; may be given once "
                             "for each. Default: the stdlib's pydoc_data text and scikit-learn's digits")
    parser.add_argument("--model", choices=("lstm", "resnet20", "both"), default="both",
                        help="which network to train (default: %(default)s)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="auto picks CUDA when torch finds it (default: %(default)s)")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="CPU threads for torch (default: 1 with --quick, whose small models gain little from "
                             "more and lose much when other jobs share the cores; torch's choice with --full)")
    parser.add_argument("--seed", type=int, default=0, metavar="N",
                        help="seed for initialisation, batches and bootstrap; clipped and unclipped runs share it "
                             "(default: %(default)s)")
    per_model = [("steps", int, "N", "SGD steps per run"),
                 ("lr", float, "X", "learning rate of both runs"),
                 ("clip", float, "X", "threshold of clip_grad_norm_ in the clipped run (eta_c = lr, gamma = clip)"),
                 ("momentum", float, "X", "SGD momentum (0: plain SGD as in the theory)"),
                 ("batch_size", int, "N", "training mini-batch size"),
                 ("probe_every", int, "N", "probe smoothness every N steps"),
                 ("probe_size", int, "N", "examples in the fixed probe batch on which both gradients are taken")]
    for name, kind, metavar, text in per_model:
        parser.add_argument("--" + name.replace("_", "-"), type=kind, metavar=metavar,
                            help=f"{text} (default: {_preset_values(name)})")
    parser.add_argument("--s-grid", default="0.1,0.25,0.5,0.75,1", metavar="LIST",
                        help="comma-separated fractions s in (0, 1] of the step at which gradients are compared "
                             "(default: %(default)s)")
    parser.add_argument("--quantile", type=float, default=1.0, metavar="Q",
                        help="share of probe points the fitted L0 + L1*g envelope must lie above "
                             "(default: %(default)s, all)")
    parser.add_argument("--bootstrap", type=int, default=2000, metavar="N",
                        help="bootstrap resamples for the interval of Spearman rho (default: %(default)s)")
    for name, model, text in (("hidden_size", "lstm", "LSTM embedding = hidden size"),
                              ("vocab_size", "lstm", "vocabulary kept from the default text"),
                              ("seq_len", "lstm", "LSTM sequence length in tokens"),
                              ("image_size", "resnet20", "side of the resized digits in pixels")):
        parser.add_argument("--" + name.replace("_", "-"), type=int, metavar="N",
                            help=f"{text} (default: {_preset_values(name, (model,))})")


def _preset_values(name, models=MODELS):
    """The presets' values of one setting, for --help: "quick 200 (lstm), 120 (resnet20); full 6000"."""
    parts = []
    for preset, settings in PRESETS.items():
        values = {model: settings[model][name] for model in models}
        if len(set(values.values())) == 1:
            parts.append(f"{preset} {next(iter(values.values())):g}")
        else:
            parts.append(f"{preset} " + ", ".join(f"{v:g} ({m})" for m, v in values.items()))
    return "; ".join(parts)


def run(args) -> int:
    """Train, probe, analyse and write the outputs; 0 on success, 2 when torch is missing."""
    try:
        import torch
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    if importlib.util.find_spec("sklearn") is None:  # the default images; found without the cost of importing
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    from clipcheck.gpu.experiment import pick_device

    models = MODELS if args.model == "both" else (args.model,)
    settings = _settings(args, models)
    data_paths = _assign_data(args.data, models)
    device = pick_device(args.device)
    threads = args.threads if args.threads is not None else 1 if args.preset == "quick" else None
    if threads is not None and threads < 1:
        raise ValueError(f"--threads must be at least 1, got {threads}")
    if args.bootstrap < 0:
        raise ValueError(f"--bootstrap must be nonnegative, got {args.bootstrap}")
    if not (0 < args.quantile <= 1):
        raise ValueError(f"--quantile must be in (0, 1], got {args.quantile}")
    previous_threads = torch.get_num_threads()
    try:
        if threads is not None:
            torch.set_num_threads(threads)
        _train_and_write(args, models, settings, data_paths, device, torch)
    finally:
        torch.set_num_threads(previous_threads)  # run() may be called from a longer-lived process (tests)
    return 0


def _train_and_write(args, models, settings, data_paths, device, torch):
    from tqdm import tqdm

    from clipcheck.gpu import analysis, experiment

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    summary = {"versions": _versions(torch), "device": str(device), "threads": torch.get_num_threads(),
               "preset": args.preset, "seed": args.seed,
               "arguments": {k: v for k, v in vars(args).items() if not callable(v)}, "models": {}}
    results = {}
    total = sum(2 * settings[m]["steps"] for m in models)
    with tqdm(total=total, unit="step", file=sys.stderr) as bar:
        for model in models:
            bar.set_description(f"{model} data")
            examples, data_info = experiment.load_examples(model, settings[model], data_paths.get(model))

            def progress(run, _iteration, model=model):
                bar.set_description(f"{model} {run}")
                bar.update(1)

            results[model] = experiment.run_pair(model, settings[model], examples, data_info, args.seed, device,
                                                 progress)
            summary["models"][model] = {"settings": settings[model], "data": data_info, "runs": {
                run: {"status": r.status, "steps_done": len(r.records), "seconds": round(r.seconds, 2),
                      **analysis.summarise(r.records, args.quantile, args.bootstrap, args.seed)}
                for run, r in results[model].items()}}
            bar.update(2 * settings[model]["steps"] - sum(len(r.records) for r in results[model].values()))
    summary["seconds"] = round(time.perf_counter() - start, 1)

    _write_csv(out / "trajectory.csv", results)
    (out / "summary.json").write_text(json.dumps(_json_safe(summary), indent=2) + "\n")
    figures = _plot(out, results, summary, analysis)
    _print_table(summary)
    print(f"wrote {out / 'trajectory.csv'}, {out / 'summary.json'}, " + ", ".join(str(f) for f in figures))


def _settings(args, models):
    try:
        s_grid = [float(s) for s in args.s_grid.split(",")]
    except ValueError:
        raise ValueError(f"--s-grid must be comma-separated numbers, got {args.s_grid!r}") from None
    if not s_grid or any(not (0 < s <= 1) for s in s_grid):
        raise ValueError(f"--s-grid values must lie in (0, 1], got {args.s_grid!r}")
    for name in _OVERRIDES:
        value = getattr(args, name)
        if value is None:
            continue
        option = "--" + name.replace("_", "-")
        if name == "momentum" and not (0 <= value < 1):
            raise ValueError(f"{option} must be in [0, 1), got {value}")
        if name != "momentum" and not (value > 0 and math.isfinite(value)):
            raise ValueError(f"{option} must be positive, got {value}")
    settings = {}
    for model in models:
        chosen = dict(PRESETS[args.preset][model], s_grid=s_grid)
        chosen.update({k: getattr(args, k) for k in _OVERRIDES if k in chosen and getattr(args, k) is not None})
        settings[model] = chosen
    return settings


def _assign_data(paths, models):
    from clipcheck.gpu.image_data import is_cifar_folder
    from clipcheck.gpu.text_data import is_ptb_folder

    assigned = {}
    for path in paths:
        if not Path(path).is_dir():
            raise ValueError(f"--data {path}: no such folder")
        model = "lstm" if is_ptb_folder(path) else "resnet20" if is_cifar_folder(path) else None
        if model is None:
            raise ValueError(f"--data {path}: neither a Penn Treebank folder (ptb.train.txt, ptb.valid.txt, "
                             f"ptb.test.txt) nor a CIFAR-10 python folder (data_batch_1, ...)")
        if model not in models:
            raise ValueError(f"--data {path}: holds data for {model}, which --model does not train")
        if model in assigned:
            raise ValueError(f"--data {path}: a second folder for {model} (first: {assigned[model]})")
        assigned[model] = path
    return assigned


def _versions(torch):
    def version(package):
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {"clipcheck": __version__, "python": platform.python_version(), "torch": torch.__version__,
            "numpy": version("numpy"), "scipy": version("scipy"), "scikit-learn": version("scikit-learn"),
            "matplotlib": version("matplotlib")}


def _json_safe(value):
    """NaN and infinity are not JSON: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _write_csv(path, results):
    from clipcheck.gpu.train import TrainResult

    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=("model", "run") + TrainResult.COLUMNS, restval="")
        writer.writeheader()
        for model, runs in results.items():
            for run, result in runs.items():
                for record in result.records:
                    writer.writerow({"model": model, "run": run, **record})


def _plot(out, results, summary, analysis):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    files = []
    for model, runs in results.items():
        fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharex=True, sharey=True)
        for ax, (run, result) in zip(axes, runs.items()):
            iterations, g, smooth = analysis.probe_points(result.records)
            info = summary["models"][model]["runs"][run]
            if g.size:
                dots = ax.scatter(g, smooth, c=iterations, cmap="viridis", s=14)
                fig.colorbar(dots, ax=ax, label="iteration")
            if g.size >= 2 and math.isfinite(info["L0"]):
                line = np.geomspace(g.min(), g.max(), 100)
                ax.plot(line, info["L0"] + info["L1"] * line, "r-",
                        label=f"L0 + L1·g: L0={info['L0']:.3g}, L1={info['L1']:.3g}")
                ax.legend(loc="upper left", fontsize=8)
            ax.set(xscale="log", yscale="log", xlabel="‖∇f(x_t)‖ on the probe batch",
                   title=f"{model}, {run} (lr {summary['models'][model]['settings']['lr']:g}): "
                         f"ρ = {info['spearman_rho']:.2f}")
        _plain_log_ticks(axes[0].xaxis, axes[0].yaxis)  # shared by both panels
        axes[0].set_ylabel("local smoothness L̂_t")
        fig.tight_layout()
        files.append(out / f"smoothness_{model}.png")
        fig.savefig(files[-1], dpi=110)
        plt.close(fig)

    fig, axes = plt.subplots(1, len(results), figsize=(5 * len(results), 4), squeeze=False)
    for ax, (model, runs) in zip(axes[0], results.items()):
        for (run, result), colour in zip(runs.items(), ("tab:blue", "tab:orange")):
            steps = [r["iteration"] for r in result.records]
            ax.plot(steps, [r["train_loss"] for r in result.records], color=colour, alpha=0.3, lw=0.8)
            probed = [r for r in result.records if "probe_loss" in r]
            ax.plot([r["iteration"] for r in probed], [r["probe_loss"] for r in probed], color=colour,
                    label=f"{run} (probe batch)" + ("" if result.status == "finished" else f", {result.status}"))
        ax.set(xlabel="iteration", ylabel="loss (faint: training mini-batch)", title=model, yscale="log")
        _plain_log_ticks(ax.yaxis)
        ax.legend()
    fig.tight_layout()
    files.append(out / "training_curves.png")
    fig.savefig(files[-1], dpi=110)
    plt.close(fig)
    return files


def _plain_log_ticks(*axes):
    """Label log axes at 1, 2, 5 x 10^k in plain numbers: matplotlib's default labels minor ticks of short axes
    in scientific notation, and they collide."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    for axis in axes:
        axis.set_major_locator(LogLocator(subs=(1, 2, 5)))
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        axis.set_minor_formatter(NullFormatter())


def _print_table(summary):
    header = f"{'model':9} {'run':9} {'lr':>6} {'clip':>5} {'status':9} {'clipped':>7} {'probes':>6} " \
             f"{'spearman rho [95% CI]':>22} {'L0':>9} {'L1':>9} {'loss':>13}"
    print(header)
    print("-" * len(header))
    for model, entry in summary["models"].items():
        s = entry["settings"]
        for run, r in entry["runs"].items():
            low, high = r["spearman_interval"]
            print(f"{model:9} {run:9} {s['lr']:6g} {s['clip'] if run == 'clipped' else '-':>5} {r['status']:9} "
                  f"{r['clipped_fraction']:7.0%} {r['probes']:6d} "
                  f"{r['spearman_rho']:6.2f} [{low:5.2f}, {high:5.2f}]{'':2} {r['L0']:9.3g} {r['L1']:9.3g} "
                  f"{r['first_probe_loss']:5.2f} → {r['last_probe_loss']:5.2f}")
    print(f"({summary['seconds']:.0f} s on {summary['device']}; rho between log ‖∇f‖ and log L̂ over the probed "
          "steps; envelope = smallest L0 + L1·‖∇f‖ above the points, ZHSJ-Def1)")
