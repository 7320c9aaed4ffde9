"""`python -m bench [name …]`: every benchmark (or those named), each printing its ratio to
the baseline run beside it."""
import logging
import sys

from bench import imports, ingest, mcp_calls, summary, webhooks

BENCHMARKS = {"ingest": ingest, "summary": summary, "webhooks": webhooks, "mcp": mcp_calls,
              "imports": imports}


def main():
    logging.disable(logging.INFO)  # migrations' progress lines
    names = sys.argv[1:] or list(BENCHMARKS)
    for i, name in enumerate(names):
        if i:
            print()
        BENCHMARKS[name].main()


if __name__ == "__main__":
    main()
