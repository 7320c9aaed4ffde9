"""The operations page's Prometheus set-up cannot rot: its scrape configuration and alert rules
are valid YAML, and every metric the page names is in a real scrape."""
import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def metrics_section():
    with open(os.path.join(ROOT, "docs", "install-and-operations.md")) as fh:
        page = fh.read()
    start = page.index("## Health, readiness and metrics")
    return page[start:page.index("\n## ", start + 1)]


def yaml_blocks(text):
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", text, re.S)]


def test_the_scrape_config_and_alert_rules_are_valid_yaml():
    scrape, rules = yaml_blocks(metrics_section())
    job = scrape["scrape_configs"][0]
    assert job["metrics_path"] == "/metrics" and job["authorization"]["type"] == "Bearer"
    alerts = {rule["alert"]: rule["expr"] for rule in rules["groups"][0]["rules"]}
    assert {"AvycennaServerErrors", "AvycennaQueueBehind", "AvycennaNotReady"} <= set(alerts)
    assert 'status=~"5.."' in alerts["AvycennaServerErrors"]


def test_every_metric_the_page_names_is_served(client, make_user, key_for):
    client.get("/api/v1/auth/me")  # one request, so the labelled counters have a sample
    body = client.get("/metrics", headers=key_for(make_user("admin"))).get_data(as_text=True)
    named = set(re.findall(r"\bavycenna_[a-z_]+\b", metrics_section()))
    assert len(named) >= 15
    missing = sorted(name for name in named if not re.search(rf"^(# (HELP|TYPE) )?{name}\b", body, re.M))
    assert not missing, f"named in docs/install-and-operations.md but not served: {missing}"
