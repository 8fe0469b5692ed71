"""IAM on the emulator: every AWS call the app makes, checked against the role of the
function making it, as the deployment's template grants it.

moto can enforce IAM (INITIAL_NO_AUTH_ACTION_COUNT), but for most services it checks
only the action: it asks about resource "*", so a policy scoped to a table's ARN, as
ours are, would be denied everything. This checks the action *and* the resource. It sits
on the one boto3 session all of the app's clients come from (`chalicelib/aws.py`): before
a call is sent, it works out the IAM action(s) and resource ARN(s) AWS would authorize,
and refuses the call with AccessDeniedException, as AWS would, unless the role of the
function running allows each one.

Which function is running is set by the tests' drivers: an API request runs as
APIHandler (its token and session check included), an invoked handler as its own
function. Code a test runs directly (its setup) is not a function and is not checked.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from infra.template import FUNCTIONS
from tests.deploy.cfn import ACCOUNT, REGION, Policy, Stack

# Operations AWS serves without IAM (Cognito's user-facing API, authorized by its tokens
# and the app client's secret).
UNAUTHENTICATED = {
    ("cognito-idp", op)
    for op in (
        "InitiateAuth",
        "RespondToAuthChallenge",
        "SignUp",
        "ConfirmSignUp",
        "ForgotPassword",
        "ConfirmForgotPassword",
        "ChangePassword",
        "GlobalSignOut",
        "RevokeToken",
        "GetUser",
        "ResendConfirmationCode",
    )
}

S3_ACTIONS = {
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "DeleteObject": "s3:DeleteObject",
    "ListObjectsV2": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "ListObjectVersions": "s3:ListBucketVersions",
    # a multipart upload is authorized as the object's put, its abort on its own
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "ListMultipartUploads": "s3:ListBucketMultipartUploads",
}

TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}
TRANSACT["ConditionCheck"] = "ConditionCheckItem"
TRANSACT["Get"] = "GetItem"


@dataclass(frozen=True)
class Call:
    function: str
    action: str
    resource: str
    allowed: bool


def camel(handler: str) -> str:
    """chalice's logical id of a handler: crm_sync_retry -> CrmSyncRetry."""
    return "".join(part.title() for part in handler.split("_"))


