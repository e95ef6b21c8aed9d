#!/usr/bin/env python3
"""Translate infra/template.yaml to plain CloudFormation (aws-sam-translator, as CloudFormation's
SAM transform does) and create it as a stack in a moto server; print the stack's resources as
JSON ({"status": ..., "resources": [{"logical": ..., "type": ..., "status": ...}]}).

usage: stack_in_moto.py ENDPOINT TEMPLATE CODE_BUCKET CODE_KEY
The functions' code is taken from s3://CODE_BUCKET/CODE_KEY (a zip already uploaded).
"""
import json
import os
import sys

# the translator looks up the region (for ARNs); moto takes any credentials
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")

import boto3
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    """The template names no managed policies by name; nothing to look up."""

    def load(self):
        return {}


def resolve(cfn, value):
    """A parameter reference, as the stack resolves it with no parameters given: its default."""
    if isinstance(value, dict) and "Ref" in value:
        return cfn.get("Parameters", {}).get(value["Ref"], {}).get("Default")
    return value


def main():
    endpoint, template, bucket, key = sys.argv[1:5]
    with open(template) as f:
        sam = yaml_parse(f.read())
    # local code (CodeUri: ..) becomes the uploaded zip, as `sam package` would do
    globals_fn = sam.setdefault("Globals", {}).setdefault("Function", {})
    globals_fn["CodeUri"] = {"Bucket": bucket, "Key": key}
    cfn = transform(sam, {}, NoManagedPolicies())
    kw = dict(endpoint_url=endpoint, region_name="us-east-1",
              aws_access_key_id="testing", aws_secret_access_key="testing")
    cf = boto3.client("cloudformation", **kw)
    cf.create_stack(StackName="ssm-audit", TemplateBody=json.dumps(cfn),
                    Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    status = cf.describe_stacks(StackName="ssm-audit")["Stacks"][0]["StackStatus"]
    res = cf.list_stack_resources(StackName="ssm-audit")["StackResourceSummaries"]
    lam = boto3.client("lambda", **kw)
    functions = {}
    for f in lam.list_functions()["Functions"]:
        functions[f["FunctionName"]] = {
            "runtime": f.get("Runtime"), "handler": f.get("Handler"),
            "memory": f.get("MemorySize"), "timeout": f.get("Timeout"),
            "env": sorted(f.get("Environment", {}).get("Variables", {})),
            "dead_letter": bool(f.get("DeadLetterConfig", {}).get("TargetArn")),
        }
    # KMS keys from the translated template: moto (5.2) creates them, but cannot describe a
    # key CloudFormation made (it keeps the key policy as a dict, and DescribeKey fails)
    keys = [{"logical": k, "usage": v["Properties"].get("KeyUsage", "ENCRYPT_DECRYPT"),
             "spec": v["Properties"].get("KeySpec", "SYMMETRIC_DEFAULT")}
            for k, v in cfn["Resources"].items() if v["Type"] == "AWS::KMS::Key"]
    events = boto3.client("events", **kw)
    rules = [{"name": r["Name"], "schedule": r.get("ScheduleExpression"),
              "pattern": json.loads(r["EventPattern"]) if r.get("EventPattern") else None}
             for r in events.list_rules()["Rules"]]
    # what moto does not keep (it reports every function as x86_64, with no dead-letter
    # queue): from the translated template, by function name
    translated = {}
    for k, v in cfn["Resources"].items():
        if v["Type"] != "AWS::Lambda::Function":
            continue
        p = v["Properties"]
        name = p.get("FunctionName", {}).get("Fn::Sub", k).replace("${AWS::StackName}", "ssm-audit")
        translated[name] = {
            "architectures": [resolve(cfn, a) for a in p.get("Architectures", [])],
            "dead_letter": "DeadLetterConfig" in p,
            "tracing": p.get("TracingConfig", {}).get("Mode"),
            "env_encrypted": "KmsKeyArn" in p,
            "reserved_concurrency": p.get("ReservedConcurrentExecutions"),
        }
    print(json.dumps({
        "status": status,
        "functions": functions,
        "rules": rules,
        "kms_keys": keys,
        "translated": translated,
        "translated_types": sorted({r["Type"] for r in cfn["Resources"].values()}),
        "resources": [{"logical": r["LogicalResourceId"], "type": r["ResourceType"],
                       "status": r["ResourceStatus"], "physical": r.get("PhysicalResourceId")}
                      for r in res],
    }))


if __name__ == "__main__":
    main()
