"""The embedded AWS emulator and everything the app needs on it.

The tables, bucket and log group are created from the definitions in
`infra/resources.json`, the same template AWS deploys, so the two cannot drift.
moto's CloudFormation skips Cognito pools (and a GetAtt on one crashes the stack),
so the pool and its client are created through the API from the same properties.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "resources.json"
REGION = "us-east-1"

# logical id in the template -> environment variable naming the local table/bucket
TABLES = {
    "MainTable": "MAIN_TABLE",
    "SessionsTable": "SESSIONS_TABLE",
    "OpsTable": "OPS_TABLE",
    "AuditTable": "AUDIT_TABLE",
    "KeysTable": "KEYS_TABLE",
}


def template() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(TEMPLATE.read_text())
    return loaded


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {
        name: res["Properties"]
        for name, res in template()["Resources"].items()
        if res["Type"] == kind
    }


def base_environment(endpoint: str, stage: str = "local") -> dict[str, str]:
    """Settings every local process shares (no secrets of any real account)."""
    prefix = f"vo-{stage}"
    return {
        "STAGE": stage,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_ENDPOINT_URL": endpoint,
        "MAIN_TABLE": f"{prefix}-main",
        "SESSIONS_TABLE": f"{prefix}-sessions",
        "OPS_TABLE": f"{prefix}-ops",
        "AUDIT_TABLE": f"{prefix}-audit",
        "KEYS_TABLE": f"{prefix}-keys",
        "LOG_BUCKET": f"{prefix}-logs",
        "DATA_BUCKET": f"{prefix}-data",
        "LOG_GROUP_NAME": f"/aws/lambda/{prefix}",
        "AUTO_CONFIRM_SIGNUP": "true",
        "MOTO_ALLOW_NONEXISTENT_REGION": "true",
    }


_serialized = False


def serialize_dynamodb() -> None:
    """Make moto's DynamoDB handle one request at a time, as the real service is atomic.

    moto's threaded server runs a conditional write as read-then-write in Python,
    so two concurrent requests can both pass a condition (seen: two claims of one
    sync record both won). DynamoDB never allows that; with this lock, neither does
    the local stack.
    """
    global _serialized
    if _serialized:
        return
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    lock = threading.Lock()
    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        original = handler.call_action

        def call_action(self: Any, _original: Any = original) -> Any:
            with lock:
                return _original(self)

        handler.call_action = call_action  # type: ignore[method-assign]
    _keep_streams_through_refused_transactions()
    _serialized = True


def _keep_streams_through_refused_transactions() -> None:
    """A refused transaction leaves the stream as it was, as in DynamoDB.

    moto applies a transaction's items one by one and, when one is refused, puts back a
    copy of each table taken before. The stream records of the items it had applied
    stay in the original table's stream, which every open shard iterator still reads,
    while new records go to the copy's: readers saw changes that never happened and
    then nothing more. Here the original stream is kept, without those records.
    """
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        shards: dict[str, tuple[Any, int]] = {}
        for item in transact_items:
            _, op = next(iter(item.items()))
            name = op.get("TableName") if isinstance(op, dict) else None
            if not isinstance(name, str) or name in shards:
                continue
            table = self.tables.get(name)
            if table is not None and table.stream_shard is not None:
                shards[name] = (table.stream_shard, len(table.stream_shard.items))
        try:
            return original(self, transact_items)
        except Exception:
            for name, (shard, length) in shards.items():
                del shard.items[length:]
                restored = self.tables.get(name)
                if restored is not None:
                    restored.stream_shard = shard
                    shard.table = restored
            raise

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


@dataclass
class Emulator:
    """moto in server mode, in this process, on a free loopback port."""

    server: Any
    endpoint: str

    @classmethod
    def start(cls, port: int = 0) -> Emulator:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        serialize_dynamodb()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        host, bound = server.get_host_and_port()
        return cls(server, f"http://{host}:{bound}")

    def reset(self) -> None:
        import urllib.request

        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=10).close()

    def stop(self) -> None:
        self.server.stop()


@functools.lru_cache(maxsize=32)
def _client(service: str, endpoint: str, region: str, key: str, secret: str) -> Any:
    """Provisioning clients, kept per endpoint (each is slow to create)."""
    session = boto3.session.Session(
        aws_access_key_id=key, aws_secret_access_key=secret, region_name=region
    )
    return session.client(service, endpoint_url=endpoint)


def client(env: dict[str, str], service: str, endpoint: str | None = None) -> Any:
    return _client(
        service,
        endpoint or env["AWS_ENDPOINT_URL"],
        env["AWS_DEFAULT_REGION"],
        env["AWS_ACCESS_KEY_ID"],
        env["AWS_SECRET_ACCESS_KEY"],
    )


def table_definition(props: dict[str, Any], name: str) -> dict[str, Any]:
    """create_table arguments from a template table (SSE and PITR are AWS-side)."""
    definition = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if "GlobalSecondaryIndexes" in props:
        definition["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    if "StreamSpecification" in props:
        definition["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": props["StreamSpecification"]["StreamViewType"],
        }
    return definition


def create_tables(env: dict[str, str], endpoint: str | None = None) -> None:
    """Create every table of the template on `endpoint` (moto or DynamoDB Local)."""
    ddb = client(env, "dynamodb", endpoint)
    for logical, props in resources("AWS::DynamoDB::Table").items():
        name = env[TABLES[logical]]
        ddb.create_table(**table_definition(props, name))
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            ddb.get_waiter("table_exists").wait(TableName=name)
            ddb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )


def lifecycle_rules(props: dict[str, Any]) -> list[dict[str, Any]]:
    """The bucket's lifecycle rules, from CloudFormation's shape to S3's API shape."""
    rules = []
    for rule in props["LifecycleConfiguration"]["Rules"]:
        out: dict[str, Any] = {
            "ID": rule["Id"],
            "Status": rule["Status"],
            "Filter": {"Prefix": rule.get("Prefix", "")},
        }
        if "Transitions" in rule:
            out["Transitions"] = [
                {"Days": t["TransitionInDays"], "StorageClass": t["StorageClass"]}
                for t in rule["Transitions"]
            ]
        if "AbortIncompleteMultipartUpload" in rule:
            out["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
        if "NoncurrentVersionExpirationInDays" in rule:
            out["NoncurrentVersionExpiration"] = {
                "NoncurrentDays": rule["NoncurrentVersionExpirationInDays"]
            }
        if "ExpirationInDays" in rule:
            out["Expiration"] = {"Days": rule["ExpirationInDays"]}
        rules.append(out)
    return rules


def provision(env: dict[str, str]) -> dict[str, str]:
    """Create everything on the emulator; returns the settings it generated."""
    endpoint = env["AWS_ENDPOINT_URL"]
    kms = client(env, "kms")
    key_id = kms.create_key(Description="local app key")["KeyMetadata"]["KeyId"]

    create_tables(env, env.get("AWS_ENDPOINT_URL_DYNAMODB"))

    s3 = client(env, "s3")
    bucket_props = resources("AWS::S3::Bucket")["LogBucket"]
    s3.create_bucket(Bucket=env["LOG_BUCKET"], ObjectLockEnabledForBucket=True)
    s3.put_bucket_versioning(
        Bucket=env["LOG_BUCKET"], VersioningConfiguration={"Status": "Enabled"}
    )
    lock = bucket_props["ObjectLockConfiguration"]
    s3.put_object_lock_configuration(
        Bucket=env["LOG_BUCKET"],
        ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": lock["Rule"]},
    )
    s3.put_bucket_lifecycle_configuration(
        Bucket=env["LOG_BUCKET"],
        LifecycleConfiguration={"Rules": lifecycle_rules(bucket_props)},
    )

    import_queue_url = provision_imports(env)

    logs = client(env, "logs")
    group = resources("AWS::Logs::LogGroup")["AppLogGroup"]
    logs.create_log_group(logGroupName=env["LOG_GROUP_NAME"])
    logs.put_retention_policy(
        logGroupName=env["LOG_GROUP_NAME"], retentionInDays=group["RetentionInDays"]
    )

    idp = client(env, "cognito-idp")
    pool_props = resources("AWS::Cognito::UserPool")["UserPool"]
    pool_id = idp.create_user_pool(
        PoolName=f"vo-{env['STAGE']}",
        Policies=pool_props["Policies"],
    )["UserPool"]["Id"]
    client_props = resources("AWS::Cognito::UserPoolClient")["UserPoolClient"]
    app_client = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName=f"vo-{env['STAGE']}-backend",
        GenerateSecret=True,
        ExplicitAuthFlows=client_props["ExplicitAuthFlows"],
        PreventUserExistenceErrors=client_props["PreventUserExistenceErrors"],
        EnableTokenRevocation=True,
    )["UserPoolClient"]
    # the secrets live in Secrets Manager, as in AWS: the app is given their ARNs
    sm = client(env, "secretsmanager")
    app_secret_arn = sm.create_secret(
        Name=f"vo-{env['STAGE']}/app-secret",
        SecretString=env.get("APP_SECRET") or secrets.token_urlsafe(48),
    )["ARN"]
    client_secret_arn = sm.create_secret(
        Name=f"vo-{env['STAGE']}/user-pool-client-secret",
        SecretString=app_client["ClientSecret"],
    )["ARN"]
    return {
        "KMS_KEY_ID": key_id,
        "USER_POOL_ID": pool_id,
        "USER_POOL_CLIENT_ID": app_client["ClientId"],
        "USER_POOL_CLIENT_SECRET_ARN": client_secret_arn,
        "JWKS_URL": f"{endpoint}/{pool_id}/.well-known/jwks.json",
        "APP_SECRET_ARN": app_secret_arn,
        "IMPORT_QUEUE_URL": import_queue_url,
    }


