"""AVYCENNA entry point: `python app.py` serves the API with waitress.

`flask --app app …` finds `app` here for the CLI (db upgrade, create-user, …).
"""
from avycenna import create_app
from avycenna.serve import main

app = create_app()

if __name__ == "__main__":
    main(app)
