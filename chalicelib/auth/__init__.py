"""Authentication and authorization: Cognito, tokens, TOTP and the access policy."""
