"""`python -m bench`: every benchmark, each printing its ratio to the baseline run beside it."""
import logging

from bench import ingest, summary, webhooks


def main():
    logging.disable(logging.INFO)  # migrations' progress lines
    ingest.main()
    print()
    summary.main()
    print()
    webhooks.main()


if __name__ == "__main__":
    main()
