"""`clipcheck probe`: local smoothness against gradient norm while training real networks (THEOREMS.md §6).

Trains an LSTM language model and ResNet-20 on a grid of learning rate x clip (none or a threshold) x seed, with
the smoothness probe (clipcheck.gpu.SmoothnessProbe) on every run, and writes to --out: steps.csv, probes.csv and
heldout.csv (every step, probe and held-out evaluation of every run), summary.json (versions, settings, one
summary per run, per setting over seeds, clipped against unclipped), and the figures smoothness_<model>.png,
heldout.png and rho.png.  torch is an optional extra; this module imports it only inside run().
"""
import argparse
import csv
import importlib.util
import json
import math
import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path

from clipcheck import __version__
from clipcheck.gpu.presets import MODELS, PRESETS

INSTALL_HINT = ("clipcheck probe needs torch and scikit-learn: pip install -e '.[torch]' "
                "(for the CPU build of torch, first: pip install torch==2.13.0)")
# options that override a preset setting of every model that has it (None: not given, keep the preset's)
_OVERRIDES = ("steps", "batch_size", "probe_every", "probe_size", "momentum", "heldout_every", "heldout_size",
              "hidden_size", "embedding_size", "num_layers", "vocab_size", "seq_len", "image_size")
_LISTS = ("lrs", "clips")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of `clipcheck probe` to `parser`."""
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", dest="preset", action="store_const", const="quick", default="quick",
                      help="small models on bundled data, 3 seeds; a few minutes on 2 CPU cores (default)")
    size.add_argument("--full", dest="preset", action="store_const", const="full",
                      help="the paper's setting (AWD-LSTM-style on Penn Treebank, ResNet-20 on CIFAR-10) on the "
                           "folders given with --data, 5 seeds; meant for a GPU")
    parser.add_argument("--out", default="clipcheck-probe", metavar="DIR",
                        help="folder for the CSV files, summary.json and the figures (default: %(default)s)")
    parser.add_argument("--data", action="append", default=[], metavar="PATH",
                        help="a Penn Treebank folder (ptb.train.txt or train.txt, ...) for the LSTM, or a CIFAR-10 "
                             "python folder (data_batch_1, ..., test_batch) for ResNet-20; layout detected; once for "
                             "each. Nothing is downloaded. --quick default: the stdlib's pydoc_data text and "
                             "scikit-learn's digits; --full needs it")
    parser.add_argument("--model", choices=("lstm", "resnet20", "both"), default="both",
                        help="which network to train (default: %(default)s)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="auto picks CUDA when torch finds it (default: %(default)s)")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="runs trained side by side in worker processes (default: 2 on the CPU with --quick, "
                             "else 1)")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="CPU threads for torch per worker (default: 1 with --quick, whose small models gain "
                             "little from more; torch's choice with --full)")
    parser.add_argument("--seeds", type=int, metavar="N",
                        help=f"seeds per setting (default: {_preset_seeds()}); a seed fixes initialisation and "
                             "mini-batches, shared by the runs of one learning rate")
    parser.add_argument("--seed", type=int, default=0, metavar="N",
                        help="first seed; the runs use N, N+1, ... (default: %(default)s)")
    parser.add_argument("--lrs", metavar="LIST",
                        help="comma-separated learning rates, for every model trained (so mostly with --model; "
                             f"default: {_preset_values('lrs')})")
    parser.add_argument("--clips", metavar="LIST",
                        help="comma-separated clip thresholds, each trained beside an unclipped run (eta_c = lr, "
                             f"gamma = clip), for every model trained (default: {_preset_values('clips')})")
    per_model = [("steps", int, "SGD steps per run"), ("batch_size", int, "training mini-batch size"),
                 ("probe_every", int, "probe every N steps"),
                 ("probe_size", int, "examples in the fixed probe batch on which every gradient is taken"),
                 ("momentum", float, "SGD momentum (0: plain SGD as in the theory)"),
                 ("heldout_every", int, "evaluate the held-out loss every N steps"),
                 ("heldout_size", int, "held-out examples (LSTM: windows of the validation text)"),
                 ("hidden_size", int, "LSTM hidden units"), ("embedding_size", int, "LSTM embedding size"),
                 ("num_layers", int, "LSTM layers"), ("vocab_size", int, "vocabulary kept from the default text"),
                 ("seq_len", int, "LSTM sequence length in tokens"), ("image_size", int, "image side in pixels")]
    for name, kind, text in per_model:
        parser.add_argument("--" + name.replace("_", "-"), type=kind, metavar="X" if kind is float else "N",
                            help=f"{text} (default: {_preset_values(name)})")
    parser.add_argument("--s-grid", default="0.1,0.25,0.5,0.75,1", metavar="LIST",
                        help="comma-separated, increasing fractions s in (0, 1] of the step at which gradients are "
                             "compared (default: %(default)s)")
    parser.add_argument("--hvp", action="store_true",
                        help="also measure the exact directional curvature ||H d||/||d|| by a Hessian-vector "
                             "product (one more backward pass per probe)")
    parser.add_argument("--amp", action="store_true",
                        help="train under autocast (float16 with GradScaler on CUDA, bfloat16 on the CPU); the "
                             "probe computes at full precision")
    parser.add_argument("--deterministic", action="store_true",
                        help="torch.use_deterministic_algorithms(True), and CUBLAS_WORKSPACE_CONFIG=:4096:8 on CUDA "
                             "(slower; bitwise-repeatable runs on one machine and software stack)")
    parser.add_argument("--bootstrap", type=int, default=2000, metavar="N",
                        help="bootstrap resamples for the intervals of rho (default: %(default)s)")
    parser.add_argument("--envelope-bootstrap", type=int, default=100, metavar="N",
                        help="bootstrap resamples for the intervals of the (L0, L1) envelope, one linear "
                             "programme each (default: %(default)s)")


def _preset_seeds():
    return "; ".join(f"{preset} {settings['seeds']}" for preset, settings in PRESETS.items())


def _preset_values(name):
    """The presets' values of one setting, for --help: "quick 300 (lstm), 200 (resnet20); full 6000"."""
    def show(value):
        return ",".join(f"{v:g}" for v in value) if isinstance(value, tuple) else f"{value:g}"

    parts = []
    for preset, settings in PRESETS.items():
        values = {m: settings[m][name] for m in MODELS if name in settings[m]}
        if len(set(values.values())) == 1:
            parts.append(f"{preset} {show(next(iter(values.values())))}")
        else:
            parts.append(f"{preset} " + ", ".join(f"{show(v)} ({m})" for m, v in values.items()))
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
    if args.preset == "full":
        missing = [m for m in models if m not in data_paths]
        if missing:
            kind = {"lstm": "a Penn Treebank folder", "resnet20": "a CIFAR-10 python folder"}
            raise ValueError("--data: --full trains on the folders you give (nothing is downloaded); missing "
                             + ", ".join(f"{kind[m]} for {m}" for m in missing))
    device = pick_device(args.device)
    threads = args.threads if args.threads is not None else 1 if args.preset == "quick" else None
    workers = args.workers if args.workers is not None else \
        min(2, os.cpu_count() or 1) if args.preset == "quick" and device.type == "cpu" else 1
    for name, value, least in (("--threads", threads, 1), ("--workers", workers, 1), ("--seeds", args.seeds, 1),
                               ("--bootstrap", args.bootstrap, 0),
                               ("--envelope-bootstrap", args.envelope_bootstrap, 0)):
        if value is not None and value < least:
            raise ValueError(f"{name} must be at least {least}, got {value}")
    seeds = list(range(args.seed, args.seed + (args.seeds or PRESETS[args.preset]["seeds"])))
    if args.deterministic and device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # cuBLAS needs it for deterministic GEMMs
    previous = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    try:
        if threads is not None:
            torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(args.deterministic or previous[1])
        _train_and_write(args, settings, seeds, data_paths, device, threads, workers, torch)
    finally:  # run() may be called from a longer-lived process (tests)
        torch.set_num_threads(previous[0])
        torch.use_deterministic_algorithms(previous[1])
    return 0


