"""The deployment's merge template: `resources.json` plus the wiring of every function.

`resources.json` holds the stage's resources (tables, key, bucket, user pool, WAF, the
app's own alarms). This module adds what is written once per function: its role (least
privilege, scoped to the tables, indexes, key, secrets and bucket prefixes it uses), its
settings by reference to the resource that owns each one, its log group, its event
sources with their failure handling, and its alarms; then the alarm topic, the queues
failed events go to, the API stage's logs, throttling and tracing, WAF logging and the
dashboard. `chalice package --merge-template` merges the result into the functions it
generates (`infra/package.py`).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra import console

HERE = Path(__file__).resolve().parent
RESOURCES = HERE / "resources.json"

Json = dict[str, Any]


def ref(name: str) -> Json:
    return {"Ref": name}


def arn(name: str) -> Json:
    return {"Fn::GetAtt": [name, "Arn"]}


def sub(text: str) -> Json:
    return {"Fn::Sub": text}


# --- what each function may do --------------------------------------------------------

READ = [
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:ConditionCheckItem",
]
WRITE = [
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
]
STREAM_READ = [
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
]


def table_access(table: str, actions: list[str], index: bool = False) -> Json:
    resources: list[Any] = [arn(table)]
    if index:
        resources.append(sub("${" + table + ".Arn}/index/*"))
    return {"Effect": "Allow", "Action": sorted(actions), "Resource": resources}


def key_access(*actions: str) -> Json:
    return {"Effect": "Allow", "Action": sorted(actions), "Resource": arn("AppKey")}


def secret_access(*secrets: str) -> Json:
    return {
        "Effect": "Allow",
        "Action": "secretsmanager:GetSecretValue",
        "Resource": [ref(s) for s in secrets],
    }


def bucket_objects(prefix: str, *actions: str) -> Json:
    return {
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": sub("${LogBucket.Arn}/" + prefix + "*"),
    }


def data_objects(prefix: str, *actions: str) -> Json:
    return {
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": sub("${DataBucket.Arn}/" + prefix + "*"),
    }


def data_listing(prefix: str) -> list[Json]:
    """Listing the data bucket under `prefix`: its objects (ListBucket takes the `s3:prefix`
    condition), and its unfinished uploads (ListBucketMultipartUploads has no such condition
    key, so a prefix condition would refuse every call: the bucket as a whole)."""
    return [
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": arn("DataBucket"),
            "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*"]}},
        },
        {
            "Effect": "Allow",
            "Action": "s3:ListBucketMultipartUploads",
            "Resource": arn("DataBucket"),
        },
    ]


def bucket_listing(prefix: str) -> Json:
    return {
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": arn("LogBucket"),
        "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*"]}},
    }


@dataclass(frozen=True)
class Function:
    """One Lambda function of `chalice package`'s output, by its logical id."""

    name: str
    kind: str  # "api", "stream", "schedule" or "queue"
    timeout: int
    statements: list[Json] = field(default_factory=list)
    # the tables whose items the function reads or writes (the least-privilege tier
    # checks that it touches each of them, and no other)
    tables: tuple[str, ...] = ()

    @property
    def role(self) -> str:
        return f"{self.name}Role"


SIGN_IN = [
    "cognito-idp:AdminGetUser",
    "cognito-idp:AdminSetUserPassword",
    "cognito-idp:AdminUpdateUserAttributes",
    "cognito-idp:AdminDeleteUser",
    "cognito-idp:AdminConfirmSignUp",
    "cognito-idp:AdminUserGlobalSignOut",
]

# e-mails to users, from the stage's verified SES identity
SEND_EMAIL = {
    "Effect": "Allow",
    "Action": "ses:SendEmail",
    "Resource": sub("arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*"),
    "Condition": {"StringEquals": {"ses:FromAddress": ref("MailFrom")}},
}

# the stream consumer's first attempt and the schedule's retries do the same work
CRM_SYNC = [
    table_access("MainTable", READ + WRITE, index=True),
    # each provider account's circuit breaker, and the dashboard's sync counters
    table_access("OpsTable", ["dynamodb:GetItem", "dynamodb:UpdateItem"]),
    key_access("kms:Decrypt"),
    secret_access("AppSecret"),
]

