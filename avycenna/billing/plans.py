"""Plans come from configuration (BILLING_PLANS); periods are calendar months or years."""
import calendar

from flask import current_app

INTERVALS = ("day", "week", "month", "year")


def all_plans():
    return current_app.config["BILLING_PLANS"]


def find_plan(plan_id):
    return next((plan for plan in all_plans() if plan["id"] == plan_id), None)


def add_interval(start, interval, count=1):
    """`start` moved by `count` intervals; month ends clamp (Jan 31 + 1 month = Feb 28/29)."""
    from datetime import timedelta

    if interval == "day":
        return start + timedelta(days=count)
    if interval == "week":
        return start + timedelta(weeks=count)
    months = count * (12 if interval == "year" else 1)
    if interval not in ("month", "year"):
        raise ValueError(f"unknown billing interval {interval!r}")
    year, month = divmod(start.month - 1 + months, 12)
    year, month = start.year + year, month + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)
