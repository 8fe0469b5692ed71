"""Preflight over the packaged template, as AWS and an auditor would read it: cfn-lint and
checkov, then what neither knows about this app: every setting the code reads is set on
every function, no placeholder or account is baked in, each function has its own role,
streams and schedules keep what fails, data survives a deletion, alarms reach a person."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra.package import SERVICES
from infra.template import BY_NAME, ENVIRONMENT, FUNCTIONS
from tests.deploy.cfn import Stack, functions, of_type, strings
from tests.deploy.conftest import ROOT

CHECKOV = ROOT / ".cache" / "checkov" / "bin" / "checkov"
SUPPRESSIONS = ROOT / "infra" / "checkov-suppressions.json"


def test_cfn_lint_finds_nothing(packaged):
    done = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), "--format", "json", "sam.json"],
        cwd=packaged.out,
        capture_output=True,
        text=True,
    )
    findings = json.loads(done.stdout or "[]")
    shown = [(f["Rule"]["Id"], f["Message"][:120]) for f in findings]
    assert shown == [], shown  # 0 errors, 0 warnings, 0 informational


def test_checkov_findings_are_exactly_the_suppressed_ones(packaged):
    """Every finding left is listed, with its reason, in one committed file; a listing that
    no longer matches a finding fails too, so the file cannot go stale."""
    assert CHECKOV.exists(), "make setup installs checkov in .cache/checkov"
    done = subprocess.run(
        [
            *(str(CHECKOV), "-f", "sam.json", "--framework", "cloudformation"),
            *("--quiet", "--compact", "--skip-download", "-o", "json"),
        ],
        cwd=packaged.out,
        capture_output=True,
        text=True,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )
    report = json.loads(done.stdout)
    report = report[0] if isinstance(report, list) else report
    assert report["summary"]["parsing_errors"] == 0
    found = {
        (f["check_id"], f["resource"].split(".", 1)[1]) for f in report["results"]["failed_checks"]
    }
    listed = json.loads(SUPPRESSIONS.read_text())
    suppressed = {
        (check, resource)
        for check, entry in listed.items()
        if not check.startswith("_")
        for resource in entry["resources"]
    }
    assert all(
        len(entry["reason"]) > 40 for check, entry in listed.items() if not check.startswith("_")
    )
    assert sorted(found - suppressed) == [], "findings without a reason"
    assert sorted(suppressed - found) == [], "suppressions that match no finding"


def test_no_placeholder_account_or_region_is_baked_in(packaged):
    for text in strings(packaged.template):
        assert "placeholder" not in text.lower(), text
        assert not re.search(r"(?<!\d)\d{12}(?!\d)", text), f"an account id in {text!r}"
        assert not re.search(r"\b(us|eu|ap|ca|sa|me|af)-[a-z]+-\d\b", text), f"a region: {text}"


@pytest.mark.parametrize("name", ["CrmSyncConsumer", "AuditConsumer"])
def test_the_stream_arn_placeholder_of_the_code_never_reaches_the_template(packaged, name):
    events = packaged.template["Resources"][name]["Properties"]["Events"]
    (event,) = events.values()
    assert event["Properties"]["Stream"] == {"Fn::GetAtt": ["MainTable", "StreamArn"]}


# --- settings ---------------------------------------------------------------------------

# Settings the code reads that no resource of the stack owns: each has a default that is
# right in AWS, or Lambda sets it.
NOT_FROM_THE_STACK = {
    "AWS_REGION": "set by Lambda",
    "AWS_DEFAULT_REGION": "set by Lambda",
    "AWS_LAMBDA_FUNCTION_NAME": "set by Lambda",
    "TABLE_PREFIX": "only a default for the table names, which are all set",
    "JWKS_URL": "derived from the region and the user pool",
    "TOKEN_ISSUER": "derived from the region and the user pool",
    "DEFAULT_PHONE_REGION": "US unless a deployment says otherwise",
    "TOTP_ISSUER": "the product's name in authenticator apps",
    "VAN_API_URL": "the provider's production API",
    "PDI_API_URL": "the provider's production API",
    "SALSA_API_URL": "the provider's production API",
    "CRM_READ_TIMEOUT": "a tuning default",
    "AUTO_CONFIRM_SIGNUP": "set per stage in .chalice/config.json",
    "MAIN_TABLE_STREAM_ARN": "read only by `chalice package`; the template sets the stream",
    "IMPORT_QUEUE_ARN": "read only by `chalice package`; the template sets the queue",
    "OUTBOX_PATH": "the local stack's stand-in for e-mail",
}
SECRETS = {"APP_SECRET", "USER_POOL_CLIENT_SECRET", "ORIGIN_SECRET"}


def _read_by_code() -> set[str]:
    """Every environment variable the functions' code names."""
    names: set[str] = set()
    readers = {"_env", "_flag", "_positive_float", "get", "getenv", "_secret"}
    for path in [ROOT / "app.py", *(ROOT / "chalicelib").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and node.args:
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                first = node.args[0]
                if (
                    name in readers
                    and isinstance(first, ast.Constant)
                    and isinstance(first.value, str)
                    and re.fullmatch(r"[A-Z][A-Z0-9_]+", first.value)
                ):
                    names.add(first.value)
                    if name == "_secret":
                        names.add(first.value + "_ARN")
    return names


def test_every_setting_the_code_reads_is_set_on_every_function(packaged):
    read = _read_by_code()
    assert {"MAIN_TABLE", "USER_POOL_ID", "KMS_KEY_ID", "APP_SECRET_ARN"} <= read  # sanity
    needed = read - set(NOT_FROM_THE_STACK) - SECRETS
    for name, fn in functions(packaged.template).items():
        env = fn["Properties"]["Environment"]["Variables"]
        assert sorted(needed - set(env)) == [], f"{name} lacks settings"
        assert not SECRETS & set(env), f"{name} has a secret in its environment"
        for var, value in ENVIRONMENT.items():
            assert env[var] == value, f"{name}: {var} is not set from its resource"


def test_a_function_starts_with_exactly_its_template_environment(packaged, monkeypatch):
    """settings() loads from the template's variables alone (resolved as CloudFormation
    would), and each name it gives is the resource's, never a default."""
    from chalicelib import config

    names = {
        "Stage": "prod",
        "MainTable": "vo-prod-main",
        "SessionsTable": "vo-prod-sessions",
        "OpsTable": "vo-prod-ops",
        "AuditTable": "vo-prod-audit",
        "KeysTable": "vo-prod-keys",
        "LogBucket": "vo-prod-logs-acct",
        "DataBucket": "vo-prod-data-acct",
        "ImportQueue": "https://sqs.us-east-1.amazonaws.com/1/vo-prod-imports",
        "AppLogGroup": "/aws/lambda/vo-prod",
        "UserPool": "us-east-1_pool",
        "UserPoolClient": "client-id",
        "ClientSecret": "arn:aws:secretsmanager:us-east-1:1:secret:client",
        "AppSecret": "arn:aws:secretsmanager:us-east-1:1:secret:app",
        "OriginSecret": "arn:aws:secretsmanager:us-east-1:1:secret:origin",
        "MailFrom": "no-reply@example.org",
    }
    stack = Stack(names, {("AppKey", "Arn"): "arn:aws:kms:us-east-1:1:key/k"})
    for name, fn in functions(packaged.template).items():
        env = stack.resolve(fn["Properties"]["Environment"]["Variables"])
        for var in list(os.environ):
            monkeypatch.delenv(var)
        monkeypatch.setenv("AWS_REGION", "us-east-1")
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", name)
        for var, value in env.items():
            monkeypatch.setenv(var, value)
        config.reset()
        try:
            s = config.settings()
        finally:
            config.reset()
        assert (s.stage, s.main_table, s.sessions_table, s.ops_table, s.audit_table) == (
            "prod",
            "vo-prod-main",
            "vo-prod-sessions",
            "vo-prod-ops",
            "vo-prod-audit",
        ), name
        assert (s.data_bucket, s.import_queue_url) == (
            "vo-prod-data-acct",
            "https://sqs.us-east-1.amazonaws.com/1/vo-prod-imports",
        ), name
        assert (s.log_bucket, s.log_group_name, s.user_pool_id, s.kms_key_id) == (
            "vo-prod-logs-acct",
            "/aws/lambda/vo-prod",
            "us-east-1_pool",
            "arn:aws:kms:us-east-1:1:key/k",
        ), name
        assert s.auto_confirm_signup is False, "the packaged stage confirms sign-ups"


def test_inside_lambda_a_secret_in_the_environment_is_refused(monkeypatch):
    from chalicelib import config

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "APIHandler")
    monkeypatch.delenv("APP_SECRET_ARN", raising=False)
    monkeypatch.setenv("APP_SECRET", "x" * 48)
    config.reset()
    try:
        with pytest.raises(config.ConfigError, match="APP_SECRET_ARN"):
            config.app_secret()
    finally:
        config.reset()


