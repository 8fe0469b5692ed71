"""A view imports the logic it calls inside its body: a cold start pays only for what its
route uses (`chalicelib/api/__init__.py`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _fresh_python(code: str) -> str:
    """What `code` prints, run in a new interpreter at the project's root."""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_importing_the_app_loads_no_route_logic_and_no_aws_sdk():
    """Cold start: /health needs none of it; a route loads its own logic when called."""
    code = (
        "import sys, app\n"
        "heavy = [m for m in ('boto3', 'pynamodb', 'chalicelib.logic.campaigns', "
        "'chalicelib.dal.models', 'chalicelib.domain', 'requests', 'pydantic', 'jwt') "
        "if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = _fresh_python(code)
    assert out.strip() == "[]", out


def test_a_bad_token_loads_only_the_token_check():
    """Every signed-in route checks the token and session in the API function: a request
    with a bad token is answered 401 having loaded that check, not what sign-in, the
    policy, the audit trail or the view needs."""
    code = (
        "import json, os, sys\n"
        "os.environ.update(USER_POOL_ID='us-east-1_x', APP_SECRET='s' * 32, "
        "USER_POOL_CLIENT_ID='c', USER_POOL_CLIENT_SECRET='s', KMS_KEY_ID='k', "
        "IMPORT_QUEUE_URL='q')\n"
        "from app import app\n"
        "event = {'resource': '/me', 'path': '/me', 'httpMethod': 'GET', "
        "'headers': {'Authorization': 'Bearer x.y.z'}, 'multiValueHeaders': {}, "
        "'queryStringParameters': None, 'multiValueQueryStringParameters': None, "
        "'pathParameters': None, 'stageVariables': None, 'body': None, "
        "'isBase64Encoded': False, 'requestContext': {'resourcePath': '/me', "
        "'httpMethod': 'GET', 'path': '/api/me', 'requestId': 'r', 'stage': 'api'}}\n"
        "answer = app(event, None)\n"
        "print(answer['statusCode'], json.loads(answer['body'])['Code'], "
        "'chalicelib.logic.principal' in sys.modules)\n"
        "print([m for m in ('chalicelib.logic.auth_flows', 'chalicelib.logic.access', "
        "'chalicelib.logic.me', 'chalicelib.audit.store', 'chalicelib.auth.cognito', "
        "'chalicelib.auth.totp', 'chalicelib.crypto', 'pyotp') if m in sys.modules])\n"
    )
    assert _fresh_python(code).splitlines()[-2:] == ["401 UnauthorizedError True", "[]"]


def test_a_domain_object_loads_only_its_own_module():
    code = (
        "import sys\n"
        "from chalicelib.domain.people import User\n"
        "from chalicelib.domain.campaigns import Role\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('chalicelib.domain.'))\n"
        "print(loaded, Role.ADMIN.value)\n"
    )
    assert _fresh_python(code).split() == [
        "['chalicelib.domain.campaigns',",
        "'chalicelib.domain.people']",
        "admin",
    ]