FUNCTIONS: tuple[Function, ...] = (
    Function(
        "APIHandler",
        "api",
        timeout=28,
        statements=[
            table_access("MainTable", READ + WRITE, index=True),
            table_access("SessionsTable", READ + WRITE, index=True),
            table_access("OpsTable", READ + WRITE),
            table_access("AuditTable", [*READ, "dynamodb:PutItem"], index=True),
            # volunteers' contacts keys: created, read and destroyed, never listed
            table_access(
                "KeysTable", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
            ),
            key_access("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"),
            # OriginSecret: whether a request came through the console's distribution
            secret_access("AppSecret", "ClientSecret", "OriginSecret"),
            # lists: the inline list's file, and presigned uploads signed with this role
            data_objects("uploads/", "s3:PutObject", "s3:DeleteObject"),
            # exports: download links signed with this role
            data_objects("exports/", "s3:GetObject"),
            {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": arn("ImportQueue")},
            {"Effect": "Allow", "Action": sorted(SIGN_IN), "Resource": arn("UserPool")},
            SEND_EMAIL,
        ],
        tables=("MainTable", "SessionsTable", "OpsTable", "AuditTable", "KeysTable"),
    ),
    Function(
        "CrmSyncConsumer",
        "stream",
        timeout=120,
        statements=[
            *CRM_SYNC,
            # volunteers' targets to recompute when their contacts change or they join; the
            # queue is encrypted with the app key, so sending needs a data key from it (the
            # emulator checks neither, so this statement is asserted in tests/deploy)
            {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": arn("ImportQueue")},
            key_access("kms:GenerateDataKey"),
            # the dashboard's member counters: each member's tally, put or deleted with them
            table_access("OpsTable", ["dynamodb:PutItem", "dynamodb:DeleteItem"]),
        ],
        tables=("MainTable", "OpsTable"),
    ),
    Function(
        "AuditConsumer",
        "stream",
        timeout=60,
        statements=[
            table_access("AuditTable", ["dynamodb:PutItem", "dynamodb:BatchWriteItem"]),
            # whether a removal is part of a campaign's erasure (its receipt tells it)
            table_access("MainTable", ["dynamodb:GetItem"]),
        ],
        tables=("AuditTable", "MainTable"),
    ),
    Function(
        "CrmSyncRetry",
        "schedule",
        timeout=120,
        statements=CRM_SYNC,
        tables=("MainTable", "OpsTable"),
    ),
    Function(
        "AuditArchive",
        "schedule",
        timeout=300,
        statements=[
            table_access("AuditTable", ["dynamodb:Query"], index=True),
            bucket_objects("audit/", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"),
            bucket_listing("audit/"),
            key_access("kms:Decrypt", "kms:GenerateDataKey"),
        ],
        tables=("AuditTable",),
    ),
    Function(
        "LogsExport",
        "schedule",
        timeout=60,
        statements=[
            {
                "Effect": "Allow",
                "Action": "logs:CreateExportTask",
                "Resource": [
                    arn("AppLogGroup"),
                    sub(
                        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}"
                        ":log-group:${AppLogGroup}"
                    ),
                ],
            },
            {
                # DescribeExportTasks takes no resource: AWS allows only "*" for it
                "Effect": "Allow",
                "Action": "logs:DescribeExportTasks",
                "Resource": "*",
            },
            bucket_objects("logs/", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"),
            key_access("kms:Decrypt", "kms:GenerateDataKey"),
        ],
    ),
    Function(
        "CampaignErasure",
        "schedule",
        timeout=900,
        statements=[
            table_access("MainTable", READ + WRITE, index=True),
            table_access(
                "AuditTable", ["dynamodb:Query", "dynamodb:PutItem", "dynamodb:BatchWriteItem"]
            ),
            # the campaign's cached catalogs, breakers and kept answers (found by a Scan)
            table_access("OpsTable", ["dynamodb:Scan", "dynamodb:BatchWriteItem"]),
            # the campaign's export files, and uploads of one not finished
            *data_listing("exports/"),
            data_objects("exports/", "s3:AbortMultipartUpload", "s3:DeleteObject"),
            secret_access("AppSecret"),  # to find the list rows' match keys
            SEND_EMAIL,
        ],
        tables=("MainTable", "AuditTable", "OpsTable"),
    ),
    Function(
        "ImportWorker",
        "queue",
        timeout=300,
        statements=[
            table_access("MainTable", READ + WRITE),
            data_objects("uploads/", "s3:GetObject", "s3:DeleteObject"),
            {
                "Effect": "Allow",
                "Action": [
                    "sqs:ChangeMessageVisibility",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:ReceiveMessage",
                    "sqs:SendMessage",
                ],
                "Resource": arn("ImportQueue"),
            },
            key_access("kms:Decrypt", "kms:GenerateDataKey"),
            secret_access("AppSecret"),  # the rows' match keys
            # failed sync records sent again move the dashboard's sync counters; an export's
            # progress
            table_access(
                "OpsTable", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
            ),
            # exports: the audit trail read, the file written in parts
            table_access("AuditTable", ["dynamodb:Query"]),
            data_objects("exports/", "s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"),
        ],
        tables=("MainTable", "OpsTable", "AuditTable"),
    ),
)

BY_NAME = {f.name: f for f in FUNCTIONS}

# Every setting `chalicelib/config.py` reads that names a resource of the stack, set on
# every function from the resource that owns it. No secret is here: the functions read
# the secrets themselves (by ARN) from Secrets Manager, once per container.
ENVIRONMENT: Json = {
    "STAGE": ref("Stage"),
    "MAIN_TABLE": ref("MainTable"),
    "SESSIONS_TABLE": ref("SessionsTable"),
    "OPS_TABLE": ref("OpsTable"),
    "AUDIT_TABLE": ref("AuditTable"),
    "KEYS_TABLE": ref("KeysTable"),
    "LOG_BUCKET": ref("LogBucket"),
    "DATA_BUCKET": ref("DataBucket"),
    "IMPORT_QUEUE_URL": ref("ImportQueue"),
    "LOG_GROUP_NAME": ref("AppLogGroup"),
    "USER_POOL_ID": ref("UserPool"),
    "USER_POOL_CLIENT_ID": ref("UserPoolClient"),
    "USER_POOL_CLIENT_SECRET_ARN": ref("ClientSecret"),
    "APP_SECRET_ARN": ref("AppSecret"),
    "ORIGIN_SECRET_ARN": ref("OriginSecret"),
    "KMS_KEY_ID": arn("AppKey"),
    "MAIL_FROM": ref("MailFrom"),
}

STREAM_EVENT = {
    "Stream": {"Fn::GetAtt": ["MainTable", "StreamArn"]},
    "StartingPosition": "TRIM_HORIZON",
    "BatchSize": 100,
    "MaximumBatchingWindowInSeconds": 1,
    "FunctionResponseTypes": ["ReportBatchItemFailures"],
    "BisectBatchOnFunctionError": True,
    "MaximumRetryAttempts": 10,
    "MaximumRecordAgeInSeconds": 6 * 3600,
    "ParallelizationFactor": 1,
    "DestinationConfig": {"OnFailure": {"Type": "SQS", "Destination": arn("StreamFailureQueue")}},
}

QUEUE_EVENT = {
    "Queue": arn("ImportQueue"),
    "BatchSize": 1,  # a chunk is a few seconds of work on its own
    "FunctionResponseTypes": ["ReportBatchItemFailures"],
    "ScalingConfig": {"MaximumConcurrency": 10},  # chunks of one import at once, at most
}

SCHEDULE_RETRY = {
    "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
    "DeadLetterConfig": {"Arn": arn("ScheduleDeadLetterQueue")},
}


def _role(fn: Function) -> Json:
    statements = [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": arn("AppLogGroup"),
        },
        {
            # X-Ray takes no resource-level permissions
            "Effect": "Allow",
            "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            "Resource": "*",
        },
        *fn.statements,
    ]
    if fn.kind in ("stream", "schedule"):
        # what a failed event is sent to is a queue encrypted with the app key
        statements.append(key_access("kms:Decrypt", "kms:GenerateDataKey"))
    if fn.kind == "stream":
        statements += [
            {
                "Effect": "Allow",
                "Action": STREAM_READ,
                "Resource": sub("${MainTable.Arn}/stream/*"),
            },
            {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": arn("StreamFailureQueue")},
        ]
    if fn.kind == "schedule":
        statements.append(
            {
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": arn("ScheduleDeadLetterQueue"),
            }
        )
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": sub(fn.name + " function of vo-${Stage}"),
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}},
                    }
                ],
            },
            "Policies": [
                {
                    "PolicyName": "least-privilege",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                }
            ],
        },
    }


