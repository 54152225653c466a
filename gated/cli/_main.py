"""The ``gated`` command: argument parsing, exit codes and error reporting."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import textwrap

from . import _commands
from ._sources import CLASSIFICATION, SERIES

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_MISSING_DEPENDENCY, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

DESCRIPTION = f"""\
gated: GRU and LSTM sequence models on your data, with baselines beside every result.

examples:
  gated demo                                      built-in data, defaults, about a minute
  gated train --train italy_power_demand --test italy_power_demand
  gated train --train Data_TRAIN.ts --test Data_TEST.ts --model lstm --save model.gated --plot plots/
  gated forecast --csv sales.csv --column units --horizon 12 --season 12 --plot plots/
  gated forecast --csv co2 --horizon 52 --missing interpolate
  gated compare --train basic_motions --test basic_motions
  gated evaluate --model model.gated --test Data_TEST.ts
  gated predict --model model.gated --input new_series.ts --output predictions.csv
  gated info

built-in data: {', '.join(CLASSIFICATION)} (classification, official train/test splits);
               {', '.join(SERIES)} (series for forecasting).
files: UCR/UEA .ts, CSV (one series per row with a label column; or a time column and value columns for
       forecasting), .npz (arrays x and y).

exit codes: 0 success, 1 bad data or failed run (the message says why), 2 bad arguments,
            3 an optional package is missing (the message says what to install), 130 interrupted.
