from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "refresh_tokens" (
    "digest" VARCHAR(64) NOT NULL PRIMARY KEY,
    "created_at" TIMESTAMPTZ NOT NULL,
    "user_id" VARCHAR(11) NOT NULL REFERENCES "users" ("cpf") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_refresh_tok_user_id_1da027" ON "refresh_tokens" ("user_id", "created_at");
COMMENT ON TABLE "refresh_tokens" IS 'A refresh token handed out at a log-in, kept as its SHA-256 so each session refreshes on its own.';
        ALTER TABLE "users" DROP COLUMN "refresh_token";"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "users" ADD "refresh_token" VARCHAR(128);
        DROP TABLE IF EXISTS "refresh_tokens";"""


MODELS_STATE = (
    "eJztXXtv2zgS/yqE/+oCTpE4r272cIDjOK23qZNLnN5im4OWkWibG5nUilRco9fvviQlWW"
    "9VcmxH1goo2prkUNJvxOG8OPrWmlEDmextV+f4GXJMSesMfGsROEPiPym9bdCClhX0yQYO"
    "H001HC7HqXb4yLgt2kTXGJoMiSYDMd3Glneh1jVBwEZ/OYhxwCnw6BGAwLKp4egcQPEH6H"
    "RmQbJoA0gMMJ8iGwHMAePiJ3srr2RQXVwKk8k6J3UIFpNonE4QF91i6i//E82YGOgrYvLn"
    "l5Z3HWRr2JA0gpw7rCXGfWl5F4j1yCmsJ22MkWlEsHaHqXaNLyzVdn8/uLhUI+VDPmo6NZ"
    "0ZCUZbCz6lZDnccbDxVtLIvgkiyBbPbYTgJ45peszym9ynFA3cdtDy8YygwUBj6JiSia1/"
    "jR2iS94BdSX519G/vVsLDdO04fVIu+uPNK2V4Lm8hRjHvCZdvDbifcGES3C/fXfnDQBRrS"
    "15gd6H7u2bw5OfFASU8YmtOhVcre+KEHLokipGBSh7bEgg3ZtCu0+cmUJ7QORroKME6gF1"
    "DHlx46tg7jfkgO7jVRzh1k1/eDEYvj8DFiKGgPiBdG9ubq8/9y/OgFi8Nn1GxgO57V/e38"
    "kmG40dJlt63WGvf3Ul23T5+KaJjPjqSudVawa/aiYiEz4VPw9Ocnj3uXur2Hfgso8KAeEK"
    "j6HX01FdkosB12wEmSt8olwboa88fX0EFCtxymNDDqMCibY6p9axFkb930Zy5hljf5lhHN"
    "986v6mIJ4tvJ6r6+F7f3gI997V9XkMb13AJ7DRIE9ifiF6OJ6hdNyjlDHsDY/0rf+f9ayZ"
    "rbJCvlnGNTEX3luSx5rBp/7dqPvpJsKfi+6oL3s6Ed74rW/iy2I5CfjvYPQByJ/g9+thPy"
    "77luNGv7fkPUGHU43QuQaNkFzxW33UIlx3LGNFrkcpG65Xhes+RiG2e3cfWusRNSW5K2as"
    "8wjVpnbD7fI4uokdFdnEjrI3saP4JmYgHRtikTyWxTpBWIctLYb2QRG0D7LRPkiqDFHNvC"
    "jYcbo6vtprAVsaMuOnVCV7iWES+EtqIzwhH9EioWnHkPZsz3uGdhHx7/575bcGK9CG86X5"
    "l3jdBADisRFXENwK2X476I1aaQJ7Ddj2gplqCm90myoAbiBrt/fuVkwyF8U2sS1lwCsFxS"
    "PUn+bQNrQMiUEox2OsB76jKPLnHvnlx1tkLh1R6aAPQ1PV6M1WMNIODcEXATbZNevM4i2Q"
    "wIl6JHlteaWEg6//jNQlc3yA7pB2MUeghuTogu7A0RSBKWac2oszQKUbj86BhWzpq5tJNx"
    "0Ec2o/iQbLpjpiDBlt6dEwMTIAtYGN/kS64HTSJ7i2mR/IA/kj9HjY+ANgJn2LpmAWcPWI"
    "NhDvs2gbuwIDPKFFGzAK+FR5Hv3JfC/lA3kjRoL5FOtTQQmC6cEcMiAQFPfp2tU/AcaxaY"
    "KpaMec+c9U0F9Zyvd4jicDkuFdSVWNsPtWhNebJzZe5nbcpF40kbew93Onc3h42tk/PHl3"
    "fHR6evxu/50Yq+432XWaozydD94PhjH/imzI90lGXqcyTuAE4Tr9wRvxTW7F+xtRleTqLg"
    "lrlGq7PvZdgXRVD3qIvMqWlVBf/nMvNJizQEa73nHfNb70qS9d6r5H3XeoV8NzTh0uIEer"
    "sitEXml2CWZcDbz4htyzJTN+7fdGbnzD3W6rwRAhs6mt6da4jFMiQlRlRlTG/eMbfjqx/l"
    "zFr+nT1dDVtnbH5timMy0vsJoOdYyshkivXXhwugLOEaIG5aLRZoGgkbFv5oWcl2T1Q/qw"
    "UwDpw04m0rIrivRMWNpwkoJydmA/RFIHhLcd2ceMOSuFeCOENYzw7m5ENxnIb9I3siXabg"
    "bys9I3EkG4xtm+wqLfrrPdj7qlONlDAbls57promBU0KneBRa0OXF93XJ2L9nVS4ZlAIof"
    "fpJsiut8BfoXeKJL22svsdOq5Z/bjJmW7XZW/5aA2h9fQ/9DZ3+/ANpiVCbcqq9Jomx24c"
    "K7cOywxOp7cPR0xo69CZk7cCQxlSH7hSDVLI1oowrKwEAzi3JE9MVHlKqnxEbkqis4GKs9"
    "oUWJVABI2FyoHRP8jIg6ybOM1jNEOJhjPhVjQOhm9j7KSLsYKmnkcR44kVF5SlTUnXuB8k"
    "RmwCYupBIFXL+byhCQGMsQv4mA0InAGNtMHkTiYkou+924/iMSt+XdT7Yy9aXlhQIEnu6J"
    "oibIX/Ugf8mITxPrKR7reUIpyXrZ0HrDawjtRtTYsbg+si3bW/mFoztRshqifVLEQjvJtt"
    "BOEoG0rNhOpojOjOukiOnq+8I9Qd05ODo9end4crSUz8uWPLHsi+AAzkdqpAiGX++uh+lo"
    "+uPjBhfWOfg/MDHbQUxzAJNA5McX4qGEdtRakhM0Jwcbo/eHRu8mjZWIBzrFVIl7qLMNlY"
    "RbvFj9ArQ3g9iUtoAwFow2mNtYaPUECHNAKvpM3I7AUKj00D06D5lqV3nRbkawDoWBK/N5"
    "02sZrPsCReoaBBtLaFk2tQu2kWqZbUI84dXzLn3aKuthrdt+rz/47Obs6QirMgW7Xrqg6g"
    "UnkoxreWUjSi6OlLITd/3h6Ez5UB7IZXeg2DMWsqwqvPHcL2U07jDJSjr3SizZ3xGN20vO"
    "KXnkNkpVh6yemFl+fFzELD8+zjbLZV8UahMyriHbpimHbLOzp6JUdYC6KY1SGVbUzMCJ7O"
    "JiD1uB5SGyNfB7h1ZehdhbKGNOyUVvb1+BzynkDb+rzO9dOXJZFQaXOCCo/A6pqOYFG8NU"
    "29OraxJ1DB9d0LGFsxiQd3YhSldlN8Grxh1zqt4gvy5CFPTSVUNSKi3sGPBFK4iEF32B2i"
    "wwkui0NpRrDHBityqA8lIUrAHkmmVdxeGNS83SBXA2GRi58QuZ9Lwj9ynBkcSYdl6AZFka"
    "RfPSowpGSYQYsxfLlCocKrYiy5iECq4wqtKnxIWxIpHdRIY9BCcMgMZjpKfESNY//Uvy13"
    "eu4kQdIiONOr8xdT5Y9OXN4jht4/OqipFc8aD+LRqL55iO6BNKDepH+nP3LNsdKWS5GFr4"
    "xJRHBRSV2CfEu2UA6nhfDjDpZA+TNnhCFgdeIa67D929zvGJ3GMQ1KdiU2FMilRvJsRkbr"
    "AcSOck7YzVFq5YJO4vM+09SVgo8G/gCWKl8gIDitod2VpXQmBOEnETfPiHCOL48ZeS/pwQ"
    "SePKKe/KcVhTu/jH5m/oJYtYvr3uXa970X8tw1ehnqI0+NzIVhaW58yK6Ai6wzidCSuTjl"
    "VFUe909C+AORay99RcwK2RG6romfK9opdN9RJb9RWPpFRo217XgZTmpPVrHVFBMkG2DMBL"
    "gjoifFxEDRWjcrKNEidTMNOULErfGM8pNREkGdm+MdIY5I+CdlOYL1u26105v76+iqiW54"
    "N4YtH9p/O+ECqKBWIQ5hnxPAsyNqdiR5xCNi3zhicI6/imN1UbGhNrPSZW8xGkDRahyTG0"
    "mm+ZrPlbJk3lkZfCHpELTam0UnAlve2r4xX38dcFr026PrrIxvq0lfb5FrennfvVlmDMj/"
    "wf2TCs+Ssk/5TqJC88gpPte3hGNkvNmMpWa0IkNdRpNnIaRy6qEgh7w2uI7kEhm+wgxyY7"
    "SLHJKOGpCWnZtRxCJC8q51A1tLdRz+FVkwC+/w2EsY8j"
)