def _function(fn: Function) -> Json:
    props: Json = {
        "Role": arn(fn.role),
        "Timeout": fn.timeout,
        "Tracing": "Active",
        "LoggingConfig": {"LogGroup": ref("AppLogGroup"), "LogFormat": "Text"},
        "Environment": {"Variables": dict(ENVIRONMENT)},
    }
    if fn.kind == "stream":
        props["Events"] = {f"{fn.name}DynamodbEventSource": {"Properties": dict(STREAM_EVENT)}}
    if fn.kind == "queue":
        props["Events"] = {f"{fn.name}SqsEventSource": {"Properties": dict(QUEUE_EVENT)}}
    if fn.kind == "schedule":
        # one run at a time: a run still going when the next is due is not doubled
        props["ReservedConcurrentExecutions"] = 1
        props["Events"] = {f"{fn.name}Event": {"Properties": dict(SCHEDULE_RETRY)}}
        props["DeadLetterQueue"] = {"Type": "SQS", "TargetArn": arn("ScheduleDeadLetterQueue")}
    return {"Properties": props}


def _alarm(description: str, **properties: Any) -> Json:
    props = {
        "AlarmDescription": description,
        "TreatMissingData": "notBreaching",
        "AlarmActions": [ref("AlarmTopic")],
        "OKActions": [ref("AlarmTopic")],
        **properties,
    }
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": props}