def _train_and_write(args, settings, seeds, data_paths, device, threads, workers, torch):
    from tqdm import tqdm

    from clipcheck.gpu import experiment, findings

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    options = {"hvp": args.hvp, "amp": args.amp, "s_grid": settings[next(iter(settings))]["s_grid"],
               "bootstrap": args.bootstrap, "envelope_bootstrap": args.envelope_bootstrap, "bootstrap_seed": args.seed}
    specs = experiment.plan(settings, seeds)
    start = time.perf_counter()
    with tqdm(total=len(specs), unit="run", file=sys.stderr) as bar:
        def done(result):
            bar.set_description(f"{result['model']} lr {result['lr']:g} clip {result['clip']} seed {result['seed']}")
            bar.update(1)

        results = experiment.run_grid(specs, settings, data_paths, device, options, workers, threads,
                                      args.deterministic, done)
    seconds = time.perf_counter() - start
    summaries = [r["summary"] for r in results]
    info = {m: experiment.load_data(m, settings[m], data_paths.get(m))[2] for m in settings}
    summary = {
        "versions": _versions(torch), "device": str(device), "workers": workers, "threads_per_worker": threads,
        "preset": args.preset, "seeds": seeds, "seconds": round(seconds, 1),
        "arguments": {k: v for k, v in vars(args).items() if not callable(v)},
        "settings": settings, "data": info,
        "probe_mode_note": "probe mode per model: eval = dropout off, train = batch statistics, one dropout mask "
                           "per probe (clipcheck.gpu.SmoothnessProbe)",
        "runs": [{k: r[k] for k in ("model", "lr", "clip", "seed", "status", "diverged")} | s
                 for r, s in zip(results, summaries)],
        "by_setting": findings.by_setting(results, summaries),
        "clipped_vs_unclipped": findings.comparisons(results, args.bootstrap, args.seed),
    }
    _write_csvs(out, results)
    (out / "summary.json").write_text(json.dumps(_json_safe(summary), indent=2) + "\n")
    figures = _plot(out, results, summary)
    _print_report(summary)
    print(f"wrote {out / 'summary.json'}, steps.csv, probes.csv, heldout.csv, "
          + ", ".join(f.name for f in figures))