# --- roles --------------------------------------------------------------------------------


def test_each_function_has_a_role_of_its_own_and_no_shared_default(packaged):
    fns = functions(packaged.template)
    assert set(fns) == {fn.name for fn in FUNCTIONS}
    roles = {name: fn["Properties"]["Role"] for name, fn in fns.items()}
    assert roles == {name: {"Fn::GetAtt": [f"{name}Role", "Arn"]} for name in fns}
    assert "DefaultRole" not in packaged.template["Resources"]
    for name in fns:
        role = packaged.template["Resources"][f"{name}Role"]["Properties"]
        assert not role.get("ManagedPolicyArns"), name
        (principal,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert principal["Principal"] == {"Service": "lambda.amazonaws.com"}


def test_no_role_grants_a_wildcard_action_or_a_wildcard_resource_where_aws_scopes_one(packaged):
    unscopable = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "logs:DescribeExportTasks"}
    for name in functions(packaged.template):
        role = packaged.template["Resources"][f"{name}Role"]["Properties"]
        for policy in role["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"]
                actions = actions if isinstance(actions, list) else [actions]
                assert not any("*" in a for a in actions), (name, actions)
                if statement["Resource"] == "*":
                    assert set(actions) <= unscopable, (name, actions)


# --- streams and schedules ----------------------------------------------------------------