def _metric_alarm(
    description: str,
    namespace: str,
    metric: str,
    dimensions: list[Json],
    threshold: float,
    statistic: str = "Sum",
    periods: int = 1,
    comparison: str = "GreaterThanOrEqualToThreshold",
) -> Json:
    """An alarm on one metric over 5-minute periods."""
    stat = (
        {"ExtendedStatistic": statistic} if statistic.startswith("p") else {"Statistic": statistic}
    )
    return _alarm(
        description,
        Namespace=namespace,
        MetricName=metric,
        Dimensions=dimensions,
        Period=300,
        EvaluationPeriods=periods,
        Threshold=threshold,
        ComparisonOperator=comparison,
        **stat,
    )


def _function_alarms(fn: Function) -> dict[str, Json]:
    dims = [{"Name": "FunctionName", "Value": ref(fn.name)}]
    out = {
        f"{fn.name}ErrorsAlarm": _metric_alarm(
            f"The {fn.name} function fails (errors or timeouts)",
            "AWS/Lambda",
            "Errors",
            dims,
            threshold=1 if fn.kind != "api" else 5,
        ),
        f"{fn.name}ThrottlesAlarm": _metric_alarm(
            f"The {fn.name} function is throttled (concurrency exhausted)",
            "AWS/Lambda",
            "Throttles",
            dims,
            threshold=1,
        ),
    }
    if fn.kind == "stream":
        out[f"{fn.name}IteratorAgeAlarm"] = _metric_alarm(
            f"The {fn.name} function falls behind the main table's stream",
            "AWS/Lambda",
            "IteratorAge",
            dims,
            threshold=10 * 60 * 1000,
            statistic="Maximum",
            periods=3,
            comparison="GreaterThanThreshold",
        )
    return out


def _queue(description: str) -> Json:
    return {
        "Type": "AWS::SQS::Queue",
        "Properties": {
            "KmsMasterKeyId": arn("AppKey"),
            "KmsDataKeyReusePeriodSeconds": 3600,
            "MessageRetentionPeriod": 14 * 24 * 3600,
            "Tags": [{"Key": "purpose", "Value": description}],
        },
    }


