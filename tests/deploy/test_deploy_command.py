"""`make bootstrap` and the upload half of `make deploy`, on the emulator."""

from __future__ import annotations

import json

import boto3
import pytest

from infra import deploy


@pytest.fixture
def session(stack):
    return boto3.session.Session(region_name=stack["AWS_DEFAULT_REGION"])


def test_bootstrap_makes_a_private_encrypted_versioned_tls_only_bucket_once(session):
    name = deploy.bootstrap(session)
    assert name == "vo-deploy-123456789012-us-east-1"
    assert deploy.bootstrap(session) == name  # a second run changes nothing
    s3 = session.client("s3")
    block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    rules = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    policy = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_upload_sends_the_code_once_and_points_every_function_at_it(session, packaged):
    bucket = deploy.bootstrap(session)
    # the emulator speaks plain HTTP, which the bucket's TLS-only policy refuses
    session.client("s3").delete_bucket_policy(Bucket=bucket)
    url = deploy.upload(session, bucket, packaged.out)
    again = deploy.upload(session, bucket, packaged.out)
    assert url == again
    s3 = session.client("s3")
    key = url.split(".amazonaws.com/", 1)[1]
    template = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    uris = {
        r["Properties"]["CodeUri"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
    }
    (uri,) = uris
    code_key = uri.removeprefix(f"s3://{bucket}/")
    versions = s3.list_object_versions(Bucket=bucket, Prefix=code_key)["Versions"]
    assert len(versions) == 1  # the second upload did not send it again
    body = s3.get_object(Bucket=bucket, Key=code_key)["Body"].read()
    assert body == packaged.zip_path.read_bytes()


def test_a_template_without_functions_is_refused():
    with pytest.raises(ValueError, match="no function"):
        deploy.with_code_at({"Resources": {}}, "b", "k")


def test_stack_and_bucket_names_follow_the_stage():
    assert deploy.stack_name("staging") == "vo-staging"
    assert deploy.bucket_name("1", "eu-west-1") == "vo-deploy-1-eu-west-1"