def _of_kind(kind):
    return [pytest.param(fn, id=fn.name) for fn in FUNCTIONS if fn.kind == kind]


@pytest.mark.parametrize("fn", _of_kind("stream"))
def test_each_stream_mapping_reports_partial_failures_bisects_and_gives_up_to_a_queue(packaged, fn):
    (event,) = packaged.template["Resources"][fn.name]["Properties"]["Events"].values()
    assert event["Type"] == "DynamoDB"
    props = event["Properties"]
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BisectBatchOnFunctionError"] is True
    assert 0 < props["MaximumRetryAttempts"] <= 20
    assert 60 <= props["MaximumRecordAgeInSeconds"] < 24 * 3600  # inside the retention
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["StreamFailureQueue", "Arn"]
    }
    alarms = packaged.template["Resources"]
    assert alarms[f"{fn.name}IteratorAgeAlarm"]["Properties"]["MetricName"] == "IteratorAge"


def test_the_stream_failure_queue_is_watched(packaged):
    assert "StreamFailureQueueAlarm" in packaged.template["Resources"]


def test_two_readers_at_most_on_the_main_tables_stream(packaged):
    readers = [
        event
        for fn in functions(packaged.template).values()
        for event in fn["Properties"].get("Events", {}).values()
        if event["Type"] == "DynamoDB"
    ]
    assert len(readers) == 2