def _queue_alarm(queue: str, description: str) -> Json:
    name = {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}
    return _metric_alarm(
        description,
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        [name],
        threshold=1,
        statistic="Maximum",
    )


def _log_group(name: Json) -> Json:
    return {
        "Type": "AWS::Logs::LogGroup",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {"LogGroupName": name, "RetentionInDays": 14, "KmsKeyId": arn("AppKey")},
    }


API_DIMENSIONS = [
    {"Name": "ApiName", "Value": "volunteer-organizer"},
    {"Name": "Stage", "Value": "api"},
]

ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "method": "$context.httpMethod",
        "path": "$context.resourcePath",
        "status": "$context.status",
        "latency": "$context.responseLatency",
        "bytes": "$context.responseLength",
        "time": "$context.requestTimeEpoch",
        "wafStatus": "$context.waf.status",
        "userAgent": "$context.identity.userAgent",
    },
    separators=(",", ":"),
)


def _anomaly_alarm(
    description: str, namespace: str, metric: str, dims: list[Json], period: int
) -> tuple[Json, Json]:
    stat = {
        "Metric": {"Namespace": namespace, "MetricName": metric, "Dimensions": dims},
        "Period": period,
        "Stat": "Sum",
    }
    detector = {
        "Type": "AWS::CloudWatch::AnomalyDetector",
        "Properties": {
            "SingleMetricAnomalyDetector": {
                "Namespace": namespace,
                "MetricName": metric,
                "Dimensions": dims,
                "Stat": "Sum",
            }
        },
    }
    alarm = _alarm(
        description,
        ComparisonOperator="GreaterThanUpperThreshold",
        EvaluationPeriods=2,
        ThresholdMetricId="band",
        Metrics=[
            {"Id": "m1", "MetricStat": stat, "ReturnData": True},
            {"Id": "band", "Expression": "ANOMALY_DETECTION_BAND(m1, 3)", "ReturnData": True},
        ],
    )
    return detector, alarm


def _table_throttle_alarm(metric: str) -> Json:
    tables = ("MainTable", "SessionsTable", "OpsTable", "AuditTable", "KeysTable")
    metrics: list[Json] = [
        {
            "Id": f"t{i}",
            "ReturnData": False,
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/DynamoDB",
                    "MetricName": metric,
                    "Dimensions": [{"Name": "TableName", "Value": ref(table)}],
                },
                "Period": 300,
                "Stat": "Sum",
            },
        }
        for i, table in enumerate(tables)
    ]
    metrics.append(
        {
            "Id": "total",
            "Expression": "+".join(f"FILL(t{i}, 0)" for i in range(len(tables))),
            "ReturnData": True,
        }
    )
    return _alarm(
        f"DynamoDB throttles requests ({metric}) on one of the stage's tables",
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        EvaluationPeriods=1,
        Threshold=1,
        Metrics=metrics,
    )


