"""Operator commands, run with the deployment's settings in the environment."""
