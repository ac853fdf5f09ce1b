from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "idempotency_keys" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "cpf" VARCHAR(11) NOT NULL,
    "key" VARCHAR(200) NOT NULL,
    "fingerprint" VARCHAR(64) NOT NULL,
    "status" INT,
    "body" JSONB,
    "created_at" TIMESTAMPTZ NOT NULL,
    CONSTRAINT "uid_idempotency_cpf_18c9ee" UNIQUE ("cpf", "key")
);
COMMENT ON TABLE "idempotency_keys" IS 'The answer given to a command sent with an Idempotency-Key, to give it again on a retry.';"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "idempotency_keys";"""


MODELS_STATE = (
    "eJztXXtv27YW/yqE/uoAt0ic57KLCziO03lN7Sxxeoc1Fxoj0TYXmVJFKq7R9buPpN7Pyc"
    "/ImoChq0keSvod8vC8ePpNmZk6Mui7jsbwC2TYJMoF+KYQOEP8Lxm9LaBAywr7RAODT4Yc"
    "DoNxsh0+UWbzNt41hgZFvElHVLOx5T1IGRIEbPTFQZQBZgKPHgEILNvUHY0ByP8DmjmzIF"
    "m0ACQ6mE+RjQBmgDL+k74TT9JNjT8Kk8kmJ3UI5pOozJwgxrv51J//z5sx0dFXRMXPz4r3"
    "HGSrWBc0nJw5VOHjPiveAxI9YgrrWR1jZOgxrN1hsl1lC0u2PTz0r67lSPGRT6pmGs6MhK"
    "OtBZuaJBjuOFh/J2hE3wQRZPPv1iPwE8cwPGb5Te5X8gZmOyj4PD1s0NEYOoZgovKfsUM0"
    "wTsgnyT+OP6v92qRYao6GI7U+95IVZUUz8UrJDjmNWl82fD1ggkT4H777s4bAiJbFfGA7s"
    "+duzdHpz9ICEzKJrbslHAp3yUhZNAllYwKUfbYkEK6O4V2jzgziXafiGWgoRTqIXUCef7i"
    "q2DuNxSA7uNVHmHltje46g/eXwALEZ1D/Eg6t7d3w0+9qwvAN69tviD9kdz1rh/uRZONxg"
    "4VLd3OoNu7uRFtmvh8w0B6cndl80qZwa+qgciETfnPw9MC3n3q3En2HbrsM7mAcIXHwOtp"
    "yy7BxZBrNoLUFT5xro3QV5a9P0KKlTjlsaGAUaFEW51Tm9gLo95vIzHzjNIvRhTHNx87v0"
    "mIZwuv52Y4eO8Pj+DevRleJvDWOHwcGxWyNOZXvIfhGcrGPU6ZwF73SN/5f9nMntkpK8TK"
    "0ofEWHirpIg1/Y+9+1Hn422MP1edUU/0tGO88VvfJLdFMAn4X3/0MxA/we/DQS8p+4Jxo9"
    "8V8U7QYaZKzLkK9Yhc8Vt91GJcdyx9Ra7HKRuuV4XrPkYRtntvH9nrMTUlfSrm7PMY1bZO"
    "w93yOH6IHZc5xI7zD7Hj5CGmIw3rfJM8LYt1irAOR1oC7cMyaB/mo32YVhnimnlZsJN0dV"
    "zaGwFbGDLj50wlO8AwDfy1aSM8IR/QIqVpJ5D2bM8HivYR8e/+uvJbwx1ow3lg/qWWGweA"
    "fzZiEoI7Ltvv+t2RkiWwN4BtN5yppvDGj6kS4Iaydndrt2KSuSy2qWMpB14hKJ6g9jyHtq"
    "7mSAxiMjzGWug7iiN/6ZFff7hDRuCIygZ9EJmqRitbwmi2zQh8MWDTXbP2LNkCCZzITxLP"
    "Fk9KOfh6L0g+ssAH6A5plXMEqkiMLukOHE0RmGLKTHtxAUzhxjPnwEK28NXNhJsOgrlpP/"
    "MGyzY1RCnSW8KjYWCkA9MGNvoTaZzTaZ/gxmZ+JI/kj8jnYf0PgKnwLRqcWcDVI1qAr2fe"
    "NnYFBnhGixagJmBT6Xn0J/O9lI/kDR8J5lOsTTklCKcHc0gBR5C/p2tX/wAow4YBprwdM+"
    "p/U0l/5VK+x0s86ZMc70qmaoTdVRHdb57YWM/tuE29aCJe4e2P7fbR0Vn74Oj0/OT47Ozk"
    "/OCcj5Xvm+46K1CeLvvv+4OEf0U0FPskY8tpGSdwinCT/uCt+CZ34v2NqUpidy8Ja5xqtz"
    "72fYF0VQ96hLzKlhVXX3594BrMRSijXe+47xoPfOqBS933qPsO9Wp4zk2HccjRquyKkFea"
    "XZwZN30vviHObMGMX3rdkRvfcI/bajCEy2zTVjVrvIxTIkZUZUZUxv3jG34asf5cxa/p09"
    "XQ1bZxx+bYNmdqUWA1G+oEWQ2R3rjwYOYKOMeIGpTLRps5gnrOuVkUcg7I6of0UbsE0kft"
    "XKRFVxzpGbe04SQD5fzAfoSkDgjvOrKPKXVWCvHGCGsY4d3fiG46kN+kb+RLtP0M5Oelb6"
    "SCcI2zfYVNv1tnux91y3CyRwJy+c5110TBqKRTvQMsaDPi+rrF7F6yq5cMSwHkP/wk2QzX"
    "+Qr0a3iil7bX1rHTquWf246Zlu92lv9fAmp/fA39D+2DgxJo81G5cMu+JomyOYVLn8KJyx"
    "Krn8Hx2xl7thJyT+BYYipF9pog1SyNaKsKSl9HM8tkiGiLDyhTT0mMKFRXcDhWfUaLJVIB"
    "IKFzrnZM8Asi8iZPEK2niDAwx2zKx4DIy7z9ICLtfKigEdd54ERE5U0io+7MC5SnMgO28S"
    "CZKOD63WSGgMBYhPgNBLhOBMbYpuIiEuNTMtHvxvWfEH8t733ylanPihcK4Hi6N4qaIH/V"
    "g/xLRnyaWE/5WM8zykjWy4fWG15DaLeixo7585Ft2d7OLx3diZPVEO3TMhbaab6FdpoKpO"
    "XFdnJFdG5cJ0NMV98X7gnq9uHx2fH50elxIJ+DliKx7IvgEM4nU88QDL/cDwfZaPrjkwYX"
    "1hj4CxiY7iGmBYAJIIrjC8lQQituLYkJmpuDjdH7j0bvNo2VmAc6w1RJeqjzDZWUW7xc/Q"
    "L0dgaxIWwBbizoLTC3MdfqCeDmgFD0KX8djiFX6aF7dR5S2S7zot2MYA1yA1fk82bXMtj0"
    "A8rUNQgPlsi2bGoX7CLVMt+EeMar5136tFXWw5S7XrfX/+Tm7GkIyzIF+166oOoFJ9KMU7"
    "yyEUtujoyyE/e9wehC+lAeyXWnL9kz5rKsKrzx3C/LaNxRkpV07pVYcrAnGreXnLPklds4"
    "VR2yehJm+clJGbP85CTfLBd9cagNSJmKbNvMuGSbnz0Vp6oD1E1plMqwomYGTuwU52fYCi"
    "yPkG2A33u08yrE3lIZc1Iuemf7CnzOIG/4XWV+78uVy6oweIkLgtLvkIlqUbAxSrU7vbom"
    "Ucfo1QUNWziPAUV3F+J0VXYTvGrcsaDqDfLrIsRBX7pqSEalhT0DvmwFkeimL1GbBcYSnT"
    "aGco0BTp1WJVAORMEGQK5Z1lUS3qTUXLoAzjYDI7d+IZOud+U+IziSGtMqCpAEpVFULz2q"
    "ZJSEizF7EaRU4UixFVHGJFJwhZoyfYo/GEsS0U1E2INzQgdoPEZaRoxk89Ovk7++dxUn6h"
    "AZadT5ranz4aZf3ixO0jY+r6oYyRUP6ku9IeO88vWJ/DMqSBUvczFKcygzZ/ygMMeyKJh3"
    "weknQB0L2W/lXMAtcxcpypXxTw6sN9U6x80rZpVW6bLUhnJKm8tSr5VlikSOyzIABwR1RP"
    "ikTGopH1UQMEwll2KqSlnk0Ky6vJemaSBIchJ2EqQJyJ847bYwD1p2qyBdDoc3sWP6sp+M"
    "DT58vOxxoSJZwAdhluOSsyCl3B7RVW5uTJdZ4SnCOq70bcgSG425FjTlB+ozynAVFXlBE4"
    "R1CJAnTsr2eZmjsn2ef1aKviYm/u+0D5p/OGJHF/cL4gxN/fcN139vbmuvC3tMLjTlZV63"
    "ljuysTZVskq4uz2twsrt4Zh/cqDkw7DhSuT/lhvKa6bh5jsvXpBNM6Om+cd0hKSGZ/RWMn"
    "LFploCYW94DdE9LGXUHRYYdYcZ1XRMwjKD0vn3OSMka13prBrau7jT+aqBgO9/A+L58rM="
)
