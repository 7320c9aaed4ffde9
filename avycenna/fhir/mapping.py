"""How each wearable sample type becomes a FHIR Observation: LOINC code, UCUM unit, category, profile.

One line per type. A type missing here is left out of FHIR (and said so in the
CapabilityStatement); adding a type is one `ObservationCode(...)` line.
"""
from dataclasses import dataclass
from typing import Optional

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
VITAL_SIGNS = "http://hl7.org/fhir/StructureDefinition/"  # + profile name
# Local codes where LOINC has none (sleep stages without a duration code).
SLEEP_STAGE_SYSTEM = "urn:avycenna:fhir:sleep-stage"
# R4's statistic codes (ValueSet observation-statistics): what a rollup's value and components are.
STATISTIC_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-statistics"


@dataclass(frozen=True)
class ObservationCode:
    type: str  # the wearable sample type
    codes: tuple  # ((LOINC code, display), …): the first is the Observation's main code
    unit: Optional[str]  # UCUM code of the value (None: no valueQuantity)
    unit_display: Optional[str]
    category: str  # vital-signs | activity | laboratory
    profile: Optional[str] = None  # the R4 vital-signs profile it follows
    cumulative: bool = False  # a rollup adds values up (steps) instead of averaging them
    short: Optional[str] = None  # the rollup id's prefix (ids are at most 64 characters)

    @property
    def loinc_codes(self):
        return [code for code, _ in self.codes]


OBSERVATIONS = {o.type: o for o in (
    ObservationCode("heart_rate", (("8867-4", "Heart rate"),), "/min", "beats/minute", "vital-signs",
                    "heartrate", short="hr"),
    ObservationCode("resting_heart_rate", (("40443-4", "Heart rate --resting"),), "/min", "beats/minute",
                    "vital-signs", short="rhr"),
    ObservationCode("heart_rate_variability",
                    (("80404-7", "R-R interval.standard deviation (Heart rate variability)"),),
                    "ms", "ms", "vital-signs", short="hrv"),
    ObservationCode("steps", (("55423-8", "Number of steps in unspecified time Pedometer"),), "{steps}",
                    "steps", "activity", cumulative=True, short="steps"),
    ObservationCode("distance", (("55430-3", "Walking distance unspecified time Pedometer"),), "m", "m",
                    "activity", cumulative=True, short="dist"),
    ObservationCode("active_energy", (("41981-2", "Calories burned"),), "kcal", "kcal", "activity",
                    cumulative=True, short="energy"),
    ObservationCode("oxygen_saturation",
                    (("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"),
                     ("2708-6", "Oxygen saturation in Arterial blood")), "%", "%", "vital-signs", "oxygensat",
                    short="spo2"),
    ObservationCode("respiratory_rate", (("9279-1", "Respiratory rate"),), "/min", "breaths/minute",
                    "vital-signs", "resprate", short="rr"),
    ObservationCode("body_temperature", (("8310-5", "Body temperature"),), "Cel", "C", "vital-signs",
                    "bodytemp", short="temp"),
    ObservationCode("body_weight", (("29463-7", "Body weight"),), "kg", "kg", "vital-signs", "bodyweight",
                    short="weight"),
    ObservationCode("blood_pressure", (("85354-9", "Blood pressure panel with all children optional"),),
                    "mm[Hg]", "mmHg", "vital-signs", "bp", short="bp"),
    ObservationCode("blood_glucose", (("2339-0", "Glucose [Mass/volume] in Blood"),), "mg/dL", "mg/dL",
                    "laboratory", short="glucose"),
    # Sleep: one Observation per interval, its duration in minutes, coded by stage (SLEEP_STAGES).
    ObservationCode("sleep", (("93832-4", "Sleep duration"),), "min", "min", "activity"),
    # Workouts (once the importer stores them): the activity as the value, measures as components.
    ObservationCode("workout", (("73985-4", "Exercise activity"),), None, None, "activity"),
)}

BP_SYSTOLIC = ("8480-6", "Systolic blood pressure")
BP_DIASTOLIC = ("8462-4", "Diastolic blood pressure")

# Sleep stage → (system, code, display) of the interval's code. LOINC has duration codes for
# the sleep stages; "awake" and "in bed" keep only the local stage code.
SLEEP_STAGES = {
    "asleep": (LOINC, "93832-4", "Sleep duration"),
    "light": (LOINC, "93830-8", "Light sleep duration"),
    "deep": (LOINC, "93831-6", "Deep sleep duration"),
    "rem": (LOINC, "93829-0", "REM sleep duration"),
    "awake": (SLEEP_STAGE_SYSTEM, "awake", "Awake"),
    "in_bed": (SLEEP_STAGE_SYSTEM, "in_bed", "In bed"),
}

# Workout measures as Observation components (Physical Activity IG codes), where present.
WORKOUT_COMPONENTS = {
    "duration": (("55411-3", "Exercise duration"), "min"),
    "distance": (("55430-3", "Walking distance unspecified time Pedometer"), "m"),
    "energy": (("55424-6", "Calories burned in unspecified time Pedometer"), "kcal"),
    "heart_rate_avg": (("55425-3", "Heart rate unspecified time mean by Pedometer"), "/min"),
    "heart_rate_max": (("55426-1", "Heart rate unspecified time maximum by Pedometer"), "/min"),
}


def types_for_code(token):
    """Sample types a `code` search token matches: `8867-4`, `http://loinc.org|8867-4`, a stage code."""
    system, _, code = token.rpartition("|")
    found = set()
    for spec in OBSERVATIONS.values():
        if (not system or system == LOINC) and code in spec.loinc_codes:
            found.add(spec.type)
    for stage_system, stage_code, _ in SLEEP_STAGES.values():
        if code == stage_code and (not system or system == stage_system):
            found.add("sleep")
    if code in (BP_SYSTOLIC[0], BP_DIASTOLIC[0]) and system in ("", LOINC):
        found.add("blood_pressure")
    return found


def stages_for_code(token):
    """The sleep stages a `code` search token names (empty when it names none)."""
    system, _, code = token.rpartition("|")
    return {stage for stage, (stage_system, stage_code, _) in SLEEP_STAGES.items()
            if code == stage_code and (not system or system == stage_system)}


ROLLUP_TYPES = {spec.short: spec.type for spec in OBSERVATIONS.values() if spec.short}


def types_for_category(token):
    _, _, code = token.rpartition("|")
    return {spec.type for spec in OBSERVATIONS.values() if spec.category == code}
