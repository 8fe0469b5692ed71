"""The admin console in AWS: its built files (`console/dist`) in a private S3 bucket, served by
CloudFront, with the API on the same origin under `/api/*` (no CORS, one CSP).

- `ConsoleBucket`: private (public access blocked, ACLs off), encrypted, versioned, TLS only;
  CloudFront alone reads it, through an origin access control (SigV4), and only for this
  distribution (`AWS:SourceArn`).
- `ConsoleDistribution`: `/console/*` from the bucket (files under the `console/` prefix);
  `/api/*` to the API stage `api` (no caching, every viewer header but Host, so the API sees the
  caller's token); HTTPS only. A CloudFront function sends the console's client-side routes
  (paths without a file extension) to `console/index.html`, as the local stack does.
- `ConsoleHeaders`: the console's strict CSP (no inline script or style; connections to this
  origin and to the data bucket, for presigned list uploads), HSTS, nosniff, frame denial.

Behind the distribution, API Gateway sees CloudFront's address as the caller's. So CloudFront
adds a header holding a secret of the stage's own (`OriginSecret`, `X-Origin-Verify`) to every
request it sends the API, and the API takes the viewer's address CloudFront adds
(`CloudFront-Viewer-Address`) as the caller's only when that secret is right
(`chalicelib.api.http.source_ip`): the per-address throttles count each admin apart, and a
caller who reaches API Gateway directly cannot choose the address it is counted under. The
WAF's rate rules, on API Gateway, still see CloudFront's addresses for console traffic. The
mobile app calls the API directly.

`publish()` uploads a build (content types, immutable caching for the hashed assets) and the
`config.json` that points the console at `/api`, then invalidates what may be cached.
"""

from __future__ import annotations

import mimetypes
import time
from pathlib import Path
from typing import Any

Json = dict[str, Any]

# AWS's managed CloudFront policies (their ids are the same in every account)
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"

PREFIX = "console"
ORIGIN_HEADER = "X-Origin-Verify"  # CloudFront's proof to the API (`OriginSecret`)

# viewer-request: a client-side route gets the app's page; "/" goes to the console
ROUTER_CODE = """function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri === "/" || uri === "/console") {
    return { statusCode: 308, statusDescription: "Permanent Redirect",
             headers: { location: { value: "/console/" } } };
  }
  var last = uri.substring(uri.lastIndexOf("/") + 1);
  if (uri.indexOf("/console/") === 0 && last.indexOf(".") === -1) {
    request.uri = "/console/index.html";
  }
  return request;
}
"""


def content_security_policy() -> Json:
    """The console's CSP, with the data bucket's origins for presigned uploads."""
    uploads = "https://${DataBucket}.s3.${AWS::Region}.amazonaws.com https://${DataBucket}.s3.amazonaws.com"
    return {
        "Fn::Sub": (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self' {uploads}; frame-ancestors 'none'; base-uri 'none'; "
            "form-action 'self'; object-src 'none'"
        )
    }


