"""Salesforce access: authentication, the one request path, SOQL, Bulk API 2.0."""
