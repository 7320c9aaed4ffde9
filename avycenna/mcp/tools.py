"""The MCP tools, resources and prompt: each tool is one REST operation for the same caller.

Who the caller is comes from the MCP connection's headers, exactly as on REST:
none (anonymous), `X-API-Key` or `Authorization: Bearer avk_…`, a JWT, or an
encounter token. The encounter tools also take `encounter_token` as an argument,
because an agent that opened an encounter anonymously cannot change its
connection's headers mid-conversation.
"""
from typing import Annotated, Any, Literal
from uuid import UUID

from mcp.server.mcpserver import Context
from pydantic import ConfigDict, Field, with_config
from typing_extensions import NotRequired, TypedDict

from avycenna.encounters.lifecycle import STATUSES
from avycenna.encounters.submission import REASONS
from avycenna.patients.models import RELATIONSHIPS, SEXES_AT_BIRTH
from avycenna.wearables.schemas import TYPE_NAMES

open_shape = with_config(ConfigDict(extra="allow"))  # a field added to REST reaches MCP too

# Ids become path segments of the REST twin's URL: the pattern keeps them one segment.
EncounterId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{1,40}$",
                                   description="The encounter_id from open_encounter, e.g. enc_8fHq2LmZt9Wb.")]
EncounterToken = Annotated[str | None, Field(
    description="The encounter_token open_encounter returned. Needed when this connection has no "
                "API key of the encounter's owner.")]
Limit = Annotated[int, Field(ge=1, le=200, description="Page size.")]
Cursor = Annotated[str | None, Field(description="next_cursor of the previous page.")]
Status = Literal[STATUSES]


@open_shape
class AutoSubmit(TypedDict):
    submitted: bool
    pending_reasons: list[Literal[REASONS]]


@open_shape
class EncounterOpened(TypedDict):
    encounter_id: str
    status: Status
    session_token: str
    encounter_token: str
    encounter_token_expires_at: str
    checkout_url: str | None
    auto_submit: AutoSubmit


@open_shape
class EncounterStatus(TypedDict):
    id: str
    status: Status
    checkout_url: str | None
    pending_reasons: list[str]
    checked_out: bool
    summary: str | None
    created_at: str
    submitted_at: str | None
    answered_at: str | None
    closed_at: str | None


@open_shape
class Message(TypedDict):
    id: str
    author_role: Literal["member", "clinician", "agent"]
    body: str
    asks_agent: bool
    is_answer: bool
    reply_to: str | None
    created_at: str


@open_shape
class MessagePage(TypedDict):
    data: list[Message]
    next_cursor: str | None


@open_shape
class Patient(TypedDict):
    id: str
    name: str
    date_of_birth: str
    relationship: str
    sex_at_birth: str | None
    consent_current: bool
    id_verification_status: str


@open_shape
class PatientPage(TypedDict):
    data: list[Patient]
    next_cursor: str | None


@open_shape
class Encounter(TypedDict):
    id: str
    status: Status
    patient_id: str | None
    latest_query: str | None
    summary: str | None
    created_at: str


@open_shape
class EncounterPage(TypedDict):
    data: list[Encounter]
    next_cursor: str | None


@open_shape
class Subscription(TypedDict):
    id: str
    plan: str
    status: Literal["pending", "active", "past_due", "cancelled"]
    current_period_end: str | None
    encounters_used: int
    encounters_included: int | None
    open_invoice: NotRequired[dict[str, Any] | None]


@open_shape
class Bucket(TypedDict):
    start: str
    count: int
    min: NotRequired[float | None]
    max: NotRequired[float | None]
    mean: NotRequired[float | None]


@open_shape
class WearableSummary(TypedDict):
    type: str
    unit: str
    bucket: Literal["hour", "day"]
    data: list[Bucket]


def _rest(ctx, method, path, **options):
    request = ctx.request_context
    return request.lifespan_context.call(request.request, method, path, **options)


def open_encounter(
        ctx: Context,
        query: Annotated[str, Field(description="The person's question with all useful context "
                                                "(symptoms, duration, medicines, history): 500–10,000 characters.")],
        patient_id: Annotated[UUID | None, Field(description="A patient of your account (list_patients); "
                                                             "needs an API key or JWT on the connection.")] = None,
        session_token: Annotated[str | None, Field(description="From an earlier open_encounter result: "
                                                               "add this query to that encounter instead.")] = None,
        idempotency_key: Annotated[str | None, Field(description="Any unique string: a retry with the same key "
                                                                 "returns the first result instead of a second "
                                                                 "encounter.")] = None,
) -> EncounterOpened:
    """Ask a clinic's physician a medical question for a person: opens a telehealth encounter (or continues one
    with session_token). Works with no credentials. If auto_submit.submitted is false, give the person
    checkout_url to finish (sign in, patient, consent, ID, payment); pending_reasons says what is missing.
    Keep encounter_id and encounter_token, then poll get_encounter_status / read_messages for the answer."""
    body = {"query": query, "patient_id": str(patient_id) if patient_id else None, "session_token": session_token}
    return _rest(ctx, "POST", "/api/v1/agent/query", body=body, idempotency_key=idempotency_key)


