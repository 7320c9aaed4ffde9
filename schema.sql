-- AVYCENNA schema: generated from the models by `flask --app app db schema`.
-- Do not edit by hand; a test fails when this file drifts from the models.

CREATE TABLE "user" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, "email" VARCHAR(254) NOT NULL, "name" VARCHAR(200) NOT NULL, "role" VARCHAR(16) NOT NULL, "password_hash" VARCHAR(255), "is_active" INTEGER NOT NULL, "created_at" DATETIME NOT NULL, "disabled_at" DATETIME);
CREATE UNIQUE INDEX "user_email" ON "user" ("email");

CREATE TABLE "api_key" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, "user_id" VARCHAR(32) NOT NULL, "name" VARCHAR(100) NOT NULL, "prefix" VARCHAR(16) NOT NULL, "key_hash" VARCHAR(64) NOT NULL, "created_at" DATETIME NOT NULL, "last_used_at" DATETIME, FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE);
CREATE INDEX "api_key_user_id" ON "api_key" ("user_id");
CREATE UNIQUE INDEX "api_key_key_hash" ON "api_key" ("key_hash");

CREATE TABLE "audit_event" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, "at" DATETIME NOT NULL, "action" VARCHAR(64) NOT NULL, "outcome" VARCHAR(16) NOT NULL, "actor_type" VARCHAR(16) NOT NULL, "actor_user_id" VARCHAR(32), "actor_key_id" VARCHAR(32), "actor_encounter_id" VARCHAR(32), "patient_id" VARCHAR(36), "target_type" VARCHAR(32), "target_id" VARCHAR(64), "ip_hash" VARCHAR(64), "request_id" VARCHAR(128), "details" TEXT NOT NULL);
CREATE INDEX "audit_event_at" ON "audit_event" ("at");
CREATE INDEX "audit_event_action" ON "audit_event" ("action");
CREATE INDEX "audit_event_actor_user_id" ON "audit_event" ("actor_user_id");
CREATE INDEX "audit_event_patient_id" ON "audit_event" ("patient_id");

CREATE TABLE "patient" ("id" TEXT NOT NULL PRIMARY KEY, "account_id" VARCHAR(32) NOT NULL, "name" VARCHAR(200) NOT NULL, "date_of_birth" DATE NOT NULL, "relationship" VARCHAR(16) NOT NULL, "sex_at_birth" VARCHAR(16), "consent_version" VARCHAR(32), "consent_given_at" DATETIME, "id_verification_status" VARCHAR(16) NOT NULL, "created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL, "archived_at" DATETIME, FOREIGN KEY ("account_id") REFERENCES "user" ("id") ON DELETE CASCADE);
CREATE INDEX "patient_account_id" ON "patient" ("account_id");

CREATE TABLE "access_grant" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, "clinician_id" VARCHAR(32) NOT NULL, "email" VARCHAR(254) NOT NULL, "scopes" VARCHAR(64) NOT NULL, "message" TEXT, "status" VARCHAR(16) NOT NULL, "patient_id" TEXT, "holder_id" VARCHAR(32), "expires_at" DATETIME, "created_at" DATETIME NOT NULL, "responded_at" DATETIME, "revoked_at" DATETIME, "revoked_by" VARCHAR(16), FOREIGN KEY ("clinician_id") REFERENCES "user" ("id") ON DELETE CASCADE, FOREIGN KEY ("patient_id") REFERENCES "patient" ("id") ON DELETE CASCADE, FOREIGN KEY ("holder_id") REFERENCES "user" ("id") ON DELETE CASCADE);
CREATE INDEX "access_grant_clinician_id" ON "access_grant" ("clinician_id");
CREATE INDEX "access_grant_email" ON "access_grant" ("email");
CREATE INDEX "access_grant_patient_id" ON "access_grant" ("patient_id");
CREATE INDEX "access_grant_holder_id" ON "access_grant" ("holder_id");

CREATE TABLE "wearable_hourly" ("id" INTEGER NOT NULL PRIMARY KEY, "patient_id" TEXT NOT NULL, "type" VARCHAR(32) NOT NULL, "hour_ms" INTEGER NOT NULL, "count" INTEGER NOT NULL, "sum" REAL NOT NULL, "min" REAL NOT NULL, "max" REAL NOT NULL, "sum2" REAL, "min2" REAL, "max2" REAL, FOREIGN KEY ("patient_id") REFERENCES "patient" ("id") ON DELETE CASCADE);
CREATE UNIQUE INDEX "wearable_hourly_patient_id_type_hour_ms" ON "wearable_hourly" ("patient_id", "type", "hour_ms");

CREATE TABLE "wearable_sample" ("id" INTEGER NOT NULL PRIMARY KEY, "patient_id" TEXT NOT NULL, "type" VARCHAR(32) NOT NULL, "source" VARCHAR(64) NOT NULL, "start_ms" INTEGER NOT NULL, "end_ms" INTEGER, "value" REAL NOT NULL, "value2" REAL, FOREIGN KEY ("patient_id") REFERENCES "patient" ("id") ON DELETE CASCADE);
CREATE UNIQUE INDEX "wearable_sample_patient_id_type_start_ms_source" ON "wearable_sample" ("patient_id", "type", "start_ms", "source");
