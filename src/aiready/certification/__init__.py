"""Certification of gold versions: gate, contract, owner, freshness, classification, inputs."""

from aiready.certification.certify import Certificate, certified_version, evaluate

__all__ = ["Certificate", "certified_version", "evaluate"]
