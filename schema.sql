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

CREATE TABLE "backup_record" ("id" INTEGER NOT NULL PRIMARY KEY, "created_at" DATETIME NOT NULL, "path" VARCHAR(1024) NOT NULL, "sha256" VARCHAR(64) NOT NULL, "schema_version" VARCHAR(128) NOT NULL, "size_bytes" INTEGER NOT NULL);
CREATE INDEX "backup_record_created_at" ON "backup_record" ("created_at");

CREATE TABLE "browser_session" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, "user_id" VARCHAR(32) NOT NULL, "token_hash" VARCHAR(64) NOT NULL, "created_at" DATETIME NOT NULL, "expires_at" DATETIME NOT NULL, "revoked_at" DATETIME, FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE);
CREATE INDEX "browser_session_user_id" ON "browser_session" ("user_id");
CREATE UNIQUE INDEX "browser_session_token_hash" ON "browser_session" ("token_hash");

CREATE TABLE "patient" ("id" TEXT NOT NULL PRIMARY KEY, "account_id" VARCHAR(32) NOT NULL, "name" VARCHAR(200) NOT NULL, "date_of_birth" DATE NOT NULL, "relationship" VARCHAR(16) NOT NULL, "sex_at_birth" VARCHAR(16), "consent_version" VARCHAR(32), "consent_given_at" DATETIME, "id_verification_status" VARCHAR(16) NOT NULL, "created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL, "archived_at" DATETIME, FOREIGN KEY ("account_id") REFERENCES "user" ("id") ON DELETE CASCADE);
CREATE INDEX "patient_account_id" ON "patient" ("account_id");
CREATE UNIQUE INDEX "patient_one_self_per_account" ON "patient" ("account_id") WHERE (("relationship" = 'self') AND ("archived_at" IS NULL));

CREATE TABLE "encounter" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, "account_id" VARCHAR(32), "patient_id" TEXT, "status" VARCHAR(24) NOT NULL, "session_token_hash" VARCHAR(64) NOT NULL, "encounter_token_hash" VARCHAR(64) NOT NULL, "token_expires_at" DATETIME NOT NULL, "payment" VARCHAR(16), "checked_out_at" DATETIME, "clinician_id" VARCHAR(32), "summary" TEXT, "created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL, "submitted_at" DATETIME, "taken_at" DATETIME, "answered_at" DATETIME, "closed_at" DATETIME, FOREIGN KEY ("account_id") REFERENCES "user" ("id") ON DELETE CASCADE, FOREIGN KEY ("patient_id") REFERENCES "patient" ("id") ON DELETE SET NULL, FOREIGN KEY ("clinician_id") REFERENCES "user" ("id") ON DELETE SET NULL);
CREATE INDEX "encounter_account_id" ON "encounter" ("account_id");
CREATE INDEX "encounter_patient_id" ON "encounter" ("patient_id");
CREATE INDEX "encounter_status" ON "encounter" ("status");
CREATE UNIQUE INDEX "encounter_session_token_hash" ON "encounter" ("session_token_hash");
CREATE UNIQUE INDEX "encounter_encounter_token_hash" ON "encounter" ("encounter_token_hash");
CREATE INDEX "encounter_clinician_id" ON "encounter" ("clinician_id");
CREATE INDEX "encounter_submitted_at" ON "encounter" ("submitted_at");
CREATE INDEX "encounter_account_id_created_at_id" ON "encounter" ("account_id", "created_at", "id");

CREATE TABLE "encounter_query" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, "encounter_id" VARCHAR(32) NOT NULL, "text" TEXT NOT NULL, "source" VARCHAR(16) NOT NULL, "created_at" DATETIME NOT NULL, FOREIGN KEY ("encounter_id") REFERENCES "encounter" ("id") ON DELETE CASCADE);
CREATE INDEX "encounter_query_encounter_id" ON "encounter_query" ("encounter_id");

CREATE TABLE "fhir_export" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, "user_id" VARCHAR(32) NOT NULL, "status" VARCHAR(16) NOT NULL, "types" VARCHAR(128) NOT NULL, "request_url" TEXT NOT NULL, "patients_total" INTEGER NOT NULL, "patients_done" INTEGER NOT NULL, "attempt" INTEGER NOT NULL, "files" TEXT NOT NULL, "error" VARCHAR(200), "created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL, "finished_at" DATETIME, "expires_at" DATETIME, "kind" VARCHAR(16) NOT NULL, "since" DATETIME, FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE);
CREATE INDEX "fhir_export_user_id" ON "fhir_export" ("user_id");
CREATE INDEX "fhir_export_status" ON "fhir_export" ("status");
CREATE INDEX "fhir_export_expires_at" ON "fhir_export" ("expires_at");

