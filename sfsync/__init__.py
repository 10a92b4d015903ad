"""sfsync: Salesforce-integrated customer onboarding."""

__version__ = "0.1.0"