def _dashboard() -> Json:
    region = "${AWS::Region}"

    def widget(title: str, metrics: list[list[Any]], stat: str = "Sum") -> Json:
        return {
            "type": "metric",
            "width": 12,
            "height": 6,
            "properties": {
                "title": title,
                "region": region,
                "stat": stat,
                "period": 300,
                "view": "timeSeries",
                "metrics": metrics,
            },
        }

    api = ["ApiName", "volunteer-organizer", "Stage", "api"]
    functions = [fn.name for fn in FUNCTIONS]
    widgets = [
        widget("API requests", [["AWS/ApiGateway", "Count", *api]]),
        widget(
            "API errors",
            [["AWS/ApiGateway", "5XXError", *api], ["AWS/ApiGateway", "4XXError", *api]],
        ),
        widget(
            "API latency (p50, p99)",
            [
                ["AWS/ApiGateway", "Latency", *api, {"stat": "p50"}],
                ["AWS/ApiGateway", "Latency", *api, {"stat": "p99"}],
            ],
            stat="p99",
        ),
        widget(
            "Function errors",
            [["AWS/Lambda", "Errors", "FunctionName", "${" + name + "}"] for name in functions],
        ),
        widget(
            "Stream iterator age",
            [
                ["AWS/Lambda", "IteratorAge", "FunctionName", "${" + fn.name + "}"]
                for fn in FUNCTIONS
                if fn.kind == "stream"
            ],
            stat="Maximum",
        ),
        widget(
            "Sign-ins and abuse",
            [
                ["VolunteerOrganizer", "AuthFailures"],
                ["VolunteerOrganizer", "Throttled", "service", "volunteer-organizer"],
                [
                    "AWS/WAFV2",
                    "BlockedRequests",
                    "WebACL",
                    "vo-${Stage}",
                    "Region",
                    region,
                    "Rule",
                    "ALL",
                ],
            ],
        ),
        widget(
            "CRM sync",
            [
                ["VolunteerOrganizer", name, "service", "volunteer-organizer"]
                for name in ("CrmSynced", "CrmSkipped", "CrmSyncFailed")
            ],
        ),
        widget(
            "Failures kept for a person",
            [
                ["VolunteerOrganizer", name, "service", "volunteer-organizer"]
                for name in ("UnhandledErrors", "StreamRecordFailures", "AuditWriteFailures")
            ]
            + [["VolunteerOrganizer", "StaffAccess", "service", "volunteer-organizer"]],
        ),
    ]
    body = json.dumps({"widgets": widgets}, separators=(",", ":"))
    return {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {"DashboardName": sub("vo-${Stage}"), "DashboardBody": sub(body)},
    }