--json prints one final JSON line with every metric.
"""


def _common(parser: argparse.ArgumentParser, training: bool = True, epochs: str = "maximum epochs (early stopping, "
            "default 150)", batch_size: str = "batch size (default 16)") -> None:
    parser.add_argument("--json", action="store_true", help="print one final JSON line with all results")
    parser.add_argument("--verbose", action="store_true", help="show per-epoch progress (also with --json)")
    if training:
        parser.add_argument("--units", type=_positive, default=64, help="units per recurrent layer (default 64)")
        parser.add_argument("--epochs", type=_positive, default=150, help=epochs)
        parser.add_argument("--batch-size", type=_positive, default=16, help=batch_size)
        parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def _names(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected comma-separated column names, received {text!r}")
    return names


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, received {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, received {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, received {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, received {value}")
    return value


def _series_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--column", help="value column of the CSV (default: the only one)")
    parser.add_argument("--missing", choices=("raise", "interpolate", "drop"), default="raise",
                        help="what to do with missing values (default: stop and say where they are)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gated", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"gated {_commands.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help_text: str, example: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_text, description=f"{help_text}\n\nexample:\n  {example}",
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    train = command("train", "train a sequence classifier and compare it with 1-NN Euclidean",
                    "gated train --train Data_TRAIN.ts --test Data_TEST.ts --save model.gated --plot plots/")
    train.add_argument("--train", required=True, help="training data: a file or a built-in name")
    train.add_argument("--test", help="test data: a file or a built-in name (its official test split)")
    train.add_argument("--model", choices=("gru", "lstm", "mingru"), default="gru",
                       help="recurrent cell (default gru)")
    train.add_argument("--label-column", default=0, help="CSV label column, name or index (default 0)")
    train.add_argument("--save", help="write the trained model (with its scaling and labels) to this file")
    train.add_argument("--plot", help="write training curves and a confusion matrix (PNG) into this folder")
    train.add_argument("--nproc", type=_positive, default=1,
                       help="data-parallel processes on this machine, via torchrun (default 1; docs/DISTRIBUTED.md)")
    train.add_argument("--ensemble", type=_positive,
                       help="models averaged (default: as many, up to 5, as fit in --time-budget)")
    train.add_argument("--time-budget", type=_positive_float, default=480.0,
                       help="seconds the default ensemble may take (default 480; one model is always trained)")
    train.add_argument("--architecture", choices=("gru_fcn", "rnn"), default="gru_fcn",
                       help="gru_fcn: convolutions beside a GRU (default); rnn: stacked recurrent layers only")
    train.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    _common(train, epochs="passes over the training series (default: the recipe's budget of optimizer steps)",
            batch_size="series per step (default: about a tenth of the set, 8 to 32)")
    train.set_defaults(epochs=None, batch_size=None)

    forecast = command("forecast", "train on all but the last H values of each series and forecast them",
                       "gated forecast --data sales.csv --column units --horizon 12 --season 12")
    forecast.add_argument("--data", "--csv", dest="csv", required=True,
                          help="the series: a CSV file (one series or a long-format panel), a .tsf file, or a "
                               "built-in name")
    forecast.add_argument("--horizon", type=_positive,
                          help="how many values to forecast (default: the file's @horizon, or by frequency: "
                               "yearly 6, quarterly 8, monthly 18, weekly 13, daily 14, hourly 48)")
    forecast.add_argument("--id-column", help="panel: the column naming each row's series (one global model)")
    forecast.add_argument("--time-column", default=None,
                          help="the time column, name or 0-based position (default: the first column)")
    forecast.add_argument("--covariates", type=_names,
                          help="comma-separated known-future columns the model uses, e.g. income,price")
    forecast.add_argument("--ensemble", type=_positive, default=3,
                          help="global model: networks averaged (default 3)")
    forecast.add_argument("--output", help="global model: write per-series errors and forecasts to this CSV")
    forecast.add_argument("--season", type=_positive, help="season length for seasonal naive and MASE")
    forecast.add_argument("--lookback", type=_positive, help="input window length (default from horizon/season)")
    forecast.add_argument("--model", choices=("gru", "lstm", "mingru"), default="gru",
                          help="recurrent cell (default gru)")
    forecast.add_argument("--save", help="write the trained forecaster to this file")
    forecast.add_argument("--plot", help="write training curves and the forecast (PNG) into this folder")
    _series_options(forecast)
    _common(forecast, epochs="single series: maximum epochs (early stopping, default 200); global model: passes "
                             "over the windows (default: its budget of optimizer steps)",
            batch_size="windows per step (default 32)")
    forecast.set_defaults(batch_size=32, epochs=None)

    evaluate = command("evaluate", "evaluate a model saved by train or forecast",
                       "gated evaluate --model model.gated --test Data_TEST.ts")
    evaluate.add_argument("--model", required=True, help="a file written with --save")
    evaluate.add_argument("--test", help="labelled series (classifiers)")
    evaluate.add_argument("--csv", help="the series (forecasters): its last H values are forecast")
    evaluate.add_argument("--label-column", default=0, help="CSV label column, name or index (default 0)")
    _series_options(evaluate)
    _common(evaluate, training=False)

    predict = command("predict", "predict with a model saved by train or forecast",
                      "gated predict --model model.gated --input new.ts --output predictions.csv")
    predict.add_argument("--model", required=True, help="a file written with --save")
    predict.add_argument("--input", required=True, help="series to classify, or the series to continue")
    predict.add_argument("--output", help="write predictions to this CSV file (default: print them)")
    predict.add_argument("--label-column", default=0, help="CSV label column, name or index (default 0)")
    _series_options(predict)
    _common(predict, training=False)

    compare = command("compare", "GRU versus LSTM on the same data and budget",
                      "gated compare --train basic_motions --test basic_motions")
    compare.add_argument("--train", help="training data (classification)")
    compare.add_argument("--test", help="test data (classification)")
    compare.add_argument("--csv", help="a series (forecasting) instead of --train/--test")
    compare.add_argument("--horizon", type=_positive, default=12, help="forecast horizon with --csv (default 12)")
    compare.add_argument("--season", type=_positive, help="season length with --csv")
    compare.add_argument("--lookback", type=_positive, help="input window length with --csv")
    compare.add_argument("--models", default="gru,lstm", help="cells to compare (default gru,lstm)")
    compare.add_argument("--label-column", default=0, help="CSV label column, name or index (default 0)")
    _series_options(compare)
    _common(compare)

    info = command("info", "versions, device and threads", "gated info --json")
    _common(info, training=False)

    demo = command("demo", "the default GRU recipes on built-in data against baselines (about a minute)", "gated demo")
    demo.add_argument("--epochs", type=_positive, default=40,
                      help="epochs of each classifier (GRU-FCN, one model; default 40)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--json", action="store_true", help="print one final JSON line with all results")
    demo.add_argument("--verbose", action="store_true", help="show per-epoch progress")
    return parser


HANDLERS = {"train": _commands.cmd_train, "forecast": _commands.cmd_forecast, "evaluate": _commands.cmd_evaluate,
            "predict": _commands.cmd_predict, "compare": _commands.cmd_compare, "info": _commands.cmd_info,
            "demo": _commands.cmd_demo}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    if args.command == "compare" and not args.csv and not (args.train and args.test):
        parser.error("gated compare needs --train and --test (classification) or --csv (forecasting)")
    if getattr(args, "nproc", 1) > 1:  # relaunch this command under torchrun, one process per --nproc
        return _launch(args.nproc, list(sys.argv[1:] if argv is None else argv))
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun: rank 0 alone prints and writes files
        args.save = args.plot = None
        sys.stdout = open(os.devnull, "w")
    try:
        HANDLERS[args.command](args)
    except ImportError as err:
        print(f"gated {args.command}: {err}", file=sys.stderr)
        return EXIT_MISSING_DEPENDENCY
    except (ValueError, TypeError, FileNotFoundError) as err:
        message = textwrap.indent(str(err), "  ").lstrip()
        print(f"gated {args.command}: error: {message}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"gated {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK


def _launch(nproc: int, argv: list[str]) -> int:
    drop = [i for i, a in enumerate(argv) if a == "--nproc" or a.startswith("--nproc=")]
    argv = [a for i, a in enumerate(argv) if i not in drop and not (i - 1 in drop and argv[i - 1] == "--nproc")]
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc),
               "-m", "gated", *argv]
    return subprocess.call(command)