def _number_list(option, text):
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"{option} must be comma-separated numbers, got {text!r}") from None
    if any(not (v > 0 and math.isfinite(v)) for v in values):
        raise ValueError(f"{option} values must be positive and finite, got {text!r}")
    return values


def _settings(args, models):
    from clipcheck.gpu.probe import check_s_grid

    try:
        s_grid = list(check_s_grid(float(s) for s in args.s_grid.split(",")))
    except ValueError:
        raise ValueError(f"--s-grid must be comma-separated, increasing numbers in (0, 1], got {args.s_grid!r}") \
            from None
    for name in _OVERRIDES:
        value = getattr(args, name)
        if value is None:
            continue
        option = "--" + name.replace("_", "-")
        if name == "momentum" and not (0 <= value < 1):
            raise ValueError(f"{option} must be in [0, 1), got {value}")
        if name != "momentum" and not (value > 0 and math.isfinite(value)):
            raise ValueError(f"{option} must be positive, got {value}")
    lists = {name: _number_list("--" + name, getattr(args, name)) for name in _LISTS if getattr(args, name)}
    settings = {}
    for model in models:
        chosen = dict(PRESETS[args.preset][model], s_grid=s_grid, **lists)
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


_RUN = ("model", "lr", "clip", "seed")
_PROBE_COLUMNS = ("step", "loss", "grad_norm", "step_norm", "L_hat", "secant_max", "hvp", "noise_floor", "skipped",
                  "ratios", "secants")


