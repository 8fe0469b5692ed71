"""Reading the packaged template as CloudFormation would: intrinsic functions resolved
against the resources of a stack (here: the emulator's), and IAM policies evaluated."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

ACCOUNT = "123456789012"  # moto's account
REGION = "us-east-1"


@dataclass
class Stack:
    """Physical names and attributes of a stack's resources, for resolving intrinsics."""

    refs: dict[str, str]  # logical id -> what Ref gives
    attrs: dict[tuple[str, str], str]  # (logical id, attribute) -> what GetAtt gives
    region: str = REGION
    account: str = ACCOUNT

    def pseudo(self, name: str) -> str:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "vo-test",
        }[name]

    def ref(self, name: str) -> str:
        if name.startswith("AWS::"):
            return self.pseudo(name)
        if name not in self.refs:
            raise KeyError(f"no resource or parameter {name} in this stack")
        return self.refs[name]

    def get_att(self, name: str, attr: str) -> str:
        if (name, attr) not in self.attrs:
            raise KeyError(f"no attribute {name}.{attr} in this stack")
        return self.attrs[(name, attr)]

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                name, attr = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(name, attr)
            if key == "Fn::Sub":
                text, extra = (arg, {}) if isinstance(arg, str) else arg
                extra = {k: self.resolve(v) for k, v in extra.items()}
                return re.sub(r"\$\{([^}]+)\}", lambda m: self._var(m.group(1), extra), text)
            if key == "Fn::Join":
                sep, parts = arg
                return sep.join(self.resolve(parts))
        return {k: self.resolve(v) for k, v in value.items()}

    def _var(self, name: str, extra: dict[str, Any]) -> str:
        if name in extra:
            return str(extra[name])
        if "." in name:
            logical, attr = name.split(".", 1)
            return self.get_att(logical, attr)
        return self.ref(name)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass
class Policy:
    """The Allow statements of a role's policies (the roles use no Deny or NotAction)."""

    statements: list[dict[str, Any]]

    @classmethod
    def of_role(cls, role: dict[str, Any], stack: Stack) -> Policy:
        statements: list[dict[str, Any]] = []
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                assert statement["Effect"] == "Allow", statement
                assert "NotAction" not in statement and "NotResource" not in statement
                statements.append(stack.resolve(statement))
        assert not role["Properties"].get("ManagedPolicyArns"), "roles carry no managed policy"
        return cls(statements)

    def allows(self, action: str, resource: str, context: dict[str, str] | None = None) -> bool:
        for statement in self.statements:
            if not any(
                fnmatchcase(action.lower(), a.lower()) for a in _listed(statement["Action"])
            ):
                continue
            if not any(fnmatchcase(resource, r) for r in _listed(statement["Resource"])):
                continue
            if not _conditions_hold(statement.get("Condition", {}), context or {}):
                continue
            return True
        return False

    def resources(self, service: str) -> set[str]:
        """Every resource pattern a statement grants actions of `service` on."""
        found: set[str] = set()
        for statement in self.statements:
            if any(a.startswith(f"{service}:") for a in _listed(statement["Action"])):
                found.update(_listed(statement["Resource"]))
        return found


def _conditions_hold(conditions: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, tests in conditions.items():
        for key, wanted in tests.items():
            actual = context.get(key)
            if actual is None:
                return False
            if operator == "StringLike":
                if not any(fnmatchcase(actual, w) for w in _listed(wanted)):
                    return False
            elif operator == "StringEquals":
                if actual not in _listed(wanted):
                    return False
            else:
                raise NotImplementedError(operator)
    return True


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: res
        for name, res in template["Resources"].items()
        if res["Type"] == "AWS::Serverless::Function"
    }


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == kind}


def strings(value: Any) -> Iterable[str]:
    """Every string anywhere in a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)
