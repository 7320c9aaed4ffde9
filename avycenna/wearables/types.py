"""Sample types: canonical unit, the units converted from, and the plausible range.

Values are stored in the canonical unit. A value outside the plausible range
(after conversion) is rejected: it is a device or unit error, not a measurement.
"""
from dataclasses import dataclass, field

# A stage's code is its position: new stages are appended so stored codes keep their meaning.
# `asleep` is sleep of unknown stage (Apple's "Asleep" / "AsleepUnspecified"), not `light`.
SLEEP_STAGES = ("awake", "light", "deep", "rem", "in_bed", "asleep")
STAGE_CODE = {stage: float(code) for code, stage in enumerate(SLEEP_STAGES)}
ASLEEP_CODES = frozenset(STAGE_CODE[s] for s in ("asleep", "light", "deep", "rem"))  # awake, in_bed are not sleep

# Amounts that add up over time. Summaries take one source per hour for these (the
# holder's priority, watch first), so two devices counting the same steps count once.
CUMULATIVE = frozenset(("steps", "distance", "active_energy", "sleep", "workout"))


PRECISION = 4  # decimals kept after a unit conversion (154 lb → 69.8532 kg, not …98000001)


def _scale(factor):
    return lambda v: round(v * factor, PRECISION)


def _rounded(convert):
    return lambda v: round(convert(v), PRECISION)


@dataclass(frozen=True)
class SampleType:
    name: str
    unit: str
    low: float
    high: float
    description: str
    conversions: dict = field(default_factory=dict)  # unit → function to the canonical unit
    interval: bool = False  # needs an end (sleep, workout)

    def converter(self, unit):
        """Function from `unit` to the canonical unit, or None when unknown."""
        if unit == self.unit:
            return identity
        return self.conversions.get(unit)


def identity(v):
    return v


PER_MINUTE = {"bpm": identity, "beats/min": identity, "/min": identity, "count/s": _scale(60.0)}

TYPES = {t.name: t for t in (
    SampleType("heart_rate", "count/min", 20, 300, "Heart rate", PER_MINUTE),
    SampleType("resting_heart_rate", "count/min", 20, 250, "Resting heart rate", PER_MINUTE),
    SampleType("heart_rate_variability", "ms", 0, 1000, "Heart rate variability (SDNN)",
               {"s": _scale(1000.0)}),
    SampleType("steps", "count", 0, 100_000, "Steps in the interval", {"steps": identity}),
    SampleType("distance", "m", 0, 1_000_000, "Distance walked, run or cycled",
               {"km": _scale(1000.0), "mi": _scale(1609.344), "ft": _scale(0.3048),
                "yd": _scale(0.9144)}),
    SampleType("active_energy", "kcal", 0, 20_000, "Active energy burned",
               {"kJ": _scale(1 / 4.184), "Cal": identity, "cal": _scale(0.001)}),
    SampleType("oxygen_saturation", "%", 50, 100, "Blood oxygen saturation (SpO2)",
               {"fraction": _scale(100.0)}),
    SampleType("respiratory_rate", "count/min", 2, 80, "Breaths per minute",
               {"breaths/min": identity, "/min": identity}),
    SampleType("body_temperature", "degC", 25, 45, "Body temperature",
               {"degF": _rounded(lambda v: (v - 32.0) * 5.0 / 9.0), "K": _rounded(lambda v: v - 273.15)}),
    SampleType("body_weight", "kg", 0.2, 700, "Body weight",
               {"lb": _scale(0.45359237), "g": _scale(0.001), "st": _scale(6.35029318)}),
    SampleType("blood_pressure", "mmHg", 20, 300, "Blood pressure: value {systolic, diastolic}",
               {"kPa": _scale(7.50061683)}),
    SampleType("blood_glucose", "mg/dL", 10, 1500, "Blood glucose",
               {"mmol/L": _scale(18.0156)}),
    SampleType("sleep", "stage", 0, len(SLEEP_STAGES) - 1,
               "Sleep interval: value one of " + ", ".join(SLEEP_STAGES) + "; start and end required",
               interval=True),
    SampleType("workout", "min", 0, 7 * 24 * 60,
               "Workout: value {activity, duration (min), distance (m), energy (kcal), heart_rate_avg, "
               "heart_rate_max (count/min)}; only activity and duration are required; start and end required",
               interval=True),
)}

WORKOUT_FIELDS = {"activity": str, "duration": float, "distance": float, "energy": float,
                  "heart_rate_avg": float, "heart_rate_max": float}


def describe():
    """The public list for GET /wearables/types."""
    return [{"type": t.name, "unit": t.unit, "accepted_units": [t.unit, *t.conversions],
             "description": t.description, "interval": t.interval,
             **({"stages": list(SLEEP_STAGES)} if t.name == "sleep" else {})}
            for t in TYPES.values()]
