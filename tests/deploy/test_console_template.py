"""The admin console in the deployment: a private bucket that CloudFront alone reads, one
distribution serving the console and forwarding /api/* to the API, the console's CSP, and
the publishing step of `make deploy` (on the emulator)."""

from __future__ import annotations

import json
import shutil
import subprocess

import boto3
import pytest

from infra import console


def _resources(packaged, kind):
    return {name: r for name, r in packaged.template["Resources"].items() if r["Type"] == kind}


def test_the_console_bucket_is_private_encrypted_versioned_and_tls_only(packaged):
    bucket = packaged.template["Resources"]["ConsoleBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    policy = packaged.template["Resources"]["ConsoleBucketPolicy"]["Properties"]
    statements = policy["PolicyDocument"]["Statement"]
    deny = next(s for s in statements if s["Effect"] == "Deny")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"  # no listing, no writing
    assert "${ConsoleDistribution}" in json.dumps(allow["Condition"]["StringEquals"])


def test_one_distribution_serves_the_console_and_forwards_the_api_over_https(packaged):
    (config,) = [
        d["Properties"]["DistributionConfig"]
        for d in _resources(packaged, "AWS::CloudFront::Distribution").values()
    ]
    origins = {o["Id"]: o for o in config["Origins"]}
    assert origins["console"]["OriginAccessControlId"] == {
        "Fn::GetAtt": ["ConsoleOriginAccess", "Id"]
    }
    assert origins["console"]["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # OAC, not OAI
    assert "${RestAPI}.execute-api" in origins["api"]["DomainName"]["Fn::Sub"]
    assert origins["api"]["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    default = config["DefaultCacheBehavior"]
    assert default["TargetOriginId"] == "console"
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    assert default["ResponseHeadersPolicyId"] == {"Ref": "ConsoleHeaders"}
    (api,) = config["CacheBehaviors"]
    assert api["PathPattern"] == "/api/*" and api["TargetOriginId"] == "api"
    assert api["CachePolicyId"] == console.CACHING_DISABLED  # tokens and answers never cached
    assert api["OriginRequestPolicyId"] == console.ALL_VIEWER_EXCEPT_HOST  # Authorization too
    assert {"POST", "PUT", "PATCH", "DELETE"} <= set(api["AllowedMethods"])
    assert "ConsoleUrl" in packaged.template["Outputs"]


def test_the_console_csp_allows_no_inline_script_and_only_its_upload_bucket():
    csp = console.content_security_policy()["Fn::Sub"]
    assert "script-src 'self';" in csp and "style-src 'self';" in csp
    assert "unsafe" not in csp and "frame-ancestors 'none'" in csp
    assert "connect-src 'self' https://${DataBucket}.s3." in csp


@pytest.mark.skipif(shutil.which("node") is None, reason="node runs the CloudFront function")
@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("/console/", "/console/index.html"),
        ("/console/c/01ABC/actions", "/console/index.html"),
        ("/console/assets/index-abc.js", "/console/assets/index-abc.js"),
        ("/console/config.json", "/console/config.json"),
        ("/", "redirect /console/"),
    ],
)
def test_the_router_sends_client_side_routes_to_the_page(uri, expected):
    script = (
        console.ROUTER_CODE
        + f"var out = handler({{request: {{uri: {json.dumps(uri)}}}}});"
        + "console.log(out.statusCode ? 'redirect ' + out.headers.location.value : out.uri);"
    )
    run = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == expected


def test_publish_uploads_the_build_with_its_types_and_the_api_base(stack, tmp_path):
    session = boto3.session.Session(region_name=stack["AWS_DEFAULT_REGION"])
    s3 = session.client("s3")
    s3.create_bucket(Bucket="vo-test-console")
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html>")
    (tmp_path / "assets" / "index-abc.js").write_text("export {}")
    sent = console.publish(session, "vo-test-console", None, tmp_path)
    assert sent == 3
    page = s3.get_object(Bucket="vo-test-console", Key="console/index.html")
    assert page["ContentType"].startswith("text/html") and page["CacheControl"] == "no-cache"
    script = s3.get_object(Bucket="vo-test-console", Key="console/assets/index-abc.js")
    assert script["ContentType"].startswith("text/javascript")
    assert "immutable" in script["CacheControl"]
    config = s3.get_object(Bucket="vo-test-console", Key="console/config.json")
    assert json.loads(config["Body"].read())["api_base"] == "/api"


def test_publish_refuses_a_missing_build(tmp_path):
    with pytest.raises(FileNotFoundError, match="make console"):
        console.publish(None, "bucket", None, tmp_path)


def test_cloudfront_proves_to_the_api_that_a_request_came_through_it(packaged):
    """The API takes CloudFront's viewer address only with the stage's own origin secret,
    which CloudFront adds to every API request and the API function alone may read."""
    resources = packaged.template["Resources"]
    config = resources["ConsoleDistribution"]["Properties"]["DistributionConfig"]
    api = next(o for o in config["Origins"] if o["Id"] == "api")
    [header] = api["OriginCustomHeaders"]
    assert header["HeaderName"] == console.ORIGIN_HEADER == "X-Origin-Verify"
    assert header["HeaderValue"] == {"Fn::Sub": "{{resolve:secretsmanager:${OriginSecret}}}"}
    secret = resources["OriginSecret"]["Properties"]
    assert secret["GenerateSecretString"]["PasswordLength"] >= 32 and "KmsKeyId" in secret
    readers = [
        name.removesuffix("Role")
        for name, resource in resources.items()
        if resource["Type"] == "AWS::IAM::Role" and "OriginSecret" in json.dumps(resource)
    ]
    assert readers == ["APIHandler"]
