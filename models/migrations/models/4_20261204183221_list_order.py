from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP INDEX IF EXISTS "idx_activations_status_3f8472";
        DROP INDEX IF EXISTS "idx_activations_request_78939a";
        DROP INDEX IF EXISTS "idx_activations_company_f8a40e";
        CREATE INDEX IF NOT EXISTS "idx_activations_status_e32aed" ON "activations" ("status", "created_at", "id");
        CREATE INDEX IF NOT EXISTS "idx_activations_company_04ad25" ON "activations" ("company_id", "created_at", "id");
        CREATE INDEX IF NOT EXISTS "idx_activations_request_9ceca1" ON "activations" ("requester_id", "created_at", "id");"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP INDEX IF EXISTS "idx_activations_request_9ceca1";
        DROP INDEX IF EXISTS "idx_activations_company_04ad25";
        DROP INDEX IF EXISTS "idx_activations_status_e32aed";
        CREATE INDEX IF NOT EXISTS "idx_activations_company_f8a40e" ON "activations" ("company_id", "status");
        CREATE INDEX IF NOT EXISTS "idx_activations_request_78939a" ON "activations" ("requester_id", "status");
        CREATE INDEX IF NOT EXISTS "idx_activations_status_3f8472" ON "activations" ("status");"""


MODELS_STATE = (
    "eJztXXtv2zgS/yqE/+oCTpE4r272cIDjOK23qZNLnN5im4OWkWibG5nUilRco9fvviQlWW"
    "9V8iORtQKKtiY5lPwbcjgvjr+1ZtRAJnvb1Tl+hhxT0joD31oEzpD4T0pvG7SgZQV9soHD"
    "R1MNh8txqh0+Mm6LNtE1hiZDoslATLex5T2odU0QsNFfDmIccAo8egQgsGxqODoHUPwBOp"
    "1ZkCzaABIDzKfIRgBzwLj4yN7KJxlUF4/CZLLJSR2CxSQapxPERbeY+sv/RDMmBvqKmPz4"
    "pSWGc0d9Wd1G4iGGBrn8hI2WGPul5b0HsjXRkjnKe5XMMfKx1pM2xsg0IvxxCVS7xheWar"
    "u/H1xcqpESmEdNp6YzI8Foa8GnlCyHOw423koa2TdBBNny4SGWEcc0PQb7TS4yooHbDlpC"
    "YgQNBhpDx5SMb/1r7BBd8huoJ8m/jv7tvVpomKYNr0faXX+kaa3EOpGvEOOy16SLpSbWGC"
    "ZcMuTbd3feABDV2pIP6H3o3r45PPlJQUAZn9iqU8HV+q4IIYcuqWJugHLA5CjSvSm0+8SZ"
    "KbQHRC4dHSVQD6hjyIsXXwVzvyEAPdhcPpw+YMUhbt30hxeD4fszYCFiCIwfSPfm5vb6c/"
    "/iDIgdb9NnZDyQ2/7l/Z1sstHYYbKl1x32+ldXsk2X3980kRHfkunMas3gV81EZMKn4uPB"
    "SQ7zPndvFf8OXP5RIVVciTP0ejqqS7IxYJvYRsyVWFG2jdBXnr5BAoqVWOUt/i1zahObYd"
    "T/bSRnnjH2lxnG8c2n7m8K4tnC67m6Hr73h4dw711dn8fwjsqtKOYXoofjGUrHPUoZw97w"
    "SN/6/6nOpinMCrmyjGtiLrxVkseawaf+3aj76SbCn4vuqC97OhHe+K1v4ttiOQn472D0Ac"
    "iP4PfrYT8u/JbjRr+35DtBh1ON0LkGjZA091t91CJcdyxjRa5HKRuuV4XrPkYhtntvH9rr"
    "EY0leSxm7PMIVZWPw+I8jh5iR0UOsaPsQ+wofogZSMeG2CSPZbFOENbhSIuhfVAE7YNstA"
    "+SKkNUXS8Kdpyujkt7I2BLS2b8lKplLzFMAn9JbYQn5CNaJFTtGNKewXrP0C4i/t1fV35r"
    "sANtOF/af4nlJgAQXxtxBcGtkO23g96olSawN4BtL5ippvBGj6kC4Aay9uXWbsUkc1FsE8"
    "dSBrxSUDxC/WkObUPLkBiEcjzGeuBwiiJ/7pFffrxF5tJ7lQ76MDRVjVa2gpF2aAi+CLDJ"
    "rllnFm+BBE7UV5LPlk9KeAX7z0g9Msdx6A5pF/MeakiOLuhDHE0RmGLGqb04A1T6/ugcWM"
    "iWDr6Z9O1BMKf2k2iwbKojxpDRlh4NEyMDUBvY6E+kC04nHYkbm/mBPJA/Ql8PG38AzKRD"
    "0hTMAq4e0QZiPYu2sSswwBNatAGjgE+Vu9KfzHdtPpA3YiSYT7E+FZQgmB7MIQMCQfGerl"
    "39E2AcmyaYinbMmf+dCjo5Szkfz/FkQDK8K6mqEXZXRXi/eWJjPb/jNvWiiXyFvZ87ncPD"
    "087+4cm746PT0+N3++/EWPW+ya7THOXpfPB+MIz5V2RDvlMyspzKeIEThJt0CCfl4EtyZh"
    "33b0RVkru7JKxRqpd1su8KpKu60EPkVbashPryn3uhwZwFMtr1jvuu8aVPfelS9z3qvkO9"
    "Gp5z6nABOVqVXSHySrNLMONq4MU35JktmfFrvzdy4xvucVsNhgiZTW1Nt8ZlnBIRoiozoj"
    "LuH9/w04n15yp+TZ+uhq62jTs2xzadaXmR1XSoY2Q1RHrjwoPTFXCOEDUoF402CwSNjHMz"
    "L+S8JKsf0oedAkgfdjKRll1RpGfC0oaTFJSzA/shkjog/NKRfcyYs1KIN0JYwwjv7kZ0k4"
    "H8Jn0jW6LtZiA/K30jEYRrnO0rbPqXdbb7UbcUJ3soIJftXHdNFIwKOtW7wII2J66vW87u"
    "Zch6GbQMQPHBz6xNcZ2vQL+GJ7q0vbaOnVYt/9x2zLRst7P6twTU/vga+h86+/sF0BajMu"
    "FWfU0SZXMKFz6FYzcsVj+Do1c6dmwlZJ7AkcRUhuw1QapZGtFWFZSBgWYW5Yjoi48oVU+J"
    "jchVV3AwVntCixKpAJCwuVA7JvgZEXX9ZxmtZ4hwMMd8KsaA0MvsfZSRdjFU0sg7QHAio/"
    "KUqKg79wLlicyAbTxIJQq4fjeVISAxliF+EwGhE4Extpm8vcTFlFz2u3H9RyRey3ufbGXq"
    "S8sLBQg83StFTZC/6kH+khGfJtZTPNbzhFKS9bKh9YbXENqtqLFj8XxkW7a38wtHd6JkNU"
    "T7pIiFdpJtoZ0kAmlZsZ1MEZ0Z10kR09X3hXuCunNwdHr07vDkaCmfly15YtkXwQGcj9RI"
    "EQy/3l0P09H0x8cNLqxz8H9gYraDmOYAJoHIjy/EQwntqLUkJ2huDjZG7w+N3m0aKxEPdI"
    "qpEvdQZxsqCbd4saIHaG8GsSltAWEsGG0wt7HQ6gkQ5oBU9Jl4HYGhUOmhe3ceMtWu8qLd"
    "jGAdCgNX5vOmF0DY9ANWLobQFC94iVTLbBPiCa+ed+nTVlkPa932e/3BZzdnT0dYlSnY9d"
    "IFu1dxouWVjSi5OVLKTtz1h6Mz5UN5IJfdgWLPWMiyqvDGc7+U0bjDJCvp3CuxZH9HNG4v"
    "OafkldsoVR2yemJm+fFxEbP8+DjbLJd9UahNyLiGbJumXLLNzp6KUtUB6qY0SmVYUTMDJ3"
    "KKizNsBZaHyDbA7x3aeRVib6GMOSUXvbN9BT6nkDf8rjK/d+XKZVUYXOKCoPI7pKKaF2wM"
    "U72cXl2TqGP46oKOLZzFgLy7C1G6KrsJXjXumFP1Bvl1EaKgl64aklJpYceAL1pBJLzpC9"
    "RmgZFEp42hXGOAE6dVAZSXomADINcs6yoOb1xqli6As83AyI1fyKTnXblPCY4kxrTzAiTL"
    "0iialx5VMEoixJi9WKZU4VCxFVnGJFRwhVGVPiUejBWJ7CYy7CE4YQA0HiM9JUay+enXyV"
    "/fuYoTdYiMNOr81tT5YNOXN4vjtI3PqypGcsWD+rdoLL7HdESfUGpQP9Kfe2bZ7kghy8XQ"
    "wjemPCqgqMQ5IdaWAajj/dyASSd7mLTBE7I48Apx3X3o7nWOT+QZg6A+FYcKY1KkejMhJn"
    "OD5UA6J2l3rF7giUXi/jLTPvnbBdmBfwNPECuVFxhQ1O7K1qYSAnOSiJvgwz9EEMevv5T0"
    "54RIGldOeVeOw5raxT82f0OLLGL59rp3ve5F/7UMX4V6itLgcyNbWVjeMyuiI+gO43QmrE"
    "w6VhVFvdvRvwDmWMjeU3MBt0ZuqKJnyo8crTfVOrbqK15JqdCxvakLKc1N69e6ooJkgmwZ"
    "gJcEdUT4uIgaKkblZBslbqZgpilZlH4wnlNqIkgysn1jpDHIHwXttjBftrysd+X8+voqol"
    "qeD+KJRfefzvtCqCgWiEGYZ8TzLMjYnIoTcQrZtMwKTxDWcaU3VRsaE2szJlbzI0hbLEKT"
    "Y2g1v2Wy4d8yaSqPrAt7RC40pdJKwZX0tq+OV9zHXxe8tun66CIb69NW2s+3uD3t3F9tCc"
    "b8yP+RDcOGf4Xkn1KdZM0rONm+h2dks9SMqWy1JkRSQ51mK7dx5KYqgbA3vIboHhSyyQ5y"
    "bLKDFJuMEp6akJZdyyFEslY5h6qh/RL1HF41CeD73wN5nt0="
)