@pytest.mark.parametrize("fn", _of_kind("schedule"))
def test_schedules_retry_and_keep_what_fails(packaged, fn):
    props = packaged.template["Resources"][fn.name]["Properties"]
    (event,) = props["Events"].values()
    assert event["Type"] == "Schedule"
    assert event["Properties"]["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    queue = {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]}
    assert event["Properties"]["DeadLetterConfig"] == {"Arn": queue}
    assert props["DeadLetterQueue"] == {"Type": "SQS", "TargetArn": queue}


def test_the_schedule_dead_letter_queue_is_watched(packaged):
    assert "ScheduleDeadLetterQueueAlarm" in packaged.template["Resources"]


# --- logs, alarms, API, WAF ---------------------------------------------------------------


def test_every_function_logs_to_the_group_that_is_kept_filtered_and_exported(packaged):
    resources = packaged.template["Resources"]
    for name, fn in functions(packaged.template).items():
        assert fn["Properties"]["LoggingConfig"]["LogGroup"] == {"Ref": "AppLogGroup"}, name
    for name, group in of_type(packaged.template, "AWS::Logs::LogGroup").items():
        assert group["Properties"]["RetentionInDays"] == 14, name
        assert "KmsKeyId" in group["Properties"], name
    assert resources["AuthFailuresMetric"]["Properties"]["LogGroupName"] == {"Ref": "AppLogGroup"}
    assert functions(packaged.template)["LogsExport"]["Properties"]["Environment"]["Variables"][
        "LOG_GROUP_NAME"
    ] == {"Ref": "AppLogGroup"}


def test_every_alarm_notifies_the_encrypted_topic(packaged):
    resources = packaged.template["Resources"]
    assert "KmsMasterKeyId" in resources["AlarmTopic"]["Properties"]
    alarms = of_type(packaged.template, "AWS::CloudWatch::Alarm")
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
    watched = {a["Properties"].get("MetricName") for a in alarms.values()}
    app_metrics = {
        "UnhandledErrors",
        "Throttled",
        "StaffAccess",
        "StreamRecordFailures",
        "AuditWriteFailures",
        "CrmSyncFailed",
        "AuthFailures",
    }
    assert app_metrics | {"5XXError", "Latency", "BlockedRequests", "IteratorAge"} <= watched
    for fn in FUNCTIONS:
        assert f"{fn.name}ErrorsAlarm" in alarms and f"{fn.name}ThrottlesAlarm" in alarms
    throttles = {
        stat["MetricStat"]["Metric"]["MetricName"]
        for name in ("ReadThrottlesAlarm", "WriteThrottlesAlarm")
        for stat in alarms[name]["Properties"]["Metrics"]
        if "MetricStat" in stat
    }
    assert throttles == {"ReadThrottleEvents", "WriteThrottleEvents"}
    detectors = of_type(packaged.template, "AWS::CloudWatch::AnomalyDetector")
    metrics = {
        d["Properties"]["SingleMetricAnomalyDetector"]["MetricName"] for d in detectors.values()
    }
    assert metrics == {"Count", "AuthFailures"}
    assert of_type(packaged.template, "AWS::CloudWatch::Dashboard")


def test_the_api_stage_logs_throttles_and_traces(packaged):
    api = packaged.template["Resources"]["RestAPI"]
    props = api["Properties"]
    assert props["TracingEnabled"] is True
    assert props["AccessLogSetting"]["DestinationArn"] == {
        "Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]
    }
    (method,) = props["MethodSettings"]
    assert method["ThrottlingRateLimit"] > 0 and method["ThrottlingBurstLimit"] > 0
    assert method["DataTraceEnabled"] is False  # bodies carry passwords and contacts
    assert "ApiGatewayAccount" in api["DependsOn"]
    assert props["EndpointConfiguration"] == "REGIONAL"


def test_the_waf_has_managed_rules_logging_and_waits_for_the_stage(packaged):
    resources = packaged.template["Resources"]
    rules = resources["WebAcl"]["Properties"]["Rules"]
    managed = {
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for r in rules
        if "ManagedRuleGroupStatement" in r["Statement"]
    }
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"} <= managed
    assert any("RateBasedStatement" in r["Statement"] for r in rules)
    logging = resources["WafLogging"]["Properties"]
    assert logging["RedactedFields"] == [{"SingleHeader": {"Name": "authorization"}}]
    assert resources["WebAclAssociation"]["DependsOn"] == ["RestAPIapiStage"]


# --- data safety --------------------------------------------------------------------------


def test_every_deletion_policy_has_its_update_replace_policy(packaged):
    for name, res in packaged.template["Resources"].items():
        if "DeletionPolicy" in res:
            assert res.get("UpdateReplacePolicy") == res["DeletionPolicy"], name


def test_every_table_is_protected_recoverable_and_encrypted(packaged):
    tables = of_type(packaged.template, "AWS::DynamoDB::Table")
    assert len(tables) == 5
    for name, table in tables.items():
        props = table["Properties"]
        assert table["DeletionPolicy"] == "Retain", name
        assert props["DeletionProtectionEnabled"] is True, name
        assert props["SSESpecification"]["KMSMasterKeyId"] == {"Ref": "AppKey"}, name
        recoverable = props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]
        # the keys table is the one kept without backups: a destroyed key stays destroyed
        assert recoverable is (name != "KeysTable"), name


