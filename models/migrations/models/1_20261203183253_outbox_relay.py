from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "notifications" ADD "last_attempt_at" TIMESTAMPTZ;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "notifications" DROP COLUMN "last_attempt_at";"""


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
    "qmjYQTlmxbkN20DlEbEK9H1AK69G6i0VhJL7omfbN9BzhvhR33XW96FkMddFwWvk3EreIR"
    "PVoiT9qNT+/OqGZOtHs4E0bOE8BRSlA8Xl6kwTfNO0zYJCUuSXGm1ZiJdRvHRgwJctyosu"
    "+hLljjAWO6gM5QYDnLJWJVAOtoIKQG5YICMJb3LXXLumdJeBkTu/NrDvVbFkBEdSY1pFAZ"
    "Kg2lD1CmNKRkn4NmavguJFHKlfFJWBkRpGasqCQ35jLEVENxFhD64JHaDpFGkZMZLqL79N"
    "SsjBFXE1ITJydOd35s6Hi379Y3FS9sh51eWQXEFyyC5tl/QbMuyV70/k26gg+6JMrqHmUG"
    "YuuKEwp7LO3ssZ/A+gjoXs1/JawP1yRKTOPeMrnttdahtzs15pXqVFeXXKP6yoJO+Yf/it"
    "8g+RyHFZB+BAoIkIn5fJp+WjCgKGqcJHTFW5Fzk061NXPdM0ECR55TRx0QTkz1x2V5gHLf"
    "t1kHrj8W3MTPeGydjg4/vegG8qUgV8EGY5lJwFKeXnEV3lx435OjM8JdjEmb6LvcRGU+4F"
    "zblBfUEZVFERC5oQbEKAPGEpO5dlTGXnMt9Wir5jTPzfeT44fot1T7UwBXGG4ycVK/6k4r"
    "EAotICiGPF5rf9PCKysTZXsr6K6Pa0Cj+GGI75JwIlH4aKP+73b/my35ZpuPnkxSdk08yo"
    "ab6Zjog00EbvJCNXLKo1EPaGNxDddqlDXbvgUNfOKFA1CcsMSv/4MB7luZqBSPJkgTUG/g"
    "YGpgecXpEFrgAjdnxIpTwns5sT5wJxgV6W/7nPQMDX/wOkbOU1"
)