def _write_csvs(out, results):
    tables = {"steps.csv": ("records", ("step", "train_loss", "grad_norm", "clipped")),
              "probes.csv": ("probes", _PROBE_COLUMNS), "heldout.csv": ("heldout", ("step", "loss"))}
    for name, (key, columns) in tables.items():
        with open(out / name, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(_RUN + columns)
            for result in results:
                head = [result[k] if result[k] is not None else "none" for k in _RUN]
                for row in result[key]:
                    writer.writerow(head + [";".join(f"{x:.6g}" for x in row[c]) if isinstance(row[c], list)
                                            else row[c] for c in columns])


def _label(lr, clip):
    return f"lr {lr:g}, " + ("unclipped" if clip is None else f"clip {clip:g}")


def _plot(out, results, summary):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from clipcheck.gpu.analysis import probe_points

    files = []
    for model, chosen in summary["settings"].items():
        lrs, clips = chosen["lrs"], (None, *chosen["clips"])
        fig, axes = plt.subplots(len(lrs), len(clips), figsize=(4.2 * len(clips), 3.6 * len(lrs)), squeeze=False,
                                 sharex=True, sharey=True)
        for (i, lr), (j, clip) in ((a, b) for a in enumerate(lrs) for b in enumerate(clips)):
            ax = axes[i][j]
            runs = [r for r in results if (r["model"], r["lr"], r["clip"]) == (model, lr, clip)]
            row = next(s for s in summary["by_setting"] if (s["model"], s["lr"], s["clip"]) == (model, lr, clip))
            for run, marker in zip(runs, "o^sDv*x+"):
                steps, g, L = probe_points(run["probes"])
                if g.size and run["status"] == "finished":
                    ax.scatter(g, L, c=steps, cmap="viridis", s=9, marker=marker, vmin=0, vmax=chosen["steps"])
                elif g.size:  # diverged: shown apart, in grey
                    ax.scatter(g, L, color="0.6", s=9, marker=marker)
            rho = row["rho"]
            ax.set_title(f"{_label(lr, clip)}: ρ {rho['mean']:.2f} ({rho['seeds']} seeds"
                         + (f", {len(row['diverged_seeds'])} diverged in grey" if row["diverged_seeds"] else "")
                         + ")", fontsize=8)
            ax.set(xscale="log", yscale="log")
        for ax in axes[-1]:
            ax.set_xlabel("‖∇f(x_t)‖ on the probe batch")
        for ax in axes[:, 0]:
            ax.set_ylabel("L̂_t (colour: step)")
        fig.tight_layout()
        files.append(out / f"smoothness_{model}.png")
        fig.savefig(files[-1], dpi=100)
        plt.close(fig)

    models = list(summary["settings"])
    fig, axes = plt.subplots(1, len(models), figsize=(5.5 * len(models), 4), squeeze=False)
    for ax, model in zip(axes[0], models):
        chosen = summary["settings"][model]
        perplexity = summary["data"][model]["heldout_metric"] == "perplexity"
        colours = iter(plt.rcParams["axes.prop_cycle"].by_key()["color"] * 4)
        for lr in chosen["lrs"]:
            for clip in (None, *chosen["clips"]):
                colour = next(colours)
                for k, run in enumerate(r for r in results if (r["model"], r["lr"], r["clip"]) == (model, lr, clip)):
                    steps = [h["step"] for h in run["heldout"]]
                    values = [math.exp(min(h["loss"], 700)) if perplexity else h["loss"] for h in run["heldout"]]
                    ax.plot(steps, values, color=colour, lw=1, ls="-" if run["status"] == "finished" else ":",
                            label=_label(lr, clip) if k == 0 else None)
        ax.set(xlabel="steps done", ylabel="held-out perplexity" if perplexity else "held-out loss", yscale="log",
               title=f"{model} (dotted: diverged; one line per seed)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    files.append(out / "heldout.png")
    fig.savefig(files[-1], dpi=100)
    plt.close(fig)

    rows = summary["by_setting"]
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(rows)), 4.5))
    for offset, key, colour in ((-0.15, "rho", "tab:blue"), (0.15, "rho_partial", "tab:orange")):
        x = np.arange(len(rows)) + offset
        means = np.array([r[key]["mean"] for r in rows], dtype=float)
        low = np.array([r[key]["ci"][0] for r in rows], dtype=float)
        high = np.array([r[key]["ci"][1] for r in rows], dtype=float)
        ax.errorbar(x, means, yerr=[np.nan_to_num(means - low), np.nan_to_num(high - means)], fmt="o",
                    color=colour, label="ρ" if key == "rho" else "partial ρ (step held fixed)", capsize=3)
        for xi, r in zip(x, rows):
            ax.scatter([xi] * len(r[key]["per_seed"]), r[key]["per_seed"], color=colour, s=8, alpha=0.5)
    ax.set_xticks(range(len(rows)), [f"{r['model']}\n{_label(r['lr'], r['clip'])}\nclipped {r['clipped_fraction']:.0%}"
                                     for r in rows], fontsize=6)
    ax.axhline(0, color="0.7", lw=0.8)
    ax.set(ylabel="Spearman ρ(‖∇f‖, L̂): mean over seeds, 95% t-interval", ylim=(-1.05, 1.05))
    ax.legend(fontsize=8)
    fig.tight_layout()
    files.append(out / "rho.png")
    fig.savefig(files[-1], dpi=100)
    plt.close(fig)
    return files