CREATE TABLE "fhir_export_patient" ("export_id" VARCHAR(32) NOT NULL, "patient_id" TEXT NOT NULL, "scopes" VARCHAR(64) NOT NULL, PRIMARY KEY ("export_id", "patient_id"), FOREIGN KEY ("export_id") REFERENCES "fhir_export" ("id") ON DELETE CASCADE, FOREIGN KEY ("patient_id") REFERENCES "patient" ("id") ON DELETE CASCADE);
CREATE INDEX "fhir_export_patient_patient_id" ON "fhir_export_patient" ("patient_id");

CREATE TABLE "access_grant" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, "clinician_id" VARCHAR(32) NOT NULL, "email" VARCHAR(254) NOT NULL, "scopes" VARCHAR(64) NOT NULL, "message" TEXT, "status" VARCHAR(16) NOT NULL, "patient_id" TEXT, "holder_id" VARCHAR(32), "expires_at" DATETIME, "created_at" DATETIME NOT NULL, "responded_at" DATETIME, "revoked_at" DATETIME, "revoked_by" VARCHAR(16), FOREIGN KEY ("clinician_id") REFERENCES "user" ("id") ON DELETE CASCADE, FOREIGN KEY ("patient_id") REFERENCES "patient" ("id") ON DELETE CASCADE, FOREIGN KEY ("holder_id") REFERENCES "user" ("id") ON DELETE CASCADE);
CREATE INDEX "access_grant_clinician_id" ON "access_grant" ("clinician_id");
CREATE INDEX "access_grant_email" ON "access_grant" ("email");
CREATE INDEX "access_grant_patient_id" ON "access_grant" ("patient_id");
CREATE INDEX "access_grant_holder_id" ON "access_grant" ("holder_id");

CREATE TABLE "idempotency_record" ("key_hash" VARCHAR(64) NOT NULL PRIMARY KEY, "body_hash" VARCHAR(64) NOT NULL, "salt" VARCHAR(64) NOT NULL, "status_code" INTEGER NOT NULL, "response" TEXT NOT NULL, "created_at" DATETIME NOT NULL, "expires_at" DATETIME NOT NULL);
CREATE INDEX "idempotency_record_expires_at" ON "idempotency_record" ("expires_at");

CREATE TABLE "id_verification" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, "patient_id" TEXT NOT NULL, "document_type" VARCHAR(32) NOT NULL, "document_number_masked" VARCHAR(64) NOT NULL, "issuing_country" VARCHAR(2), "expires_on" DATE, "status" VARCHAR(16) NOT NULL, "reviewed_by_id" VARCHAR(32), "reviewed_at" DATETIME, "review_note" VARCHAR(500), "created_at" DATETIME NOT NULL, FOREIGN KEY ("patient_id") REFERENCES "patient" ("id") ON DELETE CASCADE, FOREIGN KEY ("reviewed_by_id") REFERENCES "user" ("id") ON DELETE SET NULL);
CREATE INDEX "id_verification_patient_id" ON "id_verification" ("patient_id");
CREATE INDEX "id_verification_status" ON "id_verification" ("status");
CREATE INDEX "id_verification_reviewed_by_id" ON "id_verification" ("reviewed_by_id");

CREATE TABLE "wearable_import" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, "patient_id" TEXT NOT NULL, "account_id" VARCHAR(32) NOT NULL, "status" VARCHAR(16) NOT NULL, "filename" VARCHAR(255) NOT NULL, "path" VARCHAR(255), "bytes_total" INTEGER NOT NULL, "bytes_read" INTEGER NOT NULL, "inserted" TEXT NOT NULL, "duplicates" INTEGER NOT NULL, "skipped" TEXT NOT NULL, "error" TEXT, "attempts" INTEGER NOT NULL, "created_at" DATETIME NOT NULL, "started_at" DATETIME, "heartbeat_at" DATETIME, "lease_owner" VARCHAR(64), "lease_expires_at" DATETIME, "finished_at" DATETIME, FOREIGN KEY ("patient_id") REFERENCES "patient" ("id") ON DELETE CASCADE, FOREIGN KEY ("account_id") REFERENCES "user" ("id") ON DELETE CASCADE);
CREATE INDEX "wearable_import_patient_id" ON "wearable_import" ("patient_id");
CREATE INDEX "wearable_import_account_id" ON "wearable_import" ("account_id");
CREATE INDEX "wearable_import_status" ON "wearable_import" ("status");
CREATE UNIQUE INDEX "wearable_import_one_running_per_account" ON "wearable_import" ("account_id") WHERE ("status" = 'running');