@dataclass
class Enforcer:
    region: str = REGION
    account: str = ACCOUNT
    policies: dict[str, Policy] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    kms_key_arn: str = ""
    # Which function runs, per thread (tests send concurrent requests); a thread that
    # never said (a worker thread the function started, as the CRM sync's pool) acts as
    # the function that started last.
    _local: threading.local = field(default_factory=threading.local)
    _latest: list[str | None] = field(default_factory=lambda: [None])

    @property
    def role(self) -> str | None:
        if hasattr(self._local, "role"):
            return self._local.role  # type: ignore[no-any-return]
        return self._latest[0]

    @contextmanager
    def acting_as(self, function: str) -> Iterator[None]:
        had = hasattr(self._local, "role")
        outer = getattr(self._local, "role", None)
        self._local.role = function
        self._latest[0] = function
        try:
            yield
        finally:
            if had:
                self._local.role = outer
            else:
                del self._local.role
            self._latest[0] = outer

    # --- set-up ---------------------------------------------------------------------

    def configure(self, template: dict[str, Any], env: dict[str, str]) -> None:
        """The roles of `template`, resolved against the local stack `env` describes."""
        stack = local_stack(env, self.region, self.account)
        self.kms_key_arn = stack.get_att("AppKey", "Arn")
        resources = template["Resources"]
        self.policies = {fn.name: Policy.of_role(resources[fn.role], stack) for fn in FUNCTIONS}
        self.calls = []

    def attach(self, client: Any) -> Any:
        client.meta.events.register("before-parameter-build", self._before_call)
        return client

    # --- the check ------------------------------------------------------------------

    def _before_call(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        function = self.role
        if function is None:
            return
        service = model.service_model.service_name
        if (service, model.name) in UNAUTHENTICATED:
            return
        policy = self.policies.get(function)
        for action, resource, context in self.requests(service, model.name, params):
            allowed = policy is not None and policy.allows(action, resource, context)
            self.calls.append(Call(function, action, resource, allowed))
            if not allowed:
                from botocore.exceptions import ClientError

                raise ClientError(
                    {
                        "Error": {
                            "Code": "AccessDeniedException",
                            "Message": f"{function}'s role may not {action} on {resource}",
                        }
                    },
                    model.name,
                )

    def requests(
        self, service: str, op: str, params: dict[str, Any]
    ) -> list[tuple[str, str, dict[str, str]]]:
        """The (action, resource, condition context) AWS authorizes for one call."""
        arn = f"arn:aws:{{}}:{self.region}:{self.account}:{{}}"
        if service == "dynamodb":
            table = lambda name: arn.format("dynamodb", f"table/{name}")  # noqa: E731
            if op in ("BatchWriteItem", "BatchGetItem"):
                return [(f"dynamodb:{op}", table(t), {}) for t in params["RequestItems"]]
            if op in ("TransactWriteItems", "TransactGetItems"):
                out = []
                for item in params["TransactItems"]:
                    ((kind, body),) = item.items()
                    out.append((f"dynamodb:{TRANSACT[kind]}", table(body["TableName"]), {}))
                return out
            resource = table(params["TableName"])
            if params.get("IndexName"):
                resource += f"/index/{params['IndexName']}"
            return [(f"dynamodb:{op}", resource, {})]
        if service == "kms":
            key = params.get("KeyId") or self.kms_key_arn
            if not key.startswith("arn:"):
                key = arn.format("kms", f"key/{key}")
            return [(f"kms:{op}", key, {})]
        if service == "secretsmanager":
            return [(f"secretsmanager:{op}", params["SecretId"], {})]
        if service == "s3":
            action = S3_ACTIONS.get(op, f"s3:{op}")
            bucket = f"arn:aws:s3:::{params['Bucket']}"
            if "Key" in params:
                return [(action, f"{bucket}/{params['Key']}", {})]
            if op == "DeleteObjects":  # authorized as the delete of each object
                return [
                    ("s3:DeleteObject", f"{bucket}/{o['Key']}", {})
                    for o in params["Delete"]["Objects"]
                ]
            if op == "ListMultipartUploads":  # no s3:prefix condition key for this action
                return [(action, bucket, {})]
            return [(action, bucket, {"s3:prefix": params.get("Prefix", "")})]
        if service == "logs":
            group = params.get("logGroupName")
            resource = arn.format("logs", f"log-group:{group}") if group else "*"
            return [(f"logs:{op}", resource, {})]
        if service == "cognito-idp":
            pool = params.get("UserPoolId")
            resource = arn.format("cognito-idp", f"userpool/{pool}") if pool else "*"
            return [(f"cognito-idp:{op}", resource, {})]
        if service == "sqs":
            name = str(params.get("QueueUrl", "")).rstrip("/").rsplit("/", 1)[-1]
            action = op.removesuffix("Batch")  # a batch is authorized as its single form
            return [(f"sqs:{action}", arn.format("sqs", name), {})]
        if service == "sesv2":
            sender = params.get("FromEmailAddress", "")
            identity = arn.format("ses", f"identity/{sender.rpartition('@')[2]}")
            return [(f"ses:{op}", identity, {"ses:FromAddress": sender})]
        return [(f"{service}:{op}", "*", {})]

    # --- what was seen ----------------------------------------------------------------

    def denied(self) -> list[Call]:
        return [c for c in self.calls if not c.allowed]

    def tables_touched(self, function: str) -> set[str]:
        found = set()
        for call in self.calls:
            if call.function == function and call.action.startswith("dynamodb:"):
                found.add(re.sub(r"/index/.*$", "", call.resource).rsplit("/", 1)[1])
        return found


def local_stack(env: dict[str, str], region: str = REGION, account: str = ACCOUNT) -> Stack:
    """The template's logical resources, as the local stack `env` describes has them."""
    tables = {
        "MainTable": env["MAIN_TABLE"],
        "SessionsTable": env["SESSIONS_TABLE"],
        "OpsTable": env["OPS_TABLE"],
        "AuditTable": env["AUDIT_TABLE"],
        "KeysTable": env["KEYS_TABLE"],
    }
    key_id = env["KMS_KEY_ID"]
    key_arn = (
        key_id if key_id.startswith("arn:") else f"arn:aws:kms:{region}:{account}:key/{key_id}"
    )
    group = env["LOG_GROUP_NAME"]
    refs = {
        **tables,
        "Stage": env.get("STAGE", "test"),
        "LogBucket": env["LOG_BUCKET"],
        "DataBucket": env["DATA_BUCKET"],
        "ImportQueue": env["IMPORT_QUEUE_URL"],
        "AppLogGroup": group,
        "UserPool": env["USER_POOL_ID"],
        "UserPoolClient": env["USER_POOL_CLIENT_ID"],
        "AppSecret": env["APP_SECRET_ARN"],
        "ClientSecret": env["USER_POOL_CLIENT_SECRET_ARN"],
        # the console's CloudFront proof: no distribution locally, so no such secret is made
        "OriginSecret": f"arn:aws:secretsmanager:{region}:{account}:secret:vo-origin-secret",
        "AppKey": key_id,
        "MailFrom": env.get("MAIL_FROM", ""),
    }
    attrs: dict[tuple[str, str], str] = {}
    for logical, name in tables.items():
        table_arn = f"arn:aws:dynamodb:{region}:{account}:table/{name}"
        attrs[(logical, "Arn")] = table_arn
        attrs[(logical, "StreamArn")] = f"{table_arn}/stream/local"
    for queue in ("StreamFailureQueue", "ScheduleDeadLetterQueue"):
        attrs[(queue, "Arn")] = f"arn:aws:sqs:{region}:{account}:{queue}"
    attrs[("AppKey", "Arn")] = key_arn
    attrs[("LogBucket", "Arn")] = f"arn:aws:s3:::{env['LOG_BUCKET']}"
    attrs[("DataBucket", "Arn")] = f"arn:aws:s3:::{env['DATA_BUCKET']}"
    import_queue = env["IMPORT_QUEUE_URL"].rstrip("/").rsplit("/", 1)[1]
    attrs[("ImportQueue", "Arn")] = f"arn:aws:sqs:{region}:{account}:{import_queue}"
    attrs[("ImportQueue", "QueueName")] = import_queue
    attrs[("AppLogGroup", "Arn")] = f"arn:aws:logs:{region}:{account}:log-group:{group}:*"
    attrs[("UserPool", "Arn")] = (
        f"arn:aws:cognito-idp:{region}:{account}:userpool/{env['USER_POOL_ID']}"
    )
    return Stack(refs, attrs, region, account)