def _fmt(mean, ci):
    return f"{mean:5.2f} [{ci[0]:5.2f}, {ci[1]:5.2f}]" if math.isfinite(mean) else "    -"


def _print_report(summary):
    header = f"{'model':9} {'setting':20} {'clipped':>7} {'diverged':>8} {'rho over seeds':>21} " \
             f"{'partial rho':>21} {'held-out loss':>21}"
    print(header)
    print("-" * len(header))
    for r in summary["by_setting"]:
        print(f"{r['model']:9} {_label(r['lr'], r['clip']):20} {r['clipped_fraction']:7.0%} "
              f"{len(r['diverged_seeds']):>3d} of {len(r['seeds'])} {_fmt(r['rho']['mean'], r['rho']['ci']):>21} "
              f"{_fmt(r['rho_partial']['mean'], r['rho_partial']['ci']):>21} "
              f"{_fmt(r['heldout_last']['mean'], r['heldout_last']['ci']):>21}")
    print("(mean over the seeds that did not diverge, 95% t-interval over seeds; rho = Spearman of ||grad f|| "
          "and L_hat over the probes; partial: step held fixed; held-out loss: mean cross-entropy at the end, the "
          "log of the perplexity for the LSTM)\n")
    print("clipped minus unclipped, same seed and learning rate (per seed: paired block bootstrap; mean: t-interval "
          "over seeds):")
    for c in summary["clipped_vs_unclipped"]:
        clipped = next(r for r in summary["by_setting"] if (r["model"], r["lr"], r["clip"]) ==
                       (c["model"], c["lr"], c["clip"]))
        lost = f"; {len(c['lost_to_divergence'])} seed(s) left out (diverged)" if c["lost_to_divergence"] else ""
        print(f"  {c['model']:9} {_label(c['lr'], c['clip']):20} (clipped on {clipped['clipped_fraction']:.0%} of "
              f"steps): rho {_fmt(c['rho']['mean_difference'], c['rho']['ci'])}, partial "
              f"{_fmt(c['rho_partial']['mean_difference'], c['rho_partial']['ci'])}; seeds with clipped higher / "
              f"lower: {c['rho']['seeds_clipped_higher']} / {c['rho']['seeds_clipped_lower']} of "
              f"{c['rho']['seeds']}{lost}")
    print(f"({summary['seconds']:.0f} s on {summary['device']}, {summary['workers']} worker(s))")