CREATE TABLE "import_upload" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, "patient_id" TEXT NOT NULL, "account_id" VARCHAR(32) NOT NULL, "filename" VARCHAR(255) NOT NULL, "path" VARCHAR(255), "length" INTEGER NOT NULL, "offset" INTEGER NOT NULL, "writer" VARCHAR(64), "writer_until" DATETIME, "wearable_import_id" VARCHAR(32), "created_at" DATETIME NOT NULL, "expires_at" DATETIME NOT NULL, FOREIGN KEY ("patient_id") REFERENCES "patient" ("id") ON DELETE CASCADE, FOREIGN KEY ("account_id") REFERENCES "user" ("id") ON DELETE CASCADE, FOREIGN KEY ("wearable_import_id") REFERENCES "wearable_import" ("id") ON DELETE SET NULL);
CREATE INDEX "import_upload_patient_id" ON "import_upload" ("patient_id");
CREATE INDEX "import_upload_account_id" ON "import_upload" ("account_id");
CREATE INDEX "import_upload_wearable_import_id" ON "import_upload" ("wearable_import_id");
CREATE INDEX "import_upload_expires_at" ON "import_upload" ("expires_at");

CREATE TABLE "subscription" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, "account_id" VARCHAR(32) NOT NULL, "plan" VARCHAR(64) NOT NULL, "status" VARCHAR(16) NOT NULL, "current_period_start" DATETIME, "current_period_end" DATETIME, "created_at" DATETIME NOT NULL, "cancelled_at" DATETIME, FOREIGN KEY ("account_id") REFERENCES "user" ("id") ON DELETE CASCADE);
CREATE INDEX "subscription_account_id" ON "subscription" ("account_id");
CREATE INDEX "subscription_status" ON "subscription" ("status");

CREATE TABLE "invoice" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, "account_id" VARCHAR(32) NOT NULL, "kind" VARCHAR(16) NOT NULL, "subscription_id" VARCHAR(32), "encounter_id" VARCHAR(32), "description" VARCHAR(200) NOT NULL, "amount" INTEGER NOT NULL, "currency" VARCHAR(3) NOT NULL, "status" VARCHAR(16) NOT NULL, "created_at" DATETIME NOT NULL, "paid_at" DATETIME, "paid_by_id" VARCHAR(32), FOREIGN KEY ("account_id") REFERENCES "user" ("id") ON DELETE CASCADE, FOREIGN KEY ("subscription_id") REFERENCES "subscription" ("id") ON DELETE CASCADE, FOREIGN KEY ("encounter_id") REFERENCES "encounter" ("id") ON DELETE CASCADE, FOREIGN KEY ("paid_by_id") REFERENCES "user" ("id") ON DELETE SET NULL);
CREATE INDEX "invoice_account_id" ON "invoice" ("account_id");
CREATE INDEX "invoice_subscription_id" ON "invoice" ("subscription_id");
CREATE INDEX "invoice_encounter_id" ON "invoice" ("encounter_id");
CREATE INDEX "invoice_status" ON "invoice" ("status");
CREATE INDEX "invoice_paid_by_id" ON "invoice" ("paid_by_id");

CREATE TABLE "message" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, "encounter_id" VARCHAR(32) NOT NULL, "author_role" VARCHAR(16) NOT NULL, "author_id" VARCHAR(32), "body" TEXT NOT NULL, "asks_agent" INTEGER NOT NULL, "is_answer" INTEGER NOT NULL, "reply_to" VARCHAR(32), "created_at" DATETIME NOT NULL, FOREIGN KEY ("encounter_id") REFERENCES "encounter" ("id") ON DELETE CASCADE, FOREIGN KEY ("author_id") REFERENCES "user" ("id") ON DELETE SET NULL);
CREATE INDEX "message_encounter_id" ON "message" ("encounter_id");
CREATE INDEX "message_author_id" ON "message" ("author_id");
CREATE INDEX "message_created_at" ON "message" ("created_at");

