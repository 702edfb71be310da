"""Verifies Tollgate's webhook deliveries with the Standard Webhooks reference
library from PyPI (`standardwebhooks`), a receiver no one at Tollgate wrote.

Reads JSON on stdin: {"secrets": ["whsec_…", …], "deliveries": [{"headers": {…},
"body": "…"}]}. Every delivery must verify with every secret given (a delivery
signed during a rotation carries a signature per secret), and the same delivery
with its body altered must not. Prints one line per delivery; exits 1 on the
first failure. Used by server/tests/it/webhooks.rs through
TOLLGATE_TEST_WEBHOOK_VERIFIER (scripts/test.sh installs the library).
"""

import json
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def main() -> int:
    given = json.load(sys.stdin)
    for n, delivery in enumerate(given["deliveries"]):
        headers = delivery["headers"]
        body = delivery["body"]
        for secret in given["secrets"]:
            payload = Webhook(secret).verify(body, headers)
            if payload.get("id") != headers.get("webhook-id"):
                print(f"delivery {n}: body id {payload.get('id')} is not webhook-id {headers.get('webhook-id')}")
                return 1
            try:
                Webhook(secret).verify(body + " ", headers)
            except WebhookVerificationError:
                pass
            else:
                print(f"delivery {n}: an altered body verified")
                return 1
        print(f"delivery {n}: {payload['type']} verified with {len(given['secrets'])} secret(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
