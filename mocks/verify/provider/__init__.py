"""`mocks verify-provider`: a real or staging provider checked against our contract (Schemathesis)."""

from mocks.verify.provider.command import run_cli, verify_provider
from mocks.verify.provider.options import ProviderOptions
from mocks.verify.provider.schema import schemathesis_document

__all__ = ["ProviderOptions", "run_cli", "schemathesis_document", "verify_provider"]
