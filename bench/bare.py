"""The baseline for bench/overhead.py: a bare Flask app answering a small JSON dict."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return {"status": "healthy", "version": "1.0.0", "timestamp": "2026-12-03T08:00:00Z"}