CREATE TABLE "oauth_client" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, "name" VARCHAR(200) NOT NULL, "client_uri" VARCHAR(2048), "redirect_uris" TEXT NOT NULL, "grant_types" VARCHAR(200) NOT NULL, "scope" VARCHAR(500) NOT NULL, "token_endpoint_auth_method" VARCHAR(32) NOT NULL, "secret_hash" VARCHAR(64), "registered_by" VARCHAR(16) NOT NULL, "document_url" VARCHAR(2048), "document_fetched_at" DATETIME, "owner_id" VARCHAR(32), "jwks" TEXT, "created_at" DATETIME NOT NULL, "first_connected_at" DATETIME, "disabled_at" DATETIME, FOREIGN KEY ("owner_id") REFERENCES "user" ("id") ON DELETE CASCADE);
CREATE INDEX "oauth_client_owner_id" ON "oauth_client" ("owner_id");

CREATE TABLE "oauth_assertion" ("id" VARCHAR(64) NOT NULL PRIMARY KEY, "client_id" VARCHAR(32) NOT NULL, "expires_at" DATETIME NOT NULL, FOREIGN KEY ("client_id") REFERENCES "oauth_client" ("id") ON DELETE CASCADE);
CREATE INDEX "oauth_assertion_expires_at" ON "oauth_assertion" ("expires_at");

CREATE TABLE "oauth_connection" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, "user_id" VARCHAR(32) NOT NULL, "client_id" VARCHAR(32) NOT NULL, "scope" VARCHAR(500) NOT NULL, "resource" VARCHAR(2048) NOT NULL, "patient_id" VARCHAR(36), "fhir_user" VARCHAR(64), "created_at" DATETIME NOT NULL, "expires_at" DATETIME NOT NULL, "revoked_at" DATETIME, "revoked_reason" VARCHAR(32), FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE, FOREIGN KEY ("client_id") REFERENCES "oauth_client" ("id") ON DELETE CASCADE);
CREATE INDEX "oauth_connection_user_id" ON "oauth_connection" ("user_id");
CREATE INDEX "oauth_connection_client_id" ON "oauth_connection" ("client_id");

CREATE TABLE "oauth_code" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, "code_hash" VARCHAR(64) NOT NULL, "connection_id" VARCHAR(32) NOT NULL, "redirect_uri" VARCHAR(2048) NOT NULL, "code_challenge" VARCHAR(128) NOT NULL, "nonce" VARCHAR(255), "auth_time" DATETIME, "created_at" DATETIME NOT NULL, "expires_at" DATETIME NOT NULL, "used_at" DATETIME, FOREIGN KEY ("connection_id") REFERENCES "oauth_connection" ("id") ON DELETE CASCADE);
CREATE UNIQUE INDEX "oauth_code_code_hash" ON "oauth_code" ("code_hash");
CREATE INDEX "oauth_code_connection_id" ON "oauth_code" ("connection_id");

CREATE TABLE "oauth_token" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, "connection_id" VARCHAR(32) NOT NULL, "access_hash" VARCHAR(64) NOT NULL, "refresh_hash" VARCHAR(64), "scope" VARCHAR(500) NOT NULL, "issued_at" DATETIME NOT NULL, "access_expires_at" DATETIME NOT NULL, "refresh_expires_at" DATETIME, "refresh_used_at" DATETIME, "revoked_at" DATETIME, FOREIGN KEY ("connection_id") REFERENCES "oauth_connection" ("id") ON DELETE CASCADE);
CREATE INDEX "oauth_token_connection_id" ON "oauth_token" ("connection_id");
CREATE UNIQUE INDEX "oauth_token_access_hash" ON "oauth_token" ("access_hash");
CREATE UNIQUE INDEX "oauth_token_refresh_hash" ON "oauth_token" ("refresh_hash");

CREATE TABLE "otp_code" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, "email" VARCHAR(254) NOT NULL, "code_hash" VARCHAR(64) NOT NULL, "created_at" DATETIME NOT NULL, "expires_at" DATETIME NOT NULL, "attempts" INTEGER NOT NULL, "consumed_at" DATETIME);
CREATE INDEX "otp_code_email" ON "otp_code" ("email");