LOCAL_VISIBILITY_SECONDS = 30


def provision_imports(env: dict[str, str]) -> str:
    """The data bucket and the import queue (with its dead-letter queue), the bucket
    telling the queue of each upload as in the template. Returns the queue's URL."""
    queues = resources("AWS::SQS::Queue")
    sqs = client(env, "sqs")
    stage = env["STAGE"]
    dead = sqs.create_queue(QueueName=f"vo-{stage}-imports-dead")["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    props = queues["ImportQueue"]
    redrive = {
        "deadLetterTargetArn": dead_arn,
        "maxReceiveCount": props["RedrivePolicy"]["maxReceiveCount"],
    }
    url = sqs.create_queue(
        QueueName=f"vo-{stage}-imports",
        Attributes={
            # AWS: the template's (six times the worker's timeout); locally a message a
            # stopped stack was working on comes back within half a minute
            "VisibilityTimeout": str(LOCAL_VISIBILITY_SECONDS),
            "RedrivePolicy": json.dumps(redrive),
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    s3 = client(env, "s3")
    bucket = resources("AWS::S3::Bucket")["DataBucket"]
    s3.create_bucket(Bucket=env["DATA_BUCKET"])
    s3.put_bucket_cors(
        Bucket=env["DATA_BUCKET"],
        CORSConfiguration={
            "CORSRules": [  # CloudFormation's MaxAge is the API's MaxAgeSeconds
                {("MaxAgeSeconds" if k == "MaxAge" else k): v for k, v in rule.items()}
                for rule in bucket["CorsConfiguration"]["CorsRules"]
            ]
        },
    )
    notified = bucket["NotificationConfiguration"]["QueueConfigurations"][0]
    s3.put_bucket_notification_configuration(
        Bucket=env["DATA_BUCKET"],
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue_arn,
                    "Events": [notified["Event"]],
                    "Filter": {"Key": {"FilterRules": notified["Filter"]["S3Key"]["Rules"]}},
                }
            ]
        },
    )
    _drop_test_event(sqs, url)
    return str(url)


def _drop_test_event(sqs: Any, url: str) -> None:
    """S3 sends one `s3:TestEvent` when a notification is set up; it is no upload."""
    out = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    for message in out.get("Messages", []):
        if '"s3:TestEvent"' in message["Body"]:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def apply(env: dict[str, str]) -> None:
    """Make `env` this process's environment, and forget cached settings and clients."""
    endpoint_changed = any(
        os.environ.get(name) != env.get(name)
        for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_DEFAULT_REGION")
    )
    os.environ.update(env)
    from chalicelib import aws, config
    from chalicelib.dal.models import reset_connections

    config.reset()
    if endpoint_changed:  # clients hold no settings but their endpoint: keep them otherwise
        from chalicelib.audit.models import AuditModel

        aws.reset()
        reset_connections()
        AuditModel._connection = None
