"""Take the README's page screenshots again: `.venv/bin/python docs/screenshots/take.py`.

The app runs on a fresh temporary instance (SQLite in a temporary folder, waitress on a free
loopback port, no mail server: messages go to the log). Demo people are seeded through the app's
own services (the accounts) and its REST API (everything else); Debian's chromium
(/usr/bin/chromium, driven by Playwright) then writes, beside this file:

  checkout.png        an agent's checkout link, mid-flow: signed in, patient, consent, ID sent
  dashboard.png       a member's account dashboard: patients, encounters, plan, a grant request
  console.png         the clinician console: an encounter taken, a question for the agent, a draft
  console-charts.png  the console's wearable charts (30 days) of a patient who shared them

The names, questions and readings are made up; the readings come from a fixed random seed.
"""
import math
import os
import random
import sys
import tempfile
import threading
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)

import requests  # noqa: E402

CHROMIUM = os.environ.get("AVYCENNA_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 900}
PASSWORD = "demo password 2026"

CHECKOUT_QUERY = (
    "I am 44 and for about ten days I have had a burning pain behind the breastbone after meals, "
    "worse when I lie down at night and after coffee. Antacids help for an hour or two. No pain on "
    "exertion: I cycle to work and walking up stairs is fine. No weight loss, no trouble "
    "swallowing, no black stools. I started ibuprofen three weeks ago for a sore knee and take "
    "400 mg twice a day. I do not smoke and drink a glass of wine at weekends. Could this be the "
    "ibuprofen, should I stop it, and is there anything I should take instead? When would this "
    "need to be looked at in person?")
ANA_QUERY = (
    "My home blood pressure readings have crept up over the last month: mornings are now around "
    "135-142 over 85-90, evenings a little lower. Before that I was usually around 120 over 78. I "
    "am 46, take no regular medicine and have no known heart or kidney problems; my mother had "
    "high blood pressure from her fifties. I have been sleeping badly with a busy period at work "
    "and drinking more coffee. My watch shows my resting heart rate a few beats higher too. No "
    "headaches, chest pain or shortness of breath. Is this something to treat now, or should I "
    "change things first and keep measuring? How should I measure to get readings you can use?")
QUEUE_QUERIES = [
    ("priya.nair@example.com", "Priya Nair", "1991-07-19", "female", (
        "Since I started a new running plan six weeks ago I get a sharp pain on the inside of my "
        "right shin, worst at the start of a run and the next morning. It eases a little as I warm "
        "up. There is one spot that is tender to press, about a hand's width above the ankle, and "
        "no swelling or bruising. I run four times a week, up from two, and my shoes are about two "
        "years old. I have tried ice and two rest days. Is this shin splints or could it be a "
        "stress fracture, and do I need an X-ray? How long should I stop running, and what can I "
        "do instead to keep fit while it heals?")),
    ("david.kim@example.com", "David Kim", "1958-11-02", "male", (
        "I am 67 and have had type 2 diabetes for eight years, on metformin 1000 mg twice a day. "
        "My last HbA1c in spring was 7.4%. For two weeks I have noticed tingling and some numbness "
        "in both feet, mostly in the evening, and my socks feel bunched up when they are not. No "
        "cuts or sores that I can see, and my feet are not cold or discoloured. I sometimes get "
        "cramps in my calves at night. I have not had my feet checked for over a year. Is this "
        "nerve damage from the diabetes, and could the metformin play a part through vitamin B12? "
        "What tests should I ask for, and what should I do for my feet meanwhile?")),
]
ELENA_QUERY = (
    "My son Tomás (9) has had an itchy red rash in the creases of his elbows and behind his knees "
    "for about three weeks. The skin there is dry and rough, and he scratches it at night until it "
    "bleeds a little. He had something similar as a toddler that went away. No fever, he is "
    "otherwise well and eating normally. We changed washing powder about a month ago. He has mild "
    "hay fever in spring. We have tried a fragrance-free moisturiser once a day, which helps a "
    "bit. Is this eczema, should we go back to the old washing powder, and is a steroid cream "
    "needed? How long can we use it safely in a child?")

MIA_QUERY = (
    "My daughter Mia (7) has had a fever of 38.5 C for two days, a sore throat and swollen glands on "
    "both sides of the neck. No rash, she is drinking well and is a little tired. Her vaccinations "
    "are up to date. Ibuprofen brings the fever down for about six hours. Her brother had a cold "
    "last week. Should she be seen in person, is a strep test needed, and what should we watch for "
    "overnight? We are in the clinic's area and can come in tomorrow morning if needed. She has no "
    "allergies that we know of and takes no other medicine.")


def clean_environment():
    """A fresh instance, whatever this shell points AVYCENNA at."""
    for name in list(os.environ):
        if (name.startswith("AVYCENNA_") and name != "AVYCENNA_TEST_CHROMIUM") or name in (
                "DATABASE_URL", "RATELIMIT_STORAGE_URI"):
            del os.environ[name]


def start_app(instance):
    """The app on its own SQLite database, served by waitress on a free loopback port."""
    from waitress import create_server

    from avycenna import create_app
    from avycenna.migrate import upgrade

    app = create_app({"INSTANCE_PATH": instance, "SESSION_COOKIE_SECURE": False,
                      "AGENT_QUERY_RATE_LIMIT": "100/hour"})
    with app.app_context():
        upgrade()
    server = create_server(app, host="127.0.0.1", port=0, threads=4, ident="avycenna-screenshots")
    url = f"http://127.0.0.1:{server.effective_port}"
    app.config["PUBLIC_BASE_URL"] = url  # checkout links point here
    threading.Thread(target=server.run, daemon=True).start()
    return app, url


class Api:
    """The REST API as one person: requests with their bearer token (or the agent's)."""

    def __init__(self, url, token=None):
        self.url, self.token = url, token

    def signed_in(self, email):
        body = self.call("POST", "/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        return Api(self.url, body["access_token"])

    def call(self, method, path, **kwargs):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = requests.request(method, self.url + path, headers=headers, timeout=30, **kwargs)
        if response.status_code >= 400:
            raise SystemExit(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    def post(self, path, **json):
        return self.call("POST", path, json=json)


def make_people(app):
    from avycenna.auth.users import create_user
    from avycenna.db import database

    people = [("admin@clinic.example.com", "admin", "Clinic Office"),
              ("sarah.chen@clinic.example.com", "clinician", "Dr. Sarah Chen"),
              ("omar.haddad@clinic.example.com", "clinician", "Dr. Omar Haddad"),
              ("elena.lopez@example.com", "member", "Elena Lopez"),
              ("ana.diaz@example.com", "member", "Ana Diaz"),
              ("james.okafor@example.com", "member", "James Okafor")]
    people += [(email, "member", name) for email, name, *_ in QUEUE_QUERIES]
    with app.app_context(), database.obj.connection_context():
        for email, role, name in people:
            create_user(email, role=role, name=name, password=PASSWORD)


def ready_patient(member, admin, name, born, relationship, sex, document):
    """A patient with consent given and ID approved by the clinic's office."""
    patient = member.post("/api/v1/patients", name=name, date_of_birth=born, relationship=relationship,
                          sex_at_birth=sex)
    version = member.call("GET", "/api/v1/consents/telehealth")["version"]
    member.post(f"/api/v1/patients/{patient['id']}/consent", version=version)
    member.post(f"/api/v1/patients/{patient['id']}/id-verification", document_type="passport",
                document_number=document)
    admin.post(f"/api/v1/patients/{patient['id']}/id-verification/approve")
    return patient


def subscribe(member, admin, plan):
    invoice = member.post("/api/v1/subscription", plan=plan)["open_invoice"]
    admin.post(f"/api/v1/admin/invoices/{invoice['id']}/mark-paid")


def ask(member, patient, query):
    """The member's agent asks for this patient; paid and ready, it goes straight to the queue."""
    return member.post("/api/v1/agent/query", query=query, patient_id=patient["id"])


def iso(when):
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def month_of_readings(now, rng):
    """Thirty days of a watch and a home cuff: blood pressure and resting heart rate creep up."""
    samples = []
    for day in range(30, -1, -1):
        morning = (now - timedelta(days=day)).replace(hour=7, minute=0, second=0, microsecond=0)
        if morning > now:
            continue
        drift = (30 - day) / 30  # 0 a month ago, 1 today
        for minute in range(0, 16 * 60, 15):  # 07:00–23:00, every 15 minutes
            at = morning + timedelta(minutes=minute)
            if at > now:
                break
            busy = 18 * math.exp(-((minute - 150) / 60) ** 2) + 10 * math.exp(-((minute - 660) / 45) ** 2)
            samples.append({"type": "heart_rate", "start": iso(at), "unit": "count/min",
                            "value": round(66 + 3 * drift + busy + rng.gauss(0, 3))})
        if day:
            steps = rng.gauss(8200 if morning.weekday() < 5 else 11000, 1500)
            walk = {"start": iso(morning + timedelta(hours=1)), "end": iso(morning + timedelta(hours=12))}
            samples += [{"type": "steps", **walk, "value": round(steps), "unit": "count"},
                        {"type": "distance", **walk, "value": round(steps * 0.72), "unit": "m"},
                        {"type": "active_energy", **walk, "value": round(steps * 0.045 + rng.gauss(120, 30)),
                         "unit": "kcal"}]
        readings = (("resting_heart_rate", 58 + 4 * drift + rng.gauss(0, 1.2), "count/min"),
                    ("heart_rate_variability", 48 - 8 * drift + rng.gauss(0, 4), "ms"),
                    ("oxygen_saturation", min(99, 97 + rng.gauss(0, 0.7)), "%"),
                    ("respiratory_rate", 14 + rng.gauss(0, 0.8), "count/min"),
                    ("body_temperature", 36.6 + rng.gauss(0, 0.15), "degC"),
                    ("body_weight", 68.4 + 0.6 * drift + rng.gauss(0, 0.25), "kg"),
                    ("blood_glucose", 92 + rng.gauss(0, 6), "mg/dL"))
        samples += [{"type": kind, "start": iso(morning), "value": round(value, 1), "unit": unit}
                    for kind, value, unit in readings]
        samples.append({"type": "blood_pressure", "start": iso(morning + timedelta(minutes=5)), "unit": "mmHg",
                        "value": {"systolic": round(121 + 17 * drift + rng.gauss(0, 3)),
                                  "diastolic": round(78 + 10 * drift + rng.gauss(0, 2))}})
        bedtime = morning - timedelta(hours=8, minutes=rng.randint(0, 70))
        for stage, minutes in (("light", 60), ("deep", 70), ("light", 80), ("rem", 45), ("awake", 10),
                               ("light", 70), ("rem", rng.randint(20, 60))):
            end = bedtime + timedelta(minutes=minutes)
            samples.append({"type": "sleep", "start": iso(bedtime), "end": iso(end), "value": stage})
            bedtime = end
    return samples


def seed(app, url):
    """Everyone and everything the four pages show; returns what the browser opens."""
    make_people(app)
    rng = random.Random(2026)
    anyone = Api(url)
    admin = anyone.signed_in("admin@clinic.example.com")
    chen = anyone.signed_in("sarah.chen@clinic.example.com")
    haddad = anyone.signed_in("omar.haddad@clinic.example.com")

    # Elena: a family on a yearly plan; an answered question about her son; Dr. Chen asks for access.
    elena = anyone.signed_in("elena.lopez@example.com")
    subscribe(elena, admin, "yearly")
    ready_patient(elena, admin, "Elena Lopez", "1987-09-14", "self", "female", "P4410937")
    tomas = ready_patient(elena, admin, "Tomás Lopez", "2016-03-08", "child", "male", "P4410938")
    mia = ready_patient(elena, admin, "Mia Lopez", "2019-04-02", "child", "female", "P4410939")
    elena.post("/api/v1/api-keys", name="Family assistant")
    rash = ask(elena, tomas, ELENA_QUERY)["encounter_id"]
    haddad.post(f"/api/v1/encounters/{rash}/take")
    haddad.post(f"/api/v1/encounters/{rash}/answer", body=(
        "This sounds like atopic eczema flaring, possibly helped along by the new washing powder. Go "
        "back to the old one, moisturise twice a day and after baths, and use hydrocortisone 1% on "
        "the rough patches once a day for up to a week. If it is no better in two weeks, or looks "
        "infected (weeping, crusting, fever), book an appointment."))
    haddad.post(f"/api/v1/encounters/{rash}/close", summary="Atopic eczema; emollients, mild steroid, review in 2 weeks.")
    ask(elena, mia, MIA_QUERY)  # sent to the clinic, waiting in the queue
    chen.post("/api/v1/grants", email="elena.lopez@example.com", scopes=["profile", "wearables"],
              message="To see Tomás's sleep and activity before his follow-up.")

    # Ana: a month of readings from her watch and cuff, shared with Dr. Chen, who holds her question.
    ana = anyone.signed_in("ana.diaz@example.com")
    subscribe(ana, admin, "monthly")
    ana_patient = ready_patient(ana, admin, "Ana Diaz", "1979-06-21", "self", "female", "X7302214")
    ana.post(f"/api/v1/patients/{ana_patient['id']}/wearables", source="apple_watch",
             samples=month_of_readings(datetime.now(timezone.utc), rng))
    grant = chen.post("/api/v1/grants", email="ana.diaz@example.com", scopes=["profile", "wearables"],
                      message="To follow your blood pressure and resting heart rate between visits.")
    ana.post(f"/api/v1/grants/{grant['id']}/accept", patient_id=ana_patient["id"])
    asked = ask(ana, ana_patient, ANA_QUERY)
    encounter = asked["encounter_id"]
    chen.post(f"/api/v1/encounters/{encounter}/take")
    question = chen.post(f"/api/v1/encounters/{encounter}/messages", asks_agent=True, body=(
        "Does she use an upper-arm cuff, seated after five minutes' rest, and has she had any "
        "palpitations, ankle swelling or nosebleeds?"))
    agent = Api(url, asked["encounter_token"])
    agent.post(f"/api/v1/agent/encounters/{encounter}/messages", reply_to=question["id"], body=(
        "Upper-arm cuff, seated, usually right after getting up; she will rest five minutes first "
        "from now on. No palpitations, ankle swelling or nosebleeds."))

    # Two more questions waiting in the queue.
    for email, name, born, sex, query in QUEUE_QUERIES:
        member = anyone.signed_in(email)
        subscribe(member, admin, "monthly")
        ask(member, ready_patient(member, admin, name, born, "self", sex, f"D{rng.randint(10**6, 10**7)}"), query)

    # James: no plan yet; his agent has just asked and handed him the checkout link.
    checkout_url = anyone.post("/api/v1/agent/query", query=CHECKOUT_QUERY)["checkout_url"]
    return {"checkout_url": checkout_url, "encounter": encounter, "patient": ana_patient["id"]}


def sign_in(page, email, start="/signin"):
    page.goto(start)
    page.click("details.password-signin summary")
    page.fill("#pw-email", email)
    page.fill("#f-password", PASSWORD)
    page.click("form[action='/signin/password'] button[type=submit]")
    page.wait_for_load_state()


def shoot(page, name):
    path = os.path.join(HERE, name + ".png")
    page.screenshot(path=path, full_page=True)
    print(f"{path}  ({os.path.getsize(path) // 1024} KB)")


def take_checkout(tab, checkout_url):
    sign_in(tab, "james.okafor@example.com", start=checkout_url)
    tab.wait_for_selector("#step-patient")
    tab.fill("#p-name", "James Okafor")
    tab.fill("#p-date_of_birth", "1981-10-27")
    tab.select_option("#p-relationship", "self")
    tab.click("text=Add and choose")
    tab.wait_for_selector("#step-consent")
    tab.check("#step-consent input[name=agree]")
    tab.click("#step-consent button[type=submit]")
    tab.wait_for_selector("#step-consent .badge.ok")
    tab.select_option("#id-document_type", "drivers_license")
    tab.fill("#id-document_number", "OKAF810279J")
    tab.click("text=Send for verification")
    tab.wait_for_selector("#step-id >> text=Pending with the clinic")
    tab.evaluate("window.scrollTo(0, 0)")
    shoot(tab, "checkout")


def take_dashboard(tab):
    sign_in(tab, "elena.lopez@example.com")
    tab.goto("/account")
    tab.wait_for_selector("text=Tomás Lopez")
    shoot(tab, "dashboard")


def take_console(tab, encounter, patient):
    sign_in(tab, "sarah.chen@clinic.example.com")
    tab.goto(f"/console/encounters/{encounter}")
    tab.wait_for_selector("#patient-h")
    tab.fill("#answer-body", "Your readings are consistently above 135/85, so this is worth acting on. "
                             "For two weeks, measure twice each morning and evening after five minutes' "
                             "rest and keep the log; cut back to two coffees a day, none after noon.")
    shoot(tab, "console")
    tab.goto(f"/console/patients/{patient}?range=30d")
    tab.wait_for_selector("svg#chart-blood_pressure")
    shoot(tab, "console-charts")


def main():
    if not os.path.exists(CHROMIUM):
        sys.exit(f"{CHROMIUM} is not installed (make test installs Debian's chromium).")
    from playwright.sync_api import sync_playwright

    clean_environment()
    with tempfile.TemporaryDirectory(prefix="avycenna-screenshots-") as instance:
        app, url = start_app(instance)
        seeded = seed(app, url)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for take, args in ((take_checkout, [seeded["checkout_url"]]), (take_dashboard, []),
                               (take_console, [seeded["encounter"], seeded["patient"]])):
                context = browser.new_context(base_url=url, viewport=VIEWPORT)
                take(context.new_page(), *args)
                context.close()
            browser.close()


if __name__ == "__main__":
    main()
