"""`make bootstrap` and `make deploy`: the packaged stage, into an AWS account.

    python -m infra.deploy bootstrap
    python -m infra.deploy deploy --stage NAME --mail-from ADDRESS [--out out] [--alarm-email A]
    python -m infra.deploy settings --stage NAME   (shell exports for operator commands)

Credentials and region come from the usual AWS settings (AWS_PROFILE, AWS_REGION, ...).
`bootstrap` creates, once per account and region, the private bucket deployments upload
their code and template to (`vo-deploy-<account>-<region>`). `deploy` uploads
`out/deployment.zip` (named by its SHA-256, so an unchanged package is not sent again) and
`out/sam.json` with its code pointed there, then creates and runs a CloudFormation change
set of the stack `vo-<stage>` and waits for it; the stack gets termination protection.
Then it publishes the admin console's build (`console/dist`, from `make console`) to the
stack's console bucket and invalidates CloudFront's copy of its entry files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]


def bucket_name(account: str, region: str) -> str:
    return f"vo-deploy-{account}-{region}"


def stack_name(stage: str) -> str:
    return f"vo-{stage}"


def with_code_at(template: dict[str, Any], bucket: str, key: str) -> dict[str, Any]:
    """The template with every function's code read from s3://bucket/key."""
    out = json.loads(json.dumps(template))
    found = 0
    for resource in out["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://{bucket}/{key}"
            found += 1
    if not found:
        raise ValueError("the template has no function: is it chalice package's output?")
    return out


def bootstrap(session: Any) -> str:
    """Create the deployment bucket if it is missing; its name."""
    from botocore.exceptions import ClientError

    account = session.client("sts").get_caller_identity()["Account"]
    region = session.region_name
    name = bucket_name(account, region)
    s3 = session.client("s3")
    try:
        s3.head_bucket(Bucket=name, ExpectedBucketOwner=account)
        return name
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("404", "NoSuchBucket"):
            raise
    options: dict[str, Any] = {}
    if region != "us-east-1":
        options["CreateBucketConfiguration"] = {"LocationConstraint": region}
    s3.create_bucket(Bucket=name, **options)
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
        },
    )
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(
        Bucket=name,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "expire-old-packages",
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                }
            ]
        },
    )
    s3.put_bucket_policy(
        Bucket=name,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "TlsOnly",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            }
        ),
    )
    return name


def upload(session: Any, bucket: str, out: Path) -> str:
    """Upload the package and the template pointing at it; the template's URL."""
    from botocore.exceptions import ClientError

    s3 = session.client("s3")
    code = (out / "deployment.zip").read_bytes()
    code_key = f"code/{hashlib.sha256(code).hexdigest()}.zip"
    try:
        s3.head_object(Bucket=bucket, Key=code_key)
    except ClientError:
        s3.put_object(Bucket=bucket, Key=code_key, Body=code)
    template = with_code_at(json.loads((out / "sam.json").read_text()), bucket, code_key)
    body = json.dumps(template).encode()
    template_key = f"templates/{hashlib.sha256(body).hexdigest()}.json"
    s3.put_object(Bucket=bucket, Key=template_key, Body=body)
    return f"https://{bucket}.s3.{session.region_name}.amazonaws.com/{template_key}"


def deploy(
    session: Any, stage: str, out: Path, mail_from: str, alarm_email: str = ""
) -> dict[str, str]:
    """Create or update the stack; its outputs."""
    from botocore.exceptions import ClientError

    account = session.client("sts").get_caller_identity()["Account"]
    bucket = bucket_name(account, session.region_name)
    url = upload(session, bucket, out)
    cfn = session.client("cloudformation")
    name = stack_name(stage)
    try:
        cfn.describe_stacks(StackName=name)
        kind = "UPDATE"
    except ClientError:
        kind = "CREATE"
    change_set = cfn.create_change_set(
        StackName=name,
        ChangeSetName=f"deploy-{hashlib.sha256(url.encode()).hexdigest()[:16]}",
        ChangeSetType=kind,
        TemplateURL=url,
        Capabilities=CAPABILITIES,
        Parameters=[
            {"ParameterKey": "Stage", "ParameterValue": stage},
            {"ParameterKey": "AlarmEmail", "ParameterValue": alarm_email},
            {"ParameterKey": "MailFrom", "ParameterValue": mail_from},
        ],
        Tags=[{"Key": "app", "Value": "volunteer-organizer"}, {"Key": "stage", "Value": stage}],
    )["Id"]
    try:
        cfn.get_waiter("change_set_create_complete").wait(ChangeSetName=change_set)
    except Exception:
        described = cfn.describe_change_set(ChangeSetName=change_set)
        if "didn't contain changes" in described.get("StatusReason", ""):
            print("nothing to change")
            return _outputs(cfn, name)
        raise
    cfn.execute_change_set(ChangeSetName=change_set)
    waiter = "stack_create_complete" if kind == "CREATE" else "stack_update_complete"
    cfn.get_waiter(waiter).wait(StackName=name, WaiterConfig={"Delay": 15, "MaxAttempts": 240})
    cfn.update_termination_protection(EnableTerminationProtection=True, StackName=name)
    return _outputs(cfn, name)


def settings(session: Any, stage: str) -> dict[str, str]:
    """The settings the stage's functions run with (names and ARNs, no secret), for the
    operator commands (`python -m tools....`)."""
    cfn = session.client("cloudformation")
    resource = cfn.describe_stack_resource(
        StackName=stack_name(stage), LogicalResourceId="APIHandler"
    )
    function = resource["StackResourceDetail"]["PhysicalResourceId"]
    config = session.client("lambda").get_function_configuration(FunctionName=function)
    found: dict[str, str] = config.get("Environment", {}).get("Variables", {})
    return found


def _outputs(cfn: Any, name: str) -> dict[str, str]:
    (stack,) = cfn.describe_stacks(StackName=name)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def main(argv: list[str] | None = None) -> int:
    import boto3

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("bootstrap", help="create the deployment bucket of this account/region")
    run = commands.add_parser("deploy", help="deploy out/ as the stack vo-STAGE")
    run.add_argument("--stage", required=True)
    run.add_argument("--out", default="out", type=Path)
    run.add_argument("--alarm-email", default="")
    run.add_argument(
        "--mail-from", required=True, help="a verified SES identity users' e-mails come from"
    )
    show = commands.add_parser("settings", help="print the stage's settings as shell exports")
    show.add_argument("--stage", required=True)
    args = parser.parse_args(argv)
    session = boto3.session.Session()
    if not session.region_name:
        print("set AWS_REGION (or a profile's region) first", file=sys.stderr)
        return 2
    if args.command == "bootstrap":
        print(f"deployment bucket: {bootstrap(session)}")
        return 0
    if args.command == "settings":
        import shlex

        for key, value in sorted(settings(session, args.stage).items()):
            print(f"export {key}={shlex.quote(value)}")
        return 0
    outputs = deploy(session, args.stage, args.out, args.mail_from, args.alarm_email)
    from infra import console

    dist = Path(__file__).resolve().parent.parent / "console" / "dist"
    sent = console.publish(session, outputs["ConsoleBucket"], outputs["ConsoleDistribution"], dist)
    print(f"console: {sent} files published")
    for key, value in sorted(outputs.items()):
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