def test_the_audit_archive_is_under_object_lock(packaged):
    bucket = packaged.template["Resources"]["LogBucket"]
    props = bucket["Properties"]
    assert props["ObjectLockEnabled"] is True
    rule = props["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    assert rule["Mode"] in ("GOVERNANCE", "COMPLIANCE") and rule["Days"] >= 365
    assert props["VersioningConfiguration"]["Status"] == "Enabled"


def test_the_user_pool_can_be_created_as_written(packaged):
    pool = packaged.template["Resources"]["UserPool"]["Properties"]
    assert pool["UserPoolAddOns"]["AdvancedSecurityMode"] == "ENFORCED"
    assert pool["UserPoolTier"] == "PLUS"  # threat protection exists only on Plus
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    assert pool["DeletionProtection"] == "ACTIVE"


def test_secrets_are_created_by_the_stack_and_encrypted_with_the_app_key(packaged):
    resources = packaged.template["Resources"]
    app = resources["AppSecret"]["Properties"]
    assert app["GenerateSecretString"]["PasswordLength"] >= 32
    client = resources["ClientSecret"]["Properties"]
    assert client["SecretString"] == {"Fn::GetAtt": ["UserPoolClient", "ClientSecret"]}
    for props in (app, client):
        assert props["KmsKeyId"] == {"Fn::GetAtt": ["AppKey", "Arn"]}


# --- the package --------------------------------------------------------------------------


def test_the_package_is_lean(packaged):
    assert packaged.sizes["unzipped"] < 45_000_000, packaged.sizes
    with zipfile.ZipFile(packaged.zip_path) as archive:
        names = archive.namelist()
    tops = {n.split("/", 1)[0] for n in names}
    assert "app.py" in names and "chalice/app.py" in names  # chalice's one runtime module
    assert "chalicelib/api/openapi.json" in names  # what GET /openapi.json serves
    for unwanted in ("pip", "setuptools", "yaml", "click", "moto", "pytest", "inquirer"):
        assert unwanted not in tops, unwanted
    assert not any(n.startswith("phonenumbers/geodata/") for n in names)
    assert not any("__pycache__" in n for n in names)


def test_the_package_keeps_the_api_model_of_every_service_the_code_calls(packaged):
    called = {"dynamodb"}
    for path in (ROOT / "chalicelib").rglob("*.py"):
        called |= set(re.findall(r"aws\.client\(\"([a-z0-9-]+)\"\)", path.read_text()))
    assert called <= SERVICES, sorted(called - SERVICES)
    with zipfile.ZipFile(packaged.zip_path) as archive:
        kept = {n.split("/")[2] for n in archive.namelist() if n.startswith("botocore/data/")}
    kept.discard("")
    assert {s for s in kept if "." not in s} == set(SERVICES)


def test_runtime_requirements_are_only_what_the_functions_import():
    wanted = {
        line.split("==")[0].lower()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert "chalice" not in wanted and "phonenumbers" not in wanted
    assert "phonenumberslite" in wanted


def test_function_inventory_matches_the_template_builder(packaged):
    assert set(functions(packaged.template)) == set(BY_NAME)


def test_every_request_reaches_the_api_function_which_checks_the_token_itself(packaged):
    """No authorizer in front of the API (one invocation a request, not two): the token
    and session are checked in the API function, which answers 401 in the API's shape."""
    api = packaged.template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    assert "securityDefinitions" not in api
    for path, methods in api["paths"].items():
        for method, operation in methods.items():
            assert not operation.get("security"), (method, path)
    assert set(functions(packaged.template)) == {fn.name for fn in FUNCTIONS}
    assert all(fn.kind != "authorizer" for fn in FUNCTIONS)


def test_the_gateways_own_answers_carry_the_apps_security_headers(packaged):
    from chalicelib.api.http import SECURITY_HEADERS

    responses = of_type(packaged.template, "AWS::ApiGateway::GatewayResponse")
    kinds = {response["Properties"]["ResponseType"] for response in responses.values()}
    assert kinds == {"DEFAULT_4XX", "DEFAULT_5XX"}  # 401s are the app's own (no authorizer)
    for name, response in responses.items():
        params = response["Properties"]["ResponseParameters"]
        for header, value in {**SECURITY_HEADERS, "Cache-Control": "no-store"}.items():
            assert params[f"gatewayresponse.header.{header}"] == f"'{value}'", (name, header)


def test_a_stage_cannot_be_deployed_without_a_sender_for_its_e_mails(packaged):
    """The packaged stage confirms sign-ups and resets passwords by e-mailed codes: without
    a sender nobody could finish either, so the parameter is required."""
    parameter = packaged.template["Parameters"]["MailFrom"]
    assert "Default" not in parameter and parameter["AllowedPattern"]


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda fn: fn.name)
def test_every_function_is_given_the_stages_sender(packaged, fn):
    env = packaged.template["Resources"][fn.name]["Properties"]["Environment"]["Variables"]
    assert env["MAIL_FROM"] == {"Ref": "MailFrom"}
