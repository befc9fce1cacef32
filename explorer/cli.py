"""``pruning-explorer``: the command line.

Subcommands: ``app`` (the Voilà app), ``train`` (retrain the embedded default), ``bench`` (live-ness
benchmark), ``criteria`` (Spearman ρ of every criterion against the oracle).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEVICE_HELP = "cpu, cuda or cuda:1 (default: $PRUNING_EXPLORER_DEVICE for app, else a GPU, else cpu)"


def _cmd_train(args: argparse.Namespace) -> int:
    from explorer.train import train_digits_model

    out = Path(args.out) if args.out else None
    accuracy = train_digits_model(args.model, seed=args.seed, out_path=out, half=args.half)
    print(
        f"{args.model} validation accuracy: {accuracy:.4f}" + (f" (weights written to {out})" if out else "")
    )
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from explorer.bench import DEFAULT_MODELS, IMAGENET_MODELS, format_table, run_benchmark

    sizes = {**DEFAULT_MODELS, **IMAGENET_MODELS}
    names = list(args.models or ([] if not args.imagenet else DEFAULT_MODELS))
    names = [f"torchvision/{n}" if f"torchvision/{n}" in IMAGENET_MODELS else n for n in names]
    names += [n for n in IMAGENET_MODELS if args.imagenet and n not in names]
    models = {name: sizes.get(name, 1000) for name in names} if names else None
    options = {"with_sensitivity": not args.no_sensitivity, "device": args.device}
    result = run_benchmark(models, moves=args.moves, **options)
    if args.json:
        import json

        print(json.dumps(result, indent=2))
    else:
        print(format_table(result))
    return 0


def _cmd_criteria(args: argparse.Namespace) -> int:
    from explorer.criteria.report import format_oracle_table, oracle_correlations
    from explorer.session import PruningSession

    session = PruningSession(args.model, data=args.data, num_samples=args.samples)
    print(format_oracle_table(oracle_correlations(session)))
    return 0


def _cmd_sensitivity(args: argparse.Namespace) -> int:
    from explorer.sensitivity import plot_sensitivity
    from explorer.session import PruningSession

    session = PruningSession(args.model, data=args.data, num_samples=args.samples, device=args.device)
    ratios = [float(r) for r in args.ratios.split(",")] if args.ratios else None

    def progress(done: int, total: int) -> None:
        print(f"\r{done}/{total} evaluations", end="", file=sys.stderr, flush=True)

    table = session.sensitivity(
        ratios=ratios,
        criterion=args.criterion,
        progress=progress,
        tolerance=args.tolerance,
        executor=args.executor,
        address=args.address,
    )
    print(file=sys.stderr)
    out = Path(args.out)
    csv_path = table.write_csv(out / "sensitivity.csv")
    png_path = plot_sensitivity(table, out / "sensitivity.png")
    print(f"wrote {csv_path} and {png_path}")
    return 0


def _cmd_fetch(args: argparse.Namespace) -> int:
    from explorer.data import load_data
    from explorer.zoo.pretrained import fetch_weights

    for what in args.what:
        if what == "cifar10":
            load_data("cifar10", num_samples=100, download=True, root=args.root)
            print("CIFAR-10 test set ready")
        else:
            path = fetch_weights(what)
            print(f"weights of {what} ready at {path}")
    return 0


def _cmd_rehearse(args: argparse.Namespace) -> int:
    from explorer.rehearsal import format_rehearsal, rehearse
    from explorer.session import PruningSession

    session = PruningSession(
        args.model,
        data=args.data,
        train_data=args.train_data,
        num_samples=args.samples,
        memory_limit=args.memory_limit,
        precision=args.precision,
    )
    result = rehearse(session, moves=args.moves)
    if args.json:
        import json

        print(json.dumps(result, indent=2))
    else:
        print(format_rehearsal(result))
    return 0 if result["reset_is_original"] else 1


def _cmd_app(args: argparse.Namespace) -> int:
    from explorer.launch_options import LaunchOptions
    from explorer.memory import parse_size
    from explorer.precision import resolve_precision
    from explorer.serve import serve_app

    if args.memory_limit is not None:
        parse_size(args.memory_limit)  # a typo is refused here, not in every visitor's kernel
    resolve_precision(args.precision)
    if args.device is not None:
        from explorer.device import resolve_device

        resolve_device(args.device)  # an absent GPU is refused here, not in every visitor's kernel
    lang = args.lang or LaunchOptions.from_env().lang  # --lang, else $PRUNING_EXPLORER_LANG, else English
    explore = args.explore or LaunchOptions.from_env().explore
    options = LaunchOptions(
        model=args.model,
        data=args.data,
        samples=args.samples,
        precision=args.precision,
        memory_limit=args.memory_limit,
        lang=lang,
        explore=explore,
        train_data=args.train_data,
        device=args.device,
    )
    return serve_app(args.port, options, open_browser=not args.no_browser, pool_size=args.pool_size)


TRAIN_DATA_HELP = "fine-tuning data: a data source, or held-out (the samples of --data outside validation)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pruning-explorer", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    app = sub.add_parser("app", help="serve the explorer as a Voilà app")
    app.add_argument("--port", type=int, default=8866)
    app.add_argument("--model", default="digits_cnn")
    app.add_argument("--data", default=None, help="any data source load_data accepts, e.g. a CIFAR-10 CSV")
    app.add_argument(
        "--train-data",
        default=None,
        help=TRAIN_DATA_HELP,
    )
    app.add_argument("--samples", type=int, default=None, help="validation subset size")
    app.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"])
    app.add_argument("--memory-limit", default=None, help="per-kernel memory limit, e.g. 2G")
    app.add_argument("--pool-size", type=int, default=1, help="preheated kernels kept ready (0: none)")
    app.add_argument(
        "--lang", choices=["en", "ko"], default=None, help="the page's language (default: English)"
    )
    app.add_argument(
        "--explore", action="store_true", help="open the free explorer instead of the guided lesson"
    )
    app.add_argument("--no-browser", action="store_true")
    app.add_argument("--device", default=None, help=DEVICE_HELP)
    app.set_defaults(func=_cmd_app)

    rehearse = sub.add_parser("rehearse", help="run a class demo's whole flow and measure time and memory")
    rehearse.add_argument("--model", default="digits_cnn")
    rehearse.add_argument("--data", default=None)
    rehearse.add_argument(
        "--train-data",
        default=None,
        help=TRAIN_DATA_HELP,
    )
    rehearse.add_argument("--samples", type=int, default=None)
    rehearse.add_argument(
        "--memory-limit", default=None, help="e.g. 2G (default: the cgroup's or the machine's)"
    )
    rehearse.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"])
    rehearse.add_argument("--moves", type=int, default=16)
    rehearse.add_argument("--json", action="store_true")
    rehearse.set_defaults(func=_cmd_rehearse)

    train = sub.add_parser("train", help="retrain a zoo model deterministically")
    train.add_argument("model", choices=["digits_cnn", "digits_vit"])
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--half", action="store_true", help="store the weights as float16 (half the file)")
    train.add_argument("--out", help="where to write the weights (default: do not write)")
    train.set_defaults(func=_cmd_train)

    bench = sub.add_parser("bench", help="time slider moves against naive re-evaluation")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument("--models", nargs="*", help="zoo models (default: digits_cnn resnet20_cifar)")
    bench.add_argument("--moves", type=int, default=30)
    bench.add_argument("--no-sensitivity", action="store_true", help="skip the sensitivity scan timing")
    bench.add_argument("--device", default=None, help=DEVICE_HELP)
    bench.add_argument(
        "--imagenet",
        action="store_true",
        help="add the torchvision resnet50 row (224 px, synthetic; minutes)",
    )
    bench.set_defaults(func=_cmd_bench)

    crit = sub.add_parser("criteria", help="Spearman ρ of every criterion against the oracle, per layer")
    crit.add_argument("--model", default="digits_cnn")
    crit.add_argument("--data", default=None)
    crit.add_argument("--samples", type=int, default=None)
    crit.set_defaults(func=_cmd_criteria)

    fetch = sub.add_parser("fetch", help="download pretrained weights or datasets into the cache")
    fetch.add_argument(
        "what", nargs="+", help="a zoo model with public weights (resnet20_cifar) or 'cifar10'"
    )
    fetch.add_argument("--root", default=None, help="dataset folder (default: the package's data cache)")
    fetch.set_defaults(func=_cmd_fetch)

    sens = sub.add_parser("sensitivity", help="per-group sensitivity scan (Li et al. 2017 Fig. 2)")
    sens.add_argument("--model", default="digits_cnn")
    sens.add_argument("--data", default=None)
    sens.add_argument("--samples", type=int, default=None)
    sens.add_argument("--criterion", default="l1")
    sens.add_argument("--ratios", default=None, help="comma-separated, default 0.1,...,0.9")
    sens.add_argument("--out", default="sensitivity-out")
    sens.add_argument("--executor", default="local", choices=["local", "ray"], help="ray: shard over Ray")
    sens.add_argument("--address", default=None, help="the Ray cluster to join (default: start a local one)")
    sens.add_argument(
        "--tolerance", type=float, default=None, help="stop a cell once its 95 %% interval is this narrow"
    )
    sens.add_argument("--device", default=None, help=DEVICE_HELP)
    sens.set_defaults(func=_cmd_sensitivity)
    return parser


def main(argv: list[str] | None = None) -> int:
    from explorer.errors import ExplorerError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ExplorerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
