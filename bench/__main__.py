"""`python -m bench`: every benchmark, each printing its ratio to the baseline run beside it."""
import logging

from bench import ingest, mcp_calls, summary, webhooks


def main():
    logging.disable(logging.INFO)  # migrations' progress lines
    ingest.main()
    print()
    summary.main()
    print()
    webhooks.main()
    print()
    mcp_calls.main()


if __name__ == "__main__":
    main()
