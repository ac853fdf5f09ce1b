from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "activation_events" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "activation_id" UUID NOT NULL,
    "command_id" UUID NOT NULL UNIQUE,
    "command" VARCHAR(16) NOT NULL,
    "outcome" VARCHAR(16) NOT NULL,
    "actor_cpf" VARCHAR(11) NOT NULL,
    "company_cnpj" VARCHAR(14),
    "from_status" VARCHAR(16),
    "to_status" VARCHAR(16),
    "reason_code" VARCHAR(32),
    "message" TEXT,
    "issued_at" TIMESTAMPTZ NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_activation__activat_ee779a" ON "activation_events" ("activation_id");
COMMENT ON COLUMN "activation_events"."command" IS 'REQUEST: request\nCANCEL: cancel\nAPPROVE: approve\nREFUSE: refuse';
COMMENT ON COLUMN "activation_events"."outcome" IS 'APPLIED: applied\nREJECTED: rejected';
COMMENT ON TABLE "activation_events" IS 'The history: one row per command a worker processed, applied or rejected.';
CREATE TABLE IF NOT EXISTS "companies" (
    "cnpj" VARCHAR(14) NOT NULL PRIMARY KEY,
    "name" VARCHAR(200) NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE "companies" IS 'A partner company where products are activated.';
CREATE TABLE IF NOT EXISTS "processed_commands" (
    "command_id" UUID NOT NULL PRIMARY KEY,
    "activation_id" UUID NOT NULL,
    "processed_at" TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE "processed_commands" IS 'Every command id a worker has processed, so a redelivery has no second effect.';
CREATE TABLE IF NOT EXISTS "users" (
    "cpf" VARCHAR(11) NOT NULL PRIMARY KEY,
    "name" VARCHAR(200) NOT NULL,
    "email" VARCHAR(254) NOT NULL,
    "is_superuser" BOOL NOT NULL,
    "password_hash" VARCHAR(200) NOT NULL,
    "refresh_token" VARCHAR(128),
    "created_at" TIMESTAMPTZ NOT NULL,
    "company_id" VARCHAR(14) NOT NULL REFERENCES "companies" ("cnpj") ON DELETE RESTRICT
);
COMMENT ON TABLE "users" IS 'A customer of one company; super-users decide activations.';
CREATE TABLE IF NOT EXISTS "activations" (
    "id" UUID NOT NULL PRIMARY KEY,
    "status" VARCHAR(16) NOT NULL,
    "reason" TEXT,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "company_id" VARCHAR(14) NOT NULL REFERENCES "companies" ("cnpj") ON DELETE RESTRICT,
    "decided_by_id" VARCHAR(11) REFERENCES "users" ("cpf") ON DELETE RESTRICT,
    "requester_id" VARCHAR(11) NOT NULL REFERENCES "users" ("cpf") ON DELETE RESTRICT
);
CREATE INDEX IF NOT EXISTS "idx_activations_status_3f8472" ON "activations" ("status");
CREATE INDEX IF NOT EXISTS "idx_activations_request_78939a" ON "activations" ("requester_id", "status");
CREATE INDEX IF NOT EXISTS "idx_activations_company_f8a40e" ON "activations" ("company_id", "status");
COMMENT ON COLUMN "activations"."status" IS 'PENDING: pending\nAPPROVED: approved\nREFUSED: refused\nCANCELLED: cancelled';
COMMENT ON TABLE "activations" IS 'One request to activate a product at a company, and where it stands.';
-- A customer holds at most one pending activation per company, even under concurrent workers.
CREATE UNIQUE INDEX IF NOT EXISTS "uniq_activations_one_pending"
    ON "activations" ("requester_id", "company_id") WHERE "status" = 'pending';
CREATE TABLE IF NOT EXISTS "notifications" (
    "id" UUID NOT NULL PRIMARY KEY,
    "kind" VARCHAR(16) NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "attempts" INT NOT NULL,
    "message_id" VARCHAR(255),
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ NOT NULL,
    "sent_at" TIMESTAMPTZ,
    "activation_id" UUID NOT NULL REFERENCES "activations" ("id") ON DELETE RESTRICT,
    "event_id" BIGINT NOT NULL REFERENCES "activation_events" ("id") ON DELETE RESTRICT,
    "recipient_id" VARCHAR(11) NOT NULL REFERENCES "users" ("cpf") ON DELETE RESTRICT
);
CREATE INDEX IF NOT EXISTS "idx_notificatio_status_bfe73b" ON "notifications" ("status", "created_at");
COMMENT ON COLUMN "notifications"."kind" IS 'RECEIVED: received\nAPPROVED: approved\nREFUSED: refused\nCANCELLED: cancelled';
COMMENT ON COLUMN "notifications"."status" IS 'PENDING: pending\nSENT: sent\nFAILED: failed';
COMMENT ON TABLE "notifications" IS 'One e-mail to send, written in the same transaction as the event that causes it.';
CREATE TABLE IF NOT EXISTS "aerich" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "version" VARCHAR(255) NOT NULL,
    "app" VARCHAR(100) NOT NULL,
    "content" JSONB NOT NULL
);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "notifications";
        DROP TABLE IF EXISTS "activations";
        DROP TABLE IF EXISTS "users";
        DROP TABLE IF EXISTS "companies";
        DROP TABLE IF EXISTS "processed_commands";
        DROP TABLE IF EXISTS "activation_events";
        """


MODELS_STATE = (
    "eJztXG1v27YW/iuEPnWAW8RO0mS5FxewHafzltpZ4nTDmkFjJNrmIlOaSNU1uv73S1Lvr5"
    "Nt2ZU1A0Vbkzx6eQ7Jc/icc/RFWZg6MuibrsbwJ8iwSZQr8EUhcIH4fzJ6W0CBlhX2iQYG"
    "nw05HAbjZDt8pszmbbxrCg2KeJOOqGZjy7uRMiYI2OgvB1EGmAk8eQQgsGxTdzQGIP8DNH"
    "NhQbJqAUh0sJwjGwHMAGX8J30j7qSbGr8VJrMqL+oQzC+iMnOGGO/ml/74O2/GREefERU/"
    "PyrefZCtYl3IcHHmUIWP+6h4N0j0iEtYL+oUI0OPYe0Ok+0qW1my7fFxeH0jR4qXfFY103"
    "AWJBxtrdjcJMFwx8H6GyEj+maIIJu/tx6BnziG4SnLb3Lfkjcw20HB6+lhg46m0DGEEpX/"
    "Th2iCd0BeSfx19n/vEeLDFPV0XiiPgwmqqqkdC4eIaExr0nj04bPF0yYAPfLV/e6ISCyVR"
    "E36P/QvX91+vY7CYFJ2cyWnRIu5asUhAy6olJRIcqeGlJI9+fQHhBnIdEeEjENNJRCPZRO"
    "IM8ffBPM/YYC0H28yiOs3A1G18PRuytgIaJziJ9I9+7ufvxhcH0F+OK1zU9IfyL3g5vHB9"
    "Fko6lDRUu/O+oPbm9FmyZe3zCQnlxd2bpSFvCzaiAyY3P+s/22QHcfuvdSfW1XfSbfINzN"
    "Y+T1dGSX0GKoNRtB6m4+ca1N0GeWvT5CiY005amhQFHhjra5pqpYC5PBrxNx5QWlfxlRHF"
    "+97/4qIV6svJ7b8eidPzyCe/923EvgrXH4ODYqZGnMr3kPwwuUjXtcMoG97om+8f9TzZrZ"
    "qyrEzNLHxFh5s6RINcP3g4dJ9/1dTD/X3clA9HRiuvFbXyWXRXAR8Mtw8gMQP8Fv49Eguf"
    "cF4ya/KeKZoMNMlZhLFeqRfcVv9VGLad2x9A21Hpc8ar0uWvcxiqjde/rIWo+5KWmrmLPO"
    "Y1K7sob71XHciJ2VMWJn+UbsLGnEdKRhnS+S53WxTgk2waQl0G6XQbudj3Y77TLEPfOyYC"
    "flmji1KwFbHGSmL5lOdoBhGvgb00Z4Rn5Cq5SnnUDaO3s+UnSIiH/155XfGq5AGy6D419q"
    "unEA+GsjJiG453v7/bA/UbI27Aqw7YdXaii8cTNVAtxwr93f3K3ZzlwW25RZyoFXbBTPUH"
    "tZQltXc3YMYjI8xVrIHcWR73niNz/dIyMgorJBH0Uu1aCZLWE0O2YEvhiw6a5FZ5FsgQTO"
    "5CuJe4s7pQi+wSckb1nAAbpDWuWIQBWJ0SXpwMkcgTmmzLRXV8AUNJ65BBayBVe3EDQdBE"
    "vTfuENlm1qiFKktwSjYWCkA9MGNvoTaVzTaU6wsis/kSfyR+T1sP4HwFRwiwZXFnD9iBbg"
    "85m3Td0NA7ygVQtQE7C5ZB79i/ks5RN5xUeC5Rxrcy4JwsuDJaSAI8if0z1Xfwcow4YB5r"
    "wdM+q/U0m+ci3usYdnQ5LDrmS6RtidFdH15m0b29GOu/SLZuIRXn/f6ZyeXnROTt9enp9d"
    "XJxfnlzysfJ5010XBc5Tb/huOErwK6KhmJOMTad1SOCUYJV88E64yb2wvzFXSazuNWGNS+"
    "2XYz8USDdl0CPidT5Zcffl50fuwVyFe7TLjvvUeMCpB5S6z6j7hHo9mHPTYRxytKm6IuK1"
    "VhdXxu3Qi28Imy2U8eOgP3HjG665rYdC+J5t2qpmTdchJWJCdVZEbegf/+CnEevPTXhNX6"
    "6BVFvlxObUNhdqUWA1G+qEWAORrnzzYOYGOMeEjiiXjTZzBPUcu1kUcg7Emof0aacE0qed"
    "XKRFVxzpBT9pw1kGyvmB/YhIExDed2QfU+psFOKNCTYwwnu4Ed10IP+YvpG/ox1mID8vfS"
    "MVhDuS7Rss+v2S7X7ULYNkjwTk8sl194iCUUlSvQssaDPict3i6l6yq5cMSwHkP/wk2Qzq"
    "fAP5LZjotc9r25zT6sXP7eaYlk87y3/XgNof30D+oXNyUgJtPioXbtl3TKI8WuHSVjhRLL"
    "G5DY5XZxzYTMi1wLHEVIrsLUFqWBrRTh2UmFOX4aUknb58VyXlaZYrCUKvFxAboniHIqK3"
    "wNLGjCECMAHcnwCUPw5HARIK3WoUSGW7TDVwg+wa5HNGhMizy4OqvkGZUqGQg4ts78dyoG"
    "9bDvSCNw9l+rJ19oeU+0F/MPzghsE0hGXlz6FXA9W9hiutOMWrxFpzcWRUcj0MRpMrsWux"
    "J3LTHUr1TPleVhfdQL6PLiyWoZ3cZKKoyD+nFFWlkpNdubZuSlGnfXZxdnn69izIJApaih"
    "KI/GShFEW+ZhZ7XKoJRHniwHZ+XubAdn6ef2ATfXGoDUiZimzbzMhbzw9IxKWaAPWx2rA2"
    "qmjYQTlmxbkN20DlEbEK9H1AK69G6i0VhDqUrNa6KHiNHEx5Ds1EtShpOyq1Pz+rIdnb0e"
    "wQDVs4TwFF6SFxuTofG79pGl9BYSHyS0+2LMzKKGY5MODLFmlFF32J8jcY45IrQ7nBAKes"
    "VQmUg62gApAbRmwn4U3ummvXGO6SKL/za8X6XlVDBlmeGtMqIsyD6jPVK5QoyZrzbcxeBc"
    "VsOFLPJirFIjVt1JQFaPzGWIqIbiJocK4JHaDpFGkZnHn1l98mReDginqawJQf3fmdufPh"
    "ol//OJyUPXIgdTkkV5AssEvbJf2GDHvl+xP5NiqIxpfJPdMcyswFNxTmVNZdezlk/wHUsZ"
    "D9Wl4LuF8SiNQ9Z3zVcbtLbWNu1ivVqrRIq075aBWVaB3z0b5VPhoSOQ/rABwINBHh8zL5"
    "lXxUQQApVQiHqSr3IodmffqoZ5oGgiSvvCIumoD8mcvuCvOgZb8OUm88vo2Z6d4wGSt6fN"
    "8b8E1FqoAPwiyHkrMgpfw8oqv8uDFfZ4anBJs403exl9hoyr2gOTeoLyiDKipiQROCTQiY"
    "Jixl57KMqexc5ttK0XeMkf47zwfHb3PuqTaiIM5w/MRexZ/YOybEV5oQf6zg+7afy0M21u"
    "ZK1lfy3J5W4cfxwjH/RKDkw1Dxx97+LV962zItM5+8+IRsmhk1zTfTEZEG2uidZGiKRbUG"
    "wt7wBqLbLnWoaxcc6toZBYsmYZlB6R8fxqM8VzMQSZ4ssMbA38DA9IDTK7LAFWDEjg+pFN"
    "hktmviXCAu0MvyP/cZCPj6f7xXRhw="
)
