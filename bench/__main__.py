"""`python -m bench [name …]`: the named benchmarks (every one when none is named), each
printing its ratio to the baseline run beside it."""
import argparse
import importlib
import logging

BENCHMARKS = ("overhead", "floor", "lists", "ingest", "summary", "webhooks", "mcp_calls", "imports", "fhir_export", "scaleout")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", choices=BENCHMARKS, metavar="name",
                        help="one of: " + ", ".join(BENCHMARKS))
    names = parser.parse_args(argv).names or BENCHMARKS
    logging.disable(logging.INFO)  # migrations' progress lines
    for i, name in enumerate(names):
        if i:
            print()
        importlib.import_module("bench." + name).main()


if __name__ == "__main__":
    main()