def _service_may(service: str, action: str, resource: Json) -> Json:
    """A resource policy letting an AWS service of this account do one thing."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": action,
                "Resource": resource,
                "Condition": {"StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}},
            }
        ],
    }


def _stack_resources() -> Json:
    resources: Json = {}
    for fn in FUNCTIONS:
        resources[fn.role] = _role(fn)
        resources[fn.name] = _function(fn)
        resources.update(_function_alarms(fn))

    resources["AppSecret"] = {
        "Type": "AWS::SecretsManager::Secret",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "Name": sub("vo-${Stage}/app-secret"),
            "Description": "Keys the cursors and the match hashes; changing it breaks both",
            "KmsKeyId": arn("AppKey"),
            "GenerateSecretString": {"PasswordLength": 64, "ExcludePunctuation": True},
        },
    }
    resources["ClientSecret"] = {
        "Type": "AWS::SecretsManager::Secret",
        "Properties": {
            "Name": sub("vo-${Stage}/user-pool-client-secret"),
            "Description": "The secret of the backend's confidential user pool client",
            "KmsKeyId": arn("AppKey"),
            "SecretString": {"Fn::GetAtt": ["UserPoolClient", "ClientSecret"]},
        },
    }

    resources["StreamFailureQueue"] = _queue("stream batches the consumers gave up on")
    resources["ScheduleDeadLetterQueue"] = _queue("scheduled runs that could not run")
    resources["ScheduleDeadLetterQueuePolicy"] = {
        "Type": "AWS::SQS::QueuePolicy",
        "Properties": {
            "Queues": [ref("ScheduleDeadLetterQueue")],
            "PolicyDocument": _service_may(
                "events.amazonaws.com", "sqs:SendMessage", arn("ScheduleDeadLetterQueue")
            ),
        },
    }
    resources["StreamFailureQueueAlarm"] = _queue_alarm(
        "StreamFailureQueue",
        "A stream batch was given up on: its records stay in the stream for 24 h, replay them",
    )
    resources["ScheduleDeadLetterQueueAlarm"] = _queue_alarm(
        "ScheduleDeadLetterQueue", "A scheduled run (sync retry, audit archive, log export) failed"
    )

    resources["AlarmTopic"] = {
        "Type": "AWS::SNS::Topic",
        "Properties": {"TopicName": sub("vo-${Stage}-alarms"), "KmsMasterKeyId": arn("AppKey")},
    }
    resources["AlarmTopicPolicy"] = {
        "Type": "AWS::SNS::TopicPolicy",
        "Properties": {
            "Topics": [ref("AlarmTopic")],
            "PolicyDocument": _service_may(
                "cloudwatch.amazonaws.com", "sns:Publish", ref("AlarmTopic")
            ),
        },
    }
    resources["AlarmEmailSubscription"] = {
        "Type": "AWS::SNS::Subscription",
        "Condition": "HasAlarmEmail",
        "Properties": {
            "TopicArn": ref("AlarmTopic"),
            "Protocol": "email",
            "Endpoint": ref("AlarmEmail"),
        },
    }

    resources["ApiAccessLogGroup"] = _log_group(sub("/aws/apigateway/vo-${Stage}-access"))
    resources["ApiGatewayLogsRole"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": "Lets API Gateway write the stage's access logs",
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "apigateway.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            "ManagedPolicyArns": [
                sub(
                    "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                    "AmazonAPIGatewayPushToCloudWatchLogs"
                )
            ],
        },
    }
    resources["ApiGatewayAccount"] = {
        "Type": "AWS::ApiGateway::Account",
        "Properties": {"CloudWatchRoleArn": arn("ApiGatewayLogsRole")},
    }
    resources["RestAPI"] = {
        "DependsOn": ["ApiGatewayAccount"],
        "Properties": {
            "TracingEnabled": True,
            "AccessLogSetting": {
                "DestinationArn": arn("ApiAccessLogGroup"),
                "Format": ACCESS_LOG_FORMAT,
            },
            "MethodSettings": [
                {
                    "ResourcePath": "/*",
                    "HttpMethod": "*",
                    "MetricsEnabled": True,
                    "LoggingLevel": "ERROR",
                    "DataTraceEnabled": False,
                    "ThrottlingRateLimit": 200,
                    "ThrottlingBurstLimit": 400,
                }
            ],
        },
    }

    resources["WafLogGroup"] = _log_group(sub("aws-waf-logs-vo-${Stage}"))
    resources["WafLogging"] = {
        "Type": "AWS::WAFv2::LoggingConfiguration",
        "Properties": {
            "ResourceArn": arn("WebAcl"),
            # WAF wants the log group's ARN without the ":*" that GetAtt adds
            "LogDestinationConfigs": [
                sub(
                    "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}"
                    ":log-group:${WafLogGroup}"
                )
            ],
            "RedactedFields": [{"SingleHeader": {"Name": "authorization"}}],
        },
    }

    resources["ApiLatencyAlarm"] = _metric_alarm(
        "The API is slow (p99 latency over 5 s for 15 minutes)",
        "AWS/ApiGateway",
        "Latency",
        API_DIMENSIONS,
        threshold=5000,
        statistic="p99",
        periods=3,
        comparison="GreaterThanThreshold",
    )
    detector, alarm = _anomaly_alarm(
        "Requests far above their usual pattern", "AWS/ApiGateway", "Count", API_DIMENSIONS, 300
    )
    resources["RequestCountAnomalyDetector"] = detector
    resources["RequestCountAnomalyAlarm"] = alarm
    detector, alarm = _anomaly_alarm(
        "Failed sign-ins far above their usual pattern",
        "VolunteerOrganizer",
        "AuthFailures",
        [],
        300,
    )
    resources["AuthFailuresAnomalyDetector"] = detector
    resources["AuthFailuresAnomalyAlarm"] = alarm
    resources["ReadThrottlesAlarm"] = _table_throttle_alarm("ReadThrottleEvents")
    resources["WriteThrottlesAlarm"] = _table_throttle_alarm("WriteThrottleEvents")
    resources["Dashboard"] = _dashboard()
    resources.update(console.resources())
    return resources


def base() -> Json:
    """`resources.json` as it is (the local stack provisions from it)."""
    loaded: Json = json.loads(RESOURCES.read_text())
    return loaded


def build() -> Json:
    """The merge template for `chalice package`."""
    template = copy.deepcopy(base())
    added = _stack_resources()
    clash = set(added) & set(template["Resources"])
    if clash:
        raise ValueError(f"resources.json already defines {sorted(clash)}")
    template["Resources"].update(added)
    template["Outputs"] = {
        "ApiUrl": {
            "Value": sub("https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api/")
        },
        "AlarmTopic": {"Value": ref("AlarmTopic")},
        "LogBucket": {"Value": ref("LogBucket")},
        "UserPool": {"Value": ref("UserPool")},
        **console.outputs(),
    }
    return template