CREATE TABLE "refresh_token" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, "user_id" VARCHAR(32) NOT NULL, "family" VARCHAR(32) NOT NULL, "token_hash" VARCHAR(64) NOT NULL, "created_at" DATETIME NOT NULL, "expires_at" DATETIME NOT NULL, "used_at" DATETIME, "revoked_at" DATETIME, FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE);
CREATE INDEX "refresh_token_user_id" ON "refresh_token" ("user_id");
CREATE INDEX "refresh_token_family" ON "refresh_token" ("family");
CREATE UNIQUE INDEX "refresh_token_token_hash" ON "refresh_token" ("token_hash");

CREATE TABLE "wearable_hourly" ("id" INTEGER NOT NULL PRIMARY KEY, "patient_id" TEXT NOT NULL, "type" VARCHAR(32) NOT NULL, "hour_ms" INTEGER NOT NULL, "source" VARCHAR(64) NOT NULL, "count" INTEGER NOT NULL, "sum" REAL NOT NULL, "min" REAL NOT NULL, "max" REAL NOT NULL, "sum2" REAL, "min2" REAL, "max2" REAL, FOREIGN KEY ("patient_id") REFERENCES "patient" ("id") ON DELETE CASCADE);
CREATE UNIQUE INDEX "wearable_hourly_patient_id_type_hour_ms_source" ON "wearable_hourly" ("patient_id", "type", "hour_ms", "source");

CREATE TABLE "wearable_sample" ("id" INTEGER NOT NULL PRIMARY KEY, "patient_id" TEXT NOT NULL, "type" VARCHAR(32) NOT NULL, "source" VARCHAR(64) NOT NULL, "start_ms" INTEGER NOT NULL, "end_ms" INTEGER, "value" REAL NOT NULL, "value2" REAL, "detail" TEXT, "received_ms" INTEGER, FOREIGN KEY ("patient_id") REFERENCES "patient" ("id") ON DELETE CASCADE);
CREATE UNIQUE INDEX "wearable_sample_identity" ON "wearable_sample" ("patient_id", "type", "start_ms", "source", COALESCE("end_ms", -1), "value", COALESCE("value2", -1));

CREATE TABLE "wearable_source" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, "patient_id" TEXT NOT NULL, "name" VARCHAR(64) NOT NULL, "created_at" DATETIME NOT NULL, FOREIGN KEY ("patient_id") REFERENCES "patient" ("id") ON DELETE CASCADE);
CREATE UNIQUE INDEX "wearable_source_patient_id_name" ON "wearable_source" ("patient_id", "name");

CREATE TABLE "wearable_source_order" ("id" INTEGER NOT NULL PRIMARY KEY, "patient_id" TEXT NOT NULL, "sources" TEXT NOT NULL, FOREIGN KEY ("patient_id") REFERENCES "patient" ("id") ON DELETE CASCADE);
CREATE UNIQUE INDEX "wearable_source_order_patient_id" ON "wearable_source_order" ("patient_id");

CREATE TABLE "webhook_endpoint" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, "user_id" VARCHAR(32) NOT NULL, "url" VARCHAR(2048) NOT NULL, "events" VARCHAR(512) NOT NULL, "description" VARCHAR(500), "secret" VARCHAR(64) NOT NULL, "previous_secret" VARCHAR(64), "previous_secret_until" DATETIME, "status" VARCHAR(16) NOT NULL, "created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL, FOREIGN KEY ("user_id") REFERENCES "user" ("id") ON DELETE CASCADE);
CREATE INDEX "webhook_endpoint_user_id" ON "webhook_endpoint" ("user_id");

CREATE TABLE "webhook_delivery" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, "endpoint_id" VARCHAR(32) NOT NULL, "message_id" VARCHAR(32) NOT NULL, "event_type" VARCHAR(64) NOT NULL, "payload" TEXT NOT NULL, "status" VARCHAR(16) NOT NULL, "attempts" INTEGER NOT NULL, "next_attempt_at" DATETIME, "lease_until" DATETIME, "last_attempt_at" DATETIME, "response_status" INTEGER, "last_error" VARCHAR(200), "created_at" DATETIME NOT NULL, "delivered_at" DATETIME, FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoint" ("id") ON DELETE CASCADE);
CREATE INDEX "webhook_delivery_status_next_attempt_at" ON "webhook_delivery" ("status", "next_attempt_at");
CREATE INDEX "webhook_delivery_endpoint_id_created_at" ON "webhook_delivery" ("endpoint_id", "created_at");