def get_encounter_status(ctx: Context, encounter_id: EncounterId,
                         encounter_token: EncounterToken = None) -> EncounterStatus:
    """The encounter's status (awaiting_checkout, submitted, in_review, answered, closed, expired, cancelled),
    what still blocks submission, and the checkout link while the person has not finished checkout."""
    return _rest(ctx, "GET", f"/api/v1/agent/encounters/{encounter_id}", encounter_token=encounter_token)


def read_messages(ctx: Context, encounter_id: EncounterId, encounter_token: EncounterToken = None,
                  after: Annotated[str | None, Field(description="The id of the last message you saw: "
                                                                 "only newer ones are returned.")] = None,
                  limit: Limit = 50) -> MessagePage:
    """Messages of an encounter, oldest first: the clinician's questions to you (asks_agent) and the answer
    (is_answer). Poll with after = the last id you saw."""
    return _rest(ctx, "GET", f"/api/v1/agent/encounters/{encounter_id}/messages",
                 query={"after": after, "limit": limit}, encounter_token=encounter_token)


def reply_to_clinician(ctx: Context, encounter_id: EncounterId,
                       body: Annotated[str, Field(min_length=1, max_length=20000,
                                                  description="Your answer, in plain text.")],
                       reply_to: Annotated[str | None, Field(description="The id of the clinician's message "
                                                                         "(asks_agent) you answer.")] = None,
                       encounter_token: EncounterToken = None) -> Message:
    """Answer a question the clinician asked you in the encounter (a message with asks_agent true)."""
    return _rest(ctx, "POST", f"/api/v1/agent/encounters/{encounter_id}/messages",
                 body={"body": body, "reply_to": reply_to}, encounter_token=encounter_token)


def list_patients(ctx: Context, limit: Limit = 50, cursor: Cursor = None) -> PatientPage:
    """The patients on your account (needs an API key or JWT), with consent and ID-verification state:
    pass one's id as patient_id to open_encounter for a one-call submission."""
    return _rest(ctx, "GET", "/api/v1/patients", query={"limit": limit, "cursor": cursor})


def create_patient(ctx: Context,
                   name: Annotated[str, Field(min_length=1, max_length=200)],
                   date_of_birth: Annotated[str, Field(description="YYYY-MM-DD")],
                   relationship: Annotated[Literal[RELATIONSHIPS], Field(
                       description="Who the patient is to the account holder; one 'self' per account.")],
                   sex_at_birth: Literal[SEXES_AT_BIRTH] | None = None) -> Patient:
    """Add a patient (the account holder or a family member) to your account (needs an API key or JWT).
    Consent and ID verification are completed by the person on the checkout page."""
    body = {"name": name, "date_of_birth": date_of_birth, "relationship": relationship,
            "sex_at_birth": sex_at_birth}
    return _rest(ctx, "POST", "/api/v1/patients", body=body)


def list_encounters(ctx: Context, status: Status | None = None,
                    patient_id: Annotated[UUID | None, Field(description="Only this patient's.")] = None,
                    limit: Limit = 50, cursor: Cursor = None) -> EncounterPage:
    """Your account's encounters, newest first (needs an API key or JWT)."""
    return _rest(ctx, "GET", "/api/v1/encounters",
                 query={"status": status, "patient_id": str(patient_id) if patient_id else None, "limit": limit,
                        "cursor": cursor})


def get_subscription(ctx: Context) -> Subscription:
    """Your account's subscription: plan, status, encounters used and included this period (needs an API key
    or JWT). An error 404 means no subscription: encounters then need a one-off payment at checkout."""
    return _rest(ctx, "GET", "/api/v1/subscription")


def wearable_summary(ctx: Context,
                     patient_id: Annotated[UUID, Field(description="The patient's id.")],
                     type: Annotated[Literal[TYPE_NAMES], Field(description="See the wearable types resource.")],
                     start: Annotated[str | None, Field(description="ISO 8601 with timezone; default 30 days "
                                                                    "before end.")] = None,
                     end: Annotated[str | None, Field(description="ISO 8601 with timezone; default now.")] = None,
                     bucket: Literal["hour", "day"] = "hour") -> WearableSummary:
    """Count / min / max / mean of one wearable measurement per hour or day for a patient: for the patient's
    own account, or a clinician with an active grant from the patient."""
    return _rest(ctx, "GET", f"/api/v1/patients/{patient_id}/wearables/summary",
                 query={"type": type, "start": start, "end": end, "bucket": bucket})


TOOLS = (open_encounter, get_encounter_status, read_messages, reply_to_clinician, list_patients,
         create_patient, list_encounters, get_subscription, wearable_summary)
READ_ONLY = {get_encounter_status, read_messages, list_patients, list_encounters, get_subscription,
             wearable_summary}
# Tools that act for an account: called with no account credential, `/mcp` answers 401 with the
# OAuth challenge (`views.py`), so an MCP client authorizes and calls again.
ACCOUNT_TOOLS = {tool.__name__ for tool in (list_patients, create_patient, list_encounters, get_subscription,
                                            wearable_summary)}