def resources() -> Json:
    bucket_arn = {"Fn::GetAtt": ["ConsoleBucket", "Arn"]}
    distribution_arn = {
        "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/"
        "${ConsoleDistribution}"
    }
    return {
        # CloudFront sends it to the API with every request (`X-Origin-Verify`): a request
        # that carries it came through the distribution, so the viewer's address CloudFront
        # adds (`CloudFront-Viewer-Address`) is the caller's; any other request's is its own
        "OriginSecret": {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {
                "Name": {"Fn::Sub": "vo-${Stage}/origin-secret"},
                "Description": "Proves to the API that a request came through the console's "
                "CloudFront distribution",
                "KmsKeyId": {"Fn::GetAtt": ["AppKey", "Arn"]},
                "GenerateSecretString": {"PasswordLength": 48, "ExcludePunctuation": True},
            },
        },
        "ConsoleBucket": {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Delete",  # a build: `make deploy` uploads it again
            "UpdateReplacePolicy": "Delete",
            "Properties": {
                "BucketName": {"Fn::Sub": "vo-${Stage}-console-${AWS::AccountId}"},
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                    ]
                },
                "VersioningConfiguration": {"Status": "Enabled"},
                "LifecycleConfiguration": {
                    "Rules": [
                        {
                            "Id": "old-builds",
                            "Status": "Enabled",
                            "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                        }
                    ]
                },
            },
        },
        "ConsoleBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "ConsoleBucket"},
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "TlsOnly",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [bucket_arn, {"Fn::Sub": "${ConsoleBucket.Arn}/*"}],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        },
                        {
                            "Sid": "CloudFrontReadsTheConsole",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudfront.amazonaws.com"},
                            "Action": "s3:GetObject",
                            "Resource": {"Fn::Sub": "${ConsoleBucket.Arn}/" + PREFIX + "/*"},
                            "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
                        },
                    ],
                },
            },
        },
        "ConsoleOriginAccess": {
            "Type": "AWS::CloudFront::OriginAccessControl",
            "Properties": {
                "OriginAccessControlConfig": {
                    "Name": {"Fn::Sub": "vo-${Stage}-console"},
                    "OriginAccessControlOriginType": "s3",
                    "SigningBehavior": "always",
                    "SigningProtocol": "sigv4",
                }
            },
        },
        "ConsoleRouter": {
            "Type": "AWS::CloudFront::Function",
            "Properties": {
                "Name": {"Fn::Sub": "vo-${Stage}-console-router"},
                "AutoPublish": True,
                "FunctionCode": ROUTER_CODE,
                "FunctionConfig": {
                    "Comment": "client-side routes of the console get its index.html",
                    "Runtime": "cloudfront-js-2.0",
                },
            },
        },
        "ConsoleHeaders": {
            "Type": "AWS::CloudFront::ResponseHeadersPolicy",
            "Properties": {
                "ResponseHeadersPolicyConfig": {
                    "Name": {"Fn::Sub": "vo-${Stage}-console"},
                    "SecurityHeadersConfig": {
                        "ContentSecurityPolicy": {
                            "ContentSecurityPolicy": content_security_policy(),
                            "Override": True,
                        },
                        "ContentTypeOptions": {"Override": True},
                        "FrameOptions": {"FrameOption": "DENY", "Override": True},
                        "ReferrerPolicy": {"ReferrerPolicy": "no-referrer", "Override": True},
                        "StrictTransportSecurity": {
                            "AccessControlMaxAgeSec": 63072000,
                            "IncludeSubdomains": True,
                            "Override": True,
                        },
                    },
                }
            },
        },
        "ConsoleDistribution": {
            "Type": "AWS::CloudFront::Distribution",
            "Properties": {
                "DistributionConfig": {
                    "Comment": {"Fn::Sub": "vo-${Stage}: the admin console and the API"},
                    "Enabled": True,
                    "HttpVersion": "http2and3",
                    "IPV6Enabled": True,
                    "PriceClass": "PriceClass_100",
                    "Origins": [
                        {
                            "Id": "console",
                            "DomainName": {"Fn::GetAtt": ["ConsoleBucket", "RegionalDomainName"]},
                            "OriginAccessControlId": {"Fn::GetAtt": ["ConsoleOriginAccess", "Id"]},
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                        },
                        {
                            "Id": "api",
                            "DomainName": {
                                "Fn::Sub": "${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
                            },
                            "CustomOriginConfig": {
                                "OriginProtocolPolicy": "https-only",
                                "OriginSSLProtocols": ["TLSv1.2"],
                            },
                            "OriginCustomHeaders": [
                                {
                                    "HeaderName": ORIGIN_HEADER,
                                    "HeaderValue": {
                                        "Fn::Sub": "{{resolve:secretsmanager:${OriginSecret}}}"
                                    },
                                }
                            ],
                        },
                    ],
                    "DefaultCacheBehavior": {
                        "TargetOriginId": "console",
                        "ViewerProtocolPolicy": "redirect-to-https",
                        "AllowedMethods": ["GET", "HEAD"],
                        "Compress": True,
                        "CachePolicyId": CACHING_OPTIMIZED,
                        "ResponseHeadersPolicyId": {"Ref": "ConsoleHeaders"},
                        "FunctionAssociations": [
                            {
                                "EventType": "viewer-request",
                                "FunctionARN": {"Fn::GetAtt": ["ConsoleRouter", "FunctionARN"]},
                            }
                        ],
                    },
                    "CacheBehaviors": [
                        {
                            "PathPattern": "/api/*",
                            "TargetOriginId": "api",
                            "ViewerProtocolPolicy": "https-only",
                            "AllowedMethods": [
                                "GET",
                                "HEAD",
                                "OPTIONS",
                                "PUT",
                                "PATCH",
                                "POST",
                                "DELETE",
                            ],
                            "Compress": True,
                            "CachePolicyId": CACHING_DISABLED,
                            "OriginRequestPolicyId": ALL_VIEWER_EXCEPT_HOST,
                        }
                    ],
                }
            },
        },
    }


def outputs() -> Json:
    return {
        "ConsoleUrl": {
            "Value": {"Fn::Sub": "https://${ConsoleDistribution.DomainName}/" + PREFIX + "/"}
        },
        "ConsoleBucket": {"Value": {"Ref": "ConsoleBucket"}},
        "ConsoleDistribution": {"Value": {"Ref": "ConsoleDistribution"}},
    }


def _content_type(path: Path) -> str:
    types = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
    if path.suffix in types:
        return types[path.suffix]
    guessed = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed


def publish(session: Any, bucket: str, distribution: str | None, dist: Path) -> int:
    """Upload a build of the console and its `config.json` (API under /api); invalidate the
    files whose names do not change. Returns how many files were uploaded."""
    if not (dist / "index.html").is_file():
        raise FileNotFoundError(f"{dist}/index.html: build the console first (make console)")
    s3 = session.client("s3")
    count = 0
    for path in sorted(p for p in dist.rglob("*") if p.is_file()):
        relative = path.relative_to(dist).as_posix()
        hashed = relative.startswith("assets/")
        s3.put_object(
            Bucket=bucket,
            Key=f"{PREFIX}/{relative}",
            Body=path.read_bytes(),
            ContentType=_content_type(path),
            CacheControl="public, max-age=31536000, immutable" if hashed else "no-cache",
        )
        count += 1
    s3.put_object(
        Bucket=bucket,
        Key=f"{PREFIX}/config.json",
        Body=b'{"api_base": "/api", "idle_timeout_seconds": 900}',
        ContentType="application/json",
        CacheControl="no-cache",
    )
    if distribution:
        fixed = [f"/{PREFIX}/index.html", f"/{PREFIX}/config.json"]  # names without a hash
        session.client("cloudfront").create_invalidation(
            DistributionId=distribution,
            InvalidationBatch={
                "Paths": {"Quantity": len(fixed), "Items": fixed},
                "CallerReference": f"console-{time.time_ns()}",
            },
        )
    return count + 1
